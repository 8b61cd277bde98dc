// The figures of chapter 02 (figures.hpp says how a figure is made).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xmanipulation.hpp>

#include "02_fully_connected/fully_connected.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

double d(std::size_t n) {
    return static_cast<double>(n);
}

// Light fills (the colour-blind-safe colours mixed with white) that hold black numbers. Each tensor and its
// gradient share one colour, because they have the same shape.
const std::string x_fill = "#B2D4E8";    // x and dx: blue
const std::string w_fill = "#F2C6A6";    // W and dW: vermillion
const std::string b_fill = "#B2E2D4";    // b and db: green
const std::string out_fill = "#F7DEAA";  // out and dout: orange

// The gnuplot commands that draw a figure: rectangles, labels and arrows in plot coordinates (y grows
// upwards), then an empty plot.
class Canvas {
public:
    void rect(double x0, double y0, double x1, double y1, const std::string& style) {
        s_ << "set object " << ++objects_ << " rect from " << num(x0) << "," << num(y0) << " to " << num(x1) << ","
           << num(y1) << " " << style << "\n";
    }
    void label(const std::string& text, double x, double y, const std::string& style = "center font ',14' front") {
        s_ << "set label " << quoted(text) << " at " << num(x) << "," << num(y) << " " << style << "\n";
    }
    // A dimension line with a short bar at each end, as on a technical drawing.
    void dimension(double x0, double y0, double x1, double y1) {
        s_ << "set arrow from " << num(x0) << "," << num(y0) << " to " << num(x1) << "," << num(y1)
           << " heads size 0.12,90 lw 1.5 lc rgb '#555555' front\n";
    }
    std::string script(double x_min, double x_max, double y_min, double y_max) const {
        std::string s = "unset border\nunset tics\nunset key\nset margins 0,0,0,0\nset size ratio -1\n";
        s += "set xrange [" + num(x_min) + ":" + num(x_max) + "]\nset yrange [" + num(y_min) + ":" + num(y_max) + "]\n";
        return s + s_.str() + "plot 1/0 notitle\n";
    }

private:
    std::ostringstream s_;
    int objects_ = 0;
};

// A matrix drawn to scale: one unit square per element, the element's value in it, its name above, and
// its two sizes on dimension lines (columns along the top edge, rows along the left edge).
struct Block {
    std::string name;  // gnuplot enhanced text, for example "x^T"
    Tensor<2> values;
    std::string fill;
    std::string rows_label;  // for example "N = 2"; empty for a row vector
    std::string cols_label;  // for example "M = 2"
};

// Draws `block` with its left edge at `left`, centred vertically on `centre`; returns its right edge.
double draw(Canvas& canvas, const Block& block, double left, double centre) {
    const std::size_t rows = block.values.shape(0), cols = block.values.shape(1);
    const double top = centre + d(rows) / 2;
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            const double x0 = left + d(c), y1 = top - d(r);
            canvas.rect(x0, y1 - 1, x0 + 1, y1,
                        "fc rgb '" + block.fill + "' fs solid 1.0 border lc rgb '#777777' back");
            canvas.label(num(block.values(r, c), 3), x0 + 0.5, y1 - 0.5);
        }
    }
    const double right = left + d(cols);
    canvas.dimension(left, top + 0.3, right, top + 0.3);
    canvas.label(block.cols_label, (left + right) / 2, top + 0.62, "center font ',12' tc rgb '#555555' front");
    canvas.label(block.name, (left + right) / 2, top + 1.2, "center font ',16' front");
    if (!block.rows_label.empty()) {
        canvas.dimension(left - 0.3, top - d(rows), left - 0.3, top);
        canvas.label(block.rows_label, left - 0.62, centre, "center rotate by 90 font ',12' tc rgb '#555555' front");
    }
    return right;
}

// One equation of blocks and operators, left to right, centred on the height `centre`: a block, then
// (operator, block) pairs. An empty operator is a matrix product. Returns the right edge.
double equation(Canvas& canvas, const Block& first, const std::vector<std::pair<std::string, Block>>& rest,
                double centre, double left = 1.0) {
    double x = draw(canvas, first, left, centre);
    for (const auto& [op, block] : rest) {
        const double op_width = op.size() > 3 ? 1.8 : (op.empty() ? 0.3 : 1.0);  // "= Σ_n" needs more room
        const double margin = block.rows_label.empty() ? 0.3 : 1.0;              // room for the rows label
        if (!op.empty()) canvas.label(op, x + 0.3 + op_width / 2, centre, "center font ',18' front");
        x = draw(canvas, block, x + 0.3 + op_width + margin, centre);
    }
    return x;
}

