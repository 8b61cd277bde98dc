// The figures of chapter 03 (figures.hpp says how a figure is made).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "03_activations/activations.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

// Evenly spaced inputs from `from` to `to`, one row of a tensor (N = 1, D = count).
Tensor<2> inputs(double from, double to, std::size_t count) {
    Tensor<2> x = xt::zeros<real>({std::size_t{1}, count});
    for (std::size_t i = 0; i < count; ++i) {
        x(0, i) = from + (to - from) * static_cast<double>(i) / static_cast<double>(count - 1);
    }
    return x;
}

// A layer's forward output and its slope: backward with dout = 1 for every element.
template <class Layer>
std::vector<std::vector<double>> curve(Layer& layer, const Tensor<2>& x) {
    const Tensor<2> out = layer.forward(x);
    const Tensor<2> dx = layer.backward(xt::ones_like(x));
    std::vector<std::vector<double>> rows;
    rows.reserve(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) rows.push_back({x.data()[i], out.data()[i], dx.data()[i]});
    return rows;
}

// The two panels' common settings: a grid, the axes through 0, and a key in the top left corner.
const std::string panel_style =
    "set grid lc rgb '#DDDDDD'\n"
    "set key top left box opaque samplen 2 font ',12'\n"
    "set xzeroaxis lc rgb '#999999'\nset yzeroaxis lc rgb '#999999'\n"
    "set xlabel 'x' font ',13'\n";

// (a) Section 3: ReLU and its slope, with the course's convention at the kink (slope 0 at x = 0).
Figure relu() {
    // Steps of 0.1 from -3 to 3, which put one input exactly at 0, and two inputs just beside 0 that show
    // the slope on each side of the kink.
    std::vector<double> xs = {-1e-6, 1e-6};
    for (int i = -30; i <= 30; ++i) xs.push_back(0.1 * i);
    std::sort(xs.begin(), xs.end());
    Tensor<2> x = xt::zeros<real>({std::size_t{1}, xs.size()});
    for (std::size_t i = 0; i < xs.size(); ++i) x(0, i) = xs[i];
    ReLU<2> layer("relu");
    const std::vector<std::vector<double>> rows = curve(layer, x);
    std::vector<std::vector<double>> left, right, kink;
    for (const auto& r : rows) {
        if (r[0] < 0) left.push_back(r);
        if (r[0] > 0) right.push_back(r);
        if (r[0] == 0) kink.push_back(r);
    }
    // The open circle: the slope just right of 0, where the line of slope 1 starts.
    const std::vector<std::vector<double>> from_right = {{0, right.front()[2]}};
    std::string s = datablock("all", rows, 6) + datablock("left", left, 6) + datablock("right", right, 6) +
                    datablock("kink", kink) + datablock("from_right", from_right);
    s += panel_style;
    s += "set xrange [-3:3]\nset yrange [-0.5:3.2]\n";
    s += "set label 'at x = 0: dx = " + num(kink.at(0)[2]) +
         " (the course''s convention)' at 0.2,-0.25 left font ',12' tc rgb '#D55E00' front\n";
    s += "plot $all using 1:2 with lines lw 3 lc rgb '#0072B2' title 'out = max(0, x)', "
         "$left using 1:3 with lines lw 3 dt 2 lc rgb '#D55E00' title 'slope: backward with dout = 1', "
         "$right using 1:3 with lines lw 3 dt 2 lc rgb '#D55E00' notitle, "
         "$kink using 1:3 with points pt 7 ps 1.4 lc rgb '#D55E00' notitle, "
         "$from_right using 1:2 with points pt 6 ps 1.4 lw 2 lc rgb '#D55E00' notitle\n";
    return {"03_activations", "relu", Kind::plot, 640, 360, 0, s};
}

// (b) Section 5: the sigmoid and its slope out (1 - out), at most 0.25 (at x = 0).
Figure sigmoid_curve() {
    Sigmoid<2> layer("sigmoid");
    const std::vector<std::vector<double>> rows = curve(layer, inputs(-8, 8, 161));
    double top = 0;
    for (const auto& r : rows) top = std::max(top, r[2]);
    std::string s = datablock("curve", rows);
    s += panel_style;
    s += "set key top left box opaque samplen 2 font ',12' width 1\n";
    s += "set xrange [-8:8]\nset yrange [-0.05:1.42]\nset ytics 0,0.25,1\n";
    s += "set label 'largest slope: " + num(top) + " at x = 0' at 0.5," + num(top + 0.05) +
         " left font ',12' tc rgb '#D55E00' front\n";
    s += "plot $curve using 1:2 with lines lw 3 lc rgb '#0072B2' title 'out = σ(x)', "
         "$curve using 1:3 with lines lw 3 dt 2 lc rgb '#D55E00' title 'slope out (1 - out): backward, dout = 1'\n";
    return {"03_activations", "sigmoid", Kind::plot, 640, 360, 0, s};
}

