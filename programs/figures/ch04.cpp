// The figures of chapter 04 (figures.hpp says how a figure is made).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "04_softmax_cross_entropy/softmax_cross_entropy.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

const unsigned blue = 0x0072B2, orange = 0xE69F00, vermillion = 0xD55E00;

// One bar of a bar chart: where it stands, its height and colour, and the text under it.
struct Bar {
    double x, value;
    unsigned colour;      // 0xRRGGBB, for `fc rgb variable`
    std::string tic;      // the text on the x axis; may be empty
    double tic_at = NAN;  // where that text stands; NAN: under the bar
};

// One panel: bars with their values written above (or below, if negative), a title and a y range.
std::string bar_panel(const std::vector<Bar>& bars, const std::string& title, double y_min, double y_max) {
    const double pad = (y_max - y_min) * 0.06;
    std::string s = "set title " + quoted(title) + " font ',13'\n";
    s += "set yrange [" + num(y_min) + ":" + num(y_max) + "]\n";
    double x_max = 0;
    s += "set xtics (";
    bool first = true;
    for (const Bar& b : bars) {
        x_max = std::max(x_max, b.x);
        if (b.tic.empty()) continue;
        s += (first ? "" : ", ") + quoted(b.tic) + " " + num(std::isnan(b.tic_at) ? b.x : b.tic_at);
        first = false;
    }
    s += ") font ',11' nomirror\n";
    s += "set xrange [-0.8:" + num(x_max + 0.8) + "]\n";
    s += "$bars << EOD\n";
    for (const Bar& b : bars) {
        s += num(b.x) + " " + num(b.value) + " " + std::to_string(b.colour) + " " +
             num(b.value + (b.value < 0 ? -pad : pad)) + " " + quoted(num(b.value, 3)) + "\n";
    }
    s += "EOD\n";
    s += "plot $bars using 1:2:3 with boxes fc rgb variable notitle, "
         "$bars using 1:4:5 with labels font ',11' notitle\n";
    return s;
}

const std::string style =
    "set style fill solid 0.85 border lc rgb '#333333'\nset boxwidth 0.8\nset grid ytics lc rgb '#DDDDDD'\n"
    "set xzeroaxis lc rgb '#555555' lw 1.5\nunset key\n";

// The worked example of README.md section 5.
const Tensor<2> example_z = {{1, 2, 3}, {2, 0, 0}};
const Labels example_y = {2, 1};

// The scores of the two samples, class by class, next to each other; an empty slot between the samples.
std::vector<Bar> per_sample(const Tensor<2>& values, const Labels& y) {
    std::vector<Bar> bars;
    for (std::size_t n = 0; n < values.shape(0); ++n) {
        for (std::size_t k = 0; k < values.shape(1); ++k) {
            const std::string tic = std::to_string(k) + (k == y[n] ? " (y)" : "");
            bars.push_back(
                {static_cast<double>(n * (values.shape(1) + 1) + k), values(n, k), n == 0 ? blue : orange, tic});
        }
    }
    return bars;
}

// (a) Section 5: the scores of the worked example and their softmax.
Figure softmax_example() {
    const Tensor<2> p = softmax(example_z);
    std::string s = style + "set multiplot layout 1,2\nset xlabel 'class k' font ',12'\n";
    s += "set label 1 'sample 0' at first 1,graph 0.93 center font ',12' tc rgb '#0072B2'\n";
    s += "set label 2 'sample 1' at first 5,graph 0.93 center font ',12' tc rgb '#E69F00'\n";
    s += bar_panel(per_sample(example_z, example_y), "scores z", -0.4, 4.0);
    s += bar_panel(per_sample(p, example_y), "probabilities p = softmax(z)", 0, 1.1);
    s += "unset multiplot\n";
    return {"04_softmax_cross_entropy", "softmax_example", Kind::plot, 720, 350, 0, s};
}

// (b) Section 2: row 0 of the worked example before and after the shift by its maximum m = 3. The
// exponentials change, the probabilities do not.
Figure max_shift() {
    const std::size_t K = example_z.shape(1);
    Tensor<2> z = xt::zeros<real>({std::size_t{1}, K});
    for (std::size_t k = 0; k < K; ++k) z(0, k) = example_z(0, k);
    const double m = *std::max_element(z.begin(), z.end());
    const Tensor<2> shifted = z - m;
    const Tensor<2> p = softmax(z), p_shifted = softmax(shifted);
    double sum = 0, sum_shifted = 0;
    std::vector<Bar> scores, exps, probs;
    for (std::size_t k = 0; k < K; ++k) {
        const double x = 3.0 * static_cast<double>(k);
        const std::string tic = "k = " + std::to_string(k);
        // The class number stands between its two bars.
        scores.push_back({x, z(0, k), blue, tic, x + 0.5});
        scores.push_back({x + 1, shifted(0, k), orange, "", x + 0.5});
        exps.push_back({x, std::exp(z(0, k)), blue, tic, x + 0.5});
        exps.push_back({x + 1, std::exp(shifted(0, k)), orange, "", x + 0.5});
        probs.push_back({x, p(0, k), blue, tic, x + 0.5});
        probs.push_back({x + 1, p_shifted(0, k), orange, "", x + 0.5});
        sum += std::exp(z(0, k));
        sum_shifted += std::exp(shifted(0, k));
    }
    std::string s = style + "set multiplot layout 3,1 title " +
                    quoted("blue: the scores z = (" + num(z(0, 0)) + ", " + num(z(0, 1)) + ", " + num(z(0, 2)) +
                           ") of row 0;  orange: z - m, shifted by m = " + num(m)) +
                    " font ',13'\n";
    s += bar_panel(scores, "the scores z and z - m", -3.4, 4.2);
    s += bar_panel(exps, "their exp: the sums are " + num(sum) + " and " + num(sum_shifted), 0, 25);
    s += bar_panel(probs, "softmax(z) and softmax(z - m): the same probabilities", 0, 0.85);
    s += "unset multiplot\n";
    return {"04_softmax_cross_entropy", "max_shift", Kind::plot, 640, 720, 0, s};
}

// (c) Section 4: the gradient p - y of each sample of the worked example (each one alone, N = 1): negative
// at the true class only.
Figure gradient_bars() {
    std::string s = style + "set multiplot layout 1,2\n";
    for (std::size_t n = 0; n < example_z.shape(0); ++n) {
        Tensor<2> z = xt::zeros<real>({std::size_t{1}, example_z.shape(1)});
        for (std::size_t k = 0; k < example_z.shape(1); ++k) z(0, k) = example_z(n, k);
        const LossAndGradient g = cross_entropy_loss(z, {example_y[n]});
        std::vector<Bar> bars;
        for (std::size_t k = 0; k < example_z.shape(1); ++k) {
            const bool label = k == example_y[n];
            bars.push_back({static_cast<double>(k), g.dscores(0, k), label ? vermillion : blue,
                            "k = " + std::to_string(k) + (label ? " (y)" : "")});
        }
        s += bar_panel(bars, "sample " + std::to_string(n) + ": p - y, with y = " + std::to_string(example_y[n]), -1.2,
                       1.1);
    }
    s += "unset multiplot\n";
    return {"04_softmax_cross_entropy", "gradient_bars", Kind::plot, 720, 330, 0, s};
}

}  // namespace

std::vector<Figure> chapter04() {
    return {softmax_example(), max_shift(), gradient_bars()};
}

}  // namespace course::figures