Tensor<2> row(const Tensor<1>& v) {
    Tensor<2> out = xt::zeros<real>({std::size_t{1}, v.size()});
    for (std::size_t m = 0; m < v.size(); ++m) out(0, m) = v(m);
    return out;
}

// The worked example of README.md section 4, run through the reference layer.
struct Example {
    Tensor<2> x = {{1, 2, 0}, {-1, 0, 1}};
    Tensor<2> dout = {{1, -1}, {2, 0.5}};
    Tensor<2> W, out, dx, dW;
    Tensor<1> b, db;
    std::string N, D, M;  // "N = 2" and so on
};

Example example() {
    Example e;
    Rng rng(1);
    FullyConnected fc(3, 2, rng, "fc1");
    fc.W = Tensor<2>{{1, -1}, {0, 2}, {3, 1}};
    fc.b = Tensor<1>{0.5, -0.5};
    e.out = fc.forward(e.x);
    e.dx = fc.backward(e.dout);
    e.W = fc.W;
    e.b = fc.b;
    e.dW = fc.dW;
    e.db = fc.db;
    e.N = "N = " + std::to_string(e.x.shape(0));
    e.D = "D = " + std::to_string(fc.in_features());
    e.M = "M = " + std::to_string(fc.out_features());
    return e;
}

// (a) Section 2: out = x W + b, every matrix drawn to scale with the worked example's numbers.
Figure forward_shapes() {
    const Example e = example();
    Canvas canvas;
    const double centre = -1.5;
    const double right = equation(canvas, {"out", e.out, out_fill, e.N, e.M},
                                  {{"=", {"x", e.x, x_fill, e.N, e.D}},
                                   {"", {"W", e.W, w_fill, e.D, e.M}},
                                   {"+", {"b", row(e.b), b_fill, "", e.M}}},
                                  centre);
    canvas.label("b is added", right - 1.0, centre - 1.0, "center font ',12' front");
    canvas.label("to each of the N rows", right - 1.0, centre - 1.5, "center font ',12' front");
    canvas.label("(N × M)  =  (N × D) (D × M)  +  (M)", right / 2 + 0.5, -3.9, "center font ',14' front");
    const double x_max = right + 0.6, y_min = -4.5, y_max = 1.8;
    Figure f{"02_fully_connected", "forward_shapes", Kind::plot, 720, 0, 0, canvas.script(-0.1, x_max, y_min, y_max)};
    f.height = static_cast<int>(std::lround(720 * (y_max - y_min) / (x_max + 0.1)));
    return f;
}

// (b) Section 3: the three gradients, drawn to scale. Each gradient has the shape (and the colour) of the
// tensor it belongs to.
Figure backward_shapes() {
    const Example e = example();
    const Tensor<2> xT = xt::transpose(e.x);
    const Tensor<2> WT = xt::transpose(e.W);
    Canvas canvas;
    const double centre_dW = -3.0, centre_dx = -7.6, centre_db = -11.6;
    const double right_dW =
        equation(canvas, {"dW", e.dW, w_fill, e.D, e.M},
                 {{"=", {"x^T", xT, x_fill, e.D, e.N}}, {"", {"dout", e.dout, out_fill, e.N, e.M}}}, centre_dW);
    const double right_dx =
        equation(canvas, {"dx", e.dx, x_fill, e.N, e.D},
                 {{"=", {"dout", e.dout, out_fill, e.N, e.M}}, {"", {"W^T", WT, w_fill, e.M, e.D}}}, centre_dx);
    const double right_db = equation(canvas, {"db", row(e.db), b_fill, "", e.M},
                                     {{"= Σ_n", {"dout", e.dout, out_fill, e.N, e.M}}}, centre_db);
    const double column = std::max({right_dW, right_dx, right_db}) + 0.8;
    const std::string caption = "left font ',13' front";
    canvas.label("(D × M) = (D × N) (N × M)", column, centre_dW, caption);
    canvas.label("(N × D) = (N × M) (M × D)", column, centre_dx, caption);
    canvas.label("(M) = the sum of", column, centre_db + 0.25, caption);
    canvas.label("the N rows of (N × M)", column, centre_db - 0.3, caption);
    const double x_max = column + 7.2, y_min = -13.0, y_max = 0.6;
    Figure f{"02_fully_connected", "backward_shapes", Kind::plot, 720, 0, 0, canvas.script(-0.1, x_max, y_min, y_max)};
    f.height = static_cast<int>(std::lround(720 * (y_max - y_min) / (x_max + 0.1)));
    return f;
}

}  // namespace

std::vector<Figure> chapter02() {
    return {forward_shapes(), backward_shapes()};
}

}  // namespace course::figures