// The x nearest to -ln(largest T) at which exp(-x), computed in T, is still finite.
template <class T>
T last_finite(T start) {
    T x = start;
    while (std::isinf(std::exp(-x))) x = std::nextafter(x, T(0));
    while (!std::isinf(std::exp(-std::nextafter(x, T(-1000))))) x = std::nextafter(x, T(-1000));
    return x;
}

// (c) Section 4: exp(-x), the term of the textbook formula 1 / (1 + exp(-x)), on a log axis. In float it
// overflows to infinity below x = -88.72, in double below x = -709.78; the curves stop there. The y axis
// shows log10 of the value, labelled as powers of 10, because the largest double is at the edge of what
// gnuplot's own axis can hold.
Figure sigmoid_overflow() {
    const auto float_limit = static_cast<double>(last_finite<float>(-std::log(std::numeric_limits<float>::max())));
    const double double_limit = last_finite<double>(-std::log(std::numeric_limits<double>::max()));
    const double float_max = std::log10(static_cast<double>(std::numeric_limits<float>::max()));
    const double double_max = std::log10(std::numeric_limits<double>::max());
    std::vector<std::vector<double>> in_float, in_double;
    in_float.push_back({float_limit, std::log10(static_cast<double>(std::exp(-static_cast<float>(float_limit))))});
    in_double.push_back({double_limit, std::log10(std::exp(-double_limit))});
    for (int i = 0; i <= 400; ++i) {
        const double x = -800.0 + 2.0 * i;
        const float e_float = std::exp(-static_cast<float>(x));  // float, as in the training program
        const double e_double = std::exp(-x);
        if (!std::isinf(e_float)) in_float.push_back({x, std::log10(static_cast<double>(e_float))});
        if (!std::isinf(e_double)) in_double.push_back({x, std::log10(e_double)});
    }
    std::string s = datablock("float", in_float, 6) + datablock("double", in_double, 6);
    s += "set ytics (";
    for (int k = 0; k <= 300; k += 50) {
        s += std::string(k > 0 ? ", " : "") + "'10^{" + std::to_string(k) + "}' " + std::to_string(k);
    }
    s += ")\n";
    s += "set xrange [-800:0]\nset yrange [-10:360]\nset grid lc rgb '#DDDDDD'\n";
    s += "set xlabel 'x' font ',13'\nset ylabel 'exp(-x), log scale' font ',13'\n";
    s += "set key top right box opaque font ',12' width 1\n";
    const auto vertical = [](double x, const std::string& colour) {
        return "set arrow from " + num(x, 6) + ",graph 0 to " + num(x, 6) + ",graph 1 nohead dt 2 lw 2 lc rgb '" +
               colour + "' back\n";
    };
    const auto horizontal = [](double y, const std::string& colour) {
        return "set arrow from graph 0,first " + num(y, 6) + " to graph 1,first " + num(y, 6) +
               " nohead dt 3 lw 1.5 lc rgb '" + colour + "' back\n";
    };
    s += vertical(float_limit, "#D55E00") + vertical(double_limit, "#0072B2");
    s += horizontal(float_max, "#D55E00") + horizontal(double_max, "#0072B2");
    const auto label = [](const std::string& text, double x, double y, const std::string& where,
                          const std::string& colour) {
        return "set label " + quoted(text) + " at " + num(x, 6) + "," + num(y, 6) + " " + where +
               " font ',12' tc rgb '" + colour + "' front\n";
    };
    s += label("largest float: 10^{" + num(float_max, 4) + "}", -695, float_max + 12, "left", "#D55E00");
    s += label("largest double: 10^{" + num(double_max, 5) + "}", -695, double_max + 16, "left", "#0072B2");
    s += label("float: inf for x < " + num(float_limit, 5), float_limit, 200, "right offset -0.5,0", "#D55E00");
    s += label("double: inf for x < " + num(double_limit, 5), double_limit, 200, "left offset 0.5,0", "#0072B2");
    s += "plot $double using 1:2 with lines lw 3 lc rgb '#0072B2' title 'exp(-x) in double', "
         "$float using 1:2 with lines lw 6 lc rgb '#D55E00' title 'exp(-x) in float'\n";
    return {"03_activations", "sigmoid_overflow", Kind::plot, 700, 420, 0, s};
}

}  // namespace

std::vector<Figure> chapter03() {
    return {relu(), sigmoid_curve(), sigmoid_overflow()};
}

}  // namespace course::figures
