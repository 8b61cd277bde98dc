// The figures of chapter 05 (figures.hpp says how a figure is made).
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "05_conv2d/conv2d_im2col.hpp"
#include "05_conv2d/conv2d_naive.hpp"
#include "canvas.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

// One colour per window or output element, in the order k = i * Wo + j (colour-blind safe): blue,
// vermillion, green, orange, sky blue, reddish purple.
const std::vector<unsigned> window_colour = {0x0072B2, 0xD55E00, 0x009E73, 0xE69F00, 0x56B4E9, 0xCC79A7};

std::string colour(std::size_t k) {
    return hex(window_colour[k % window_colour.size()]);
}
std::string light(std::size_t k) {
    return tint(window_colour[k % window_colour.size()]);
}

double d(std::size_t n) {
    return static_cast<double>(n);
}

const std::string border_grey = "#E4E4E4";  // cells of zeros that are padding or inserted

// The worked example of README.md section 4: one image, one channel, one filter.
Tensor<4> image(const std::vector<std::vector<double>>& rows) {
    Tensor<4> t = xt::zeros<real>({std::size_t{1}, std::size_t{1}, rows.size(), rows[0].size()});
    for (std::size_t h = 0; h < rows.size(); ++h) {
        for (std::size_t w = 0; w < rows[h].size(); ++w) t(0, 0, h, w) = rows[h][w];
    }
    return t;
}
const Tensor<4> example_x = image({{1, 2, 0}, {0, 1, 3}, {2, 0, 1}});
const Tensor<4> example_W = image({{1, 2}, {-1, 3}});
const Tensor<1> example_b = {1.0};
const Tensor<4> example_dout = image({{1, -1}, {2, 1}});

// A window's outline: rows r0 to r1 - 1, columns c0 to c1 - 1 of grid g.
void outline(Canvas& canvas, const Grid& g, std::size_t r0, std::size_t c0, std::size_t r1, std::size_t c1,
             const std::string& colour, double inset = 0.05, double lw = 3.5) {
    canvas.rect(g.x(d(c0) + inset), g.y(d(r1) - inset), g.x(d(c1) - inset), g.y(d(r0) + inset),
                "fs empty border lc rgb '" + colour + "' lw " + num(lw) + " front");
}

// The 0-based row and column numbers along a grid's left and top edges.
void draw_indices(Canvas& canvas, const Grid& g, std::size_t rows, std::size_t cols) {
    const std::string style = "center font ',10' tc rgb '#777777' front";
    for (std::size_t c = 0; c < cols; ++c) canvas.label(std::to_string(c), g.x(d(c) + 0.5), g.top + 0.25, style);
    for (std::size_t r = 0; r < rows; ++r) canvas.label(std::to_string(r), g.left - 0.25, g.y(d(r) + 0.5), style);
}

using Fill = std::function<std::vector<std::string>(std::size_t, std::size_t)>;
using Text = std::function<std::string(std::size_t, std::size_t)>;

// A whole grid of rows x cols cells: fills, numbers, indices and a title above it.
void draw_grid(Canvas& canvas, const Grid& g, std::size_t rows, std::size_t cols, const Fill& fill, const Text& text,
               const std::string& title, bool indices = true, const std::string& font = "',14'") {
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            draw_cell(canvas, g, r, c, fill(r, c));
            canvas.label(text(r, c), g.x(d(c) + 0.5), g.y(d(r) + 0.5), "center font " + font + " front");
        }
    }
    if (indices) draw_indices(canvas, g, rows, cols);
    if (!title.empty())
        canvas.label(title, g.x(d(cols) / 2), g.top + (indices ? 0.75 : 0.4), "center font ',13' front");
}

// The value of one element of a (1, 1, H, W) tensor, as text.
Text values_of(const Tensor<4>& t) {
    return [&t](std::size_t r, std::size_t c) {
        return num(t(0, 0, r, c));
    };
}
Fill plain(const std::string& colour = "#FFFFFF") {
    return [colour](std::size_t, std::size_t) {
        return std::vector<std::string>{colour};
    };
}

// The gnuplot script around a canvas: no border, no axes, equal scales, the given region.
std::string script(const std::string& body, double x_min, double x_max, double y_min, double y_max) {
    std::string s = "unset border\nunset tics\nunset key\nset margins 0,0,0,0\nset size ratio -1\n";
    s += "set xrange [" + num(x_min) + ":" + num(x_max) + "]\nset yrange [" + num(y_min) + ":" + num(y_max) + "]\n";
    return s + body;
}
int height_for(int width, double x_min, double x_max, double y_min, double y_max) {
    return static_cast<int>(std::lround(width * (y_max - y_min) / (x_max - x_min)));
}

// The plot region of a canvas, in plot coordinates.
struct Region {
    double x_min, x_max, y_min, y_max;
};

// A figure of this chapter from a canvas: its height follows from the width and the region (equal scales).
Figure drawing(const std::string& name, Kind kind, int width, int frame_delay, const Canvas& canvas, const Region& r) {
    return {"05_conv2d",
            name,
            kind,
            width,
            height_for(width, r.x_min, r.x_max, r.y_min, r.y_max),
            frame_delay,
            script(canvas.text(), r.x_min, r.x_max, r.y_min, r.y_max)};
}

// "a·b + c·(−d)": the products of a sum, with negative numbers in parentheses.
std::string factor(double v) {
    return v < 0 ? "(" + num(v) + ")" : num(v);
}

// How many windows read each pixel of the padded input: col2im of a matrix of ones (section 7).
Tensor<4> window_counts(std::size_t H, std::size_t W, std::size_t K, int stride, int pad) {
    const Tensor<4> x = xt::zeros<real>({std::size_t{1}, std::size_t{1}, H, W});
    const Tensor<4> kernel = xt::zeros<real>({std::size_t{1}, std::size_t{1}, K, K});
    const ConvSizes s = conv_sizes("figure", x, kernel, stride, pad);
    const Tensor<2> ones = xt::ones<real>({s.C * s.KH * s.KW, s.N * s.Ho * s.Wo});
    return col2im(ones, s);
}

// (a) Section 4.3: the padded input, its four windows (stride 2, so they do not overlap) and the outputs
// they make.
Figure padded_windows() {
    const int S = 2, P = 1;
    const Tensor<4> xp = zero_pad(example_x, P);
    const Tensor<4> out = conv2d_forward_naive(example_x, example_W, example_b, S, P);
    const ConvSizes s = conv_sizes("figure", example_x, example_W, S, P);
    const Tensor<4> counts = window_counts(s.H, s.W, s.KH, S, P);
    Canvas canvas;
    const Grid gx{0, 0, 1};
    const auto window_of = [&](std::size_t r, std::size_t c) {
        return (r / s.stride) * s.Wo + c / s.stride;
    };
    const Fill xp_fill = [&](std::size_t r, std::size_t c) {
        if (counts(0, 0, r, c) == 0) return std::vector<std::string>{border_grey};
        return std::vector<std::string>{light(window_of(r, c))};
    };
    const Text xp_text = [&](std::size_t r, std::size_t c) {
        const bool border = r < s.pad || c < s.pad || r >= s.pad + s.H || c >= s.pad + s.W;
        return border ? "{/:Italic 0}" : num(xp(0, 0, r, c));
    };
    draw_grid(canvas, gx, s.Hp, s.Wp, xp_fill, xp_text, "xp: x padded with pad = 1");
    for (std::size_t i = 0; i < s.Ho; ++i) {
        for (std::size_t j = 0; j < s.Wo; ++j) {
            outline(canvas, gx, i * s.stride, j * s.stride, i * s.stride + s.KH, j * s.stride + s.KW,
                    colour(i * s.Wo + j));
        }
    }
    canvas.label("row 4 and column 4: no window reads them", d(s.Wp) / 2, -d(s.Hp) - 0.45, "center font ',12' front");
    const Grid gw{d(s.Wp) + 1.6, -0.6, 1};
    draw_grid(canvas, gw, s.KH, s.KW, plain(), values_of(example_W), "W (KH = KW = 2)");
    canvas.label("b = " + num(example_b(0)), gw.x(1), gw.y(2) - 0.5);
    const Grid go{gw.left + 4.2, -1.5, 1.3};
    const Fill out_fill = [&](std::size_t i, std::size_t j) {
        return std::vector<std::string>{light(i * s.Wo + j)};
    };
    draw_grid(canvas, go, s.Ho, s.Wo, out_fill, values_of(out), "out (Ho = Wo = 2)");
    canvas.arrow(gw.left + 2.3, -2.8, go.left - 0.45, -2.8);
    canvas.label("S = 2", gw.left + 3.0, -2.45, "center font ',12' front");
    // The sum of one output, written out: out(1, 1) from the window at rows 2-3, columns 2-3 of xp.
    std::string sum = "out(1,1) = " + num(example_b(0)) + " + (";
    for (std::size_t p = 0; p < s.KH; ++p) {
        for (std::size_t q = 0; q < s.KW; ++q) {
            sum += (p + q > 0 ? " + " : "") + num(xp(0, 0, 2 + p, 2 + q)) + "·" + factor(example_W(0, 0, p, q));
        }
    }
    sum += ") = " + num(out(0, 0, 1, 1));
    canvas.label(sum, gw.left + 3.4, -d(s.Hp) + 0.3, "center font ',12' front");
    canvas.plot();
    const double x_min = -0.7, x_max = go.left + 2 * go.cell + 0.3, y_min = -d(s.Hp) - 0.9, y_max = 1.3;
    const int width = 700;
    return drawing("padded_windows", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (b) Section 2's table: a 6 x 8 input, a 3 x 3 kernel, stride 2. Six windows; row 5 and column 7 are read
// by none of them (the counts come from col2im of ones).
Figure stride_unread() {
    const std::size_t H = 6, W = 8, K = 3;
    const int S = 2;
    const Tensor<4> counts = window_counts(H, W, K, S, 0);
    const std::size_t Ho = conv_output_size(H, K, S, 0), Wo = conv_output_size(W, K, S, 0);
    Canvas canvas;
    const Grid gx{0, 0, 1};
    const Fill fill = [&](std::size_t r, std::size_t c) {
        return std::vector<std::string>{counts(0, 0, r, c) == 0 ? "#BBBBBB" : "#FFFFFF"};
    };
    const Text text = [&](std::size_t r, std::size_t c) {
        return counts(0, 0, r, c) == 0 ? std::string("{/:Bold 0}") : std::string();
    };
    draw_grid(canvas, gx, H, W, fill, text, "x: H = 6, W = 8; windows KH = KW = 3, stride S = 2");
    for (std::size_t i = 0; i < Ho; ++i) {
        for (std::size_t j = 0; j < Wo; ++j) {
            const double inset = 0.06 + 0.1 * d((i + j) % 2);
            outline(canvas, gx, i * S, j * S, i * S + K, j * S + K, colour(i * Wo + j), inset, 3);
        }
    }
    const Grid go{d(W) + 2.6, -1.5, 1.2};
    const Fill out_fill = [&](std::size_t i, std::size_t j) {
        return std::vector<std::string>{light(i * Wo + j)};
    };
    const Text out_text = [](std::size_t i, std::size_t j) {
        return "(" + std::to_string(i) + "," + std::to_string(j) + ")";
    };
    draw_grid(canvas, go, Ho, Wo, out_fill, out_text, "out: Ho = 2, Wo = 3", true, "',12'");
    canvas.arrow(d(W) + 0.4, -2.7, go.left - 0.45, -2.7);
    canvas.label("Ho = ⌊(6 − 3) / 2⌋ + 1 = " + std::to_string(Ho), go.x(1.5), go.y(2) - 0.8, "center font ',12' front");
    canvas.label("Wo = ⌊(8 − 3) / 2⌋ + 1 = " + std::to_string(Wo), go.x(1.5), go.y(2) - 1.5, "center font ',12' front");
    canvas.label("grey 0: row 5 and column 7 are read by no window, so their dx is 0", d(W) / 2 + 1.5, -d(H) - 0.5,
                 "center font ',12' front");
    canvas.plot();
    const double x_min = -0.7, x_max = go.left + 3 * go.cell + 0.4, y_min = -d(H) - 1.0, y_max = 1.3;
    const int width = 700;
    return drawing("stride_unread", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (c) Section 4.1: pixel x(1, 1) lies in all four windows, each time under another weight. Its gradient is
// the sum of dout times that weight, the number conv2d_backward_naive gives.
Figure one_pixel() {
    const ConvSizes s = conv_sizes("figure", example_x, example_W, 1, 0);
    const ConvGrads g = conv2d_backward_naive(example_dout, example_x, example_W, 1, 0);
    const std::size_t h = 1, w = 1;
    Canvas canvas;
    const double step_x = d(s.W) + 2.6, step_y = d(s.H) + 2.3;
    std::string sum;
    for (std::size_t i = 0; i < s.Ho; ++i) {
        for (std::size_t j = 0; j < s.Wo; ++j) {
            const std::size_t k = i * s.Wo + j, p = h - i, q = w - j;
            const Grid gx{d(j) * step_x, -d(i) * step_y, 1};
            const Fill fill = [&](std::size_t r, std::size_t c) {
                const bool inside = r >= i && r < i + s.KH && c >= j && c < j + s.KW;
                return std::vector<std::string>{inside ? light(k) : "#FFFFFF"};
            };
            const Text text = [&](std::size_t r, std::size_t c) {
                const std::string v = num(example_x(0, 0, r, c));
                return r == h && c == w ? "{/:Bold " + v + "}" : v;
            };
            draw_grid(canvas, gx, s.H, s.W, fill, text,
                      "window of out(" + std::to_string(i) + "," + std::to_string(j) + ")", false);
            outline(canvas, gx, i, j, i + s.KH, j + s.KW, colour(k));
            outline(canvas, gx, h, w, h + 1, w + 1, "#000000", 0.12, 2.5);
            const double weight = example_W(0, 0, p, q), up = example_dout(0, 0, i, j);
            canvas.label("weight W(0,0," + std::to_string(p) + "," + std::to_string(q) + ") = " + num(weight),
                         gx.x(1.5), gx.y(3) - 0.45, "center font ',12' front");
            canvas.label("dout(" + std::to_string(i) + "," + std::to_string(j) + ") = " + num(up), gx.x(1.5),
                         gx.y(3) - 1.05, "center font ',12' tc rgb '" + colour(k) + "' front");
            sum += (sum.empty() ? "" : " + ") + factor(up) + "·" + factor(weight);
        }
    }
    const double right = 2 * step_x - 0.6;
    canvas.label("dx(0,0,1,1) = Σ dout(i,j) · W(0,0,1−i,1−j)", right + 2.6, -2.0, "center font ',13' front");
    canvas.label("= " + sum, right + 2.6, -2.9, "center font ',13' front");
    canvas.label("{/:Bold = " + num(g.dx(0, 0, h, w)) + "}", right + 2.6, -3.8, "center font ',13' front");
    canvas.label("the top-left output uses the", right + 2.6, -5.6, "center font ',12' front");
    canvas.label("bottom-right weight: the flip", right + 2.6, -6.3, "center font ',12' front");
    canvas.plot();
    const double x_min = -0.6, x_max = right + 5.5, y_min = -step_y - d(s.H) - 1.4, y_max = 0.9;
    const int width = 760;
    return drawing("one_pixel_four_windows", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (d) Section 3.3 with the numbers of 4.1: dW(p, q) is the sum of x times dout, with dout laid on x at
// offset (p, q): the correlation of x with dout.
Figure dw_correlation() {
    const ConvSizes s = conv_sizes("figure", example_x, example_W, 1, 0);
    const ConvGrads g = conv2d_backward_naive(example_dout, example_x, example_W, 1, 0);
    Canvas canvas;
    const double step_x = d(s.W) + 2.8, step_y = d(s.H) + 2.3;
    for (std::size_t p = 0; p < s.KH; ++p) {
        for (std::size_t q = 0; q < s.KW; ++q) {
            const Grid gx{d(q) * step_x, -d(p) * step_y, 1};
            const std::size_t k = p * s.KW + q;
            const Fill fill = [&](std::size_t r, std::size_t c) {
                const bool inside = r >= p && r < p + s.Ho && c >= q && c < q + s.Wo;
                return std::vector<std::string>{inside ? light(k) : "#FFFFFF"};
            };
            draw_grid(canvas, gx, s.H, s.W, fill, values_of(example_x),
                      "dout laid on x at (" + std::to_string(p) + "," + std::to_string(q) + ")", false);
            outline(canvas, gx, p, q, p + s.Ho, q + s.Wo, colour(k));
            std::string sum;
            for (std::size_t i = 0; i < s.Ho; ++i) {
                for (std::size_t j = 0; j < s.Wo; ++j) {
                    const double up = example_dout(0, 0, i, j);
                    // the dout factor, small, in the cell's lower right corner
                    canvas.label("×" + num(up), gx.x(d(q + j) + 0.72), gx.y(d(p + i) + 0.8),
                                 "center font ',10' tc rgb '" + colour(k) + "' front");
                    sum += (sum.empty() ? "" : " + ") + num(example_x(0, 0, p + i, q + j)) + "·" + factor(up);
                }
            }
            canvas.label("dW(0,0," + std::to_string(p) + "," + std::to_string(q) + ") = " + sum, gx.x(1.5),
                         gx.y(3) - 0.45, "center font ',11' front");
            canvas.label("{/:Bold = " + num(g.dW(0, 0, p, q)) + "}", gx.x(1.5), gx.y(3) - 1.05,
                         "center font ',12' front");
        }
    }
    const double right = 2 * step_x - 0.4;
    const Grid gd{right + 0.6, -1.0, 1};
    draw_grid(canvas, gd, s.Ho, s.Wo, plain(), values_of(example_dout), "dout");
    const Fill dw_fill = [&](std::size_t p, std::size_t q) {
        return std::vector<std::string>{light(p * s.KW + q)};
    };
    const Grid gw{right + 0.6, -step_y - 1.0, 1};
    draw_grid(canvas, gw, s.KH, s.KW, dw_fill, values_of(g.dW), "dW");
    canvas.plot();
    const double x_min = -1.0, x_max = right + 3.0, y_min = -step_y - d(s.H) - 1.4, y_max = 0.9;
    const int width = 720;
    return drawing("dw_correlation", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (e) Sections 3.4 to 3.6 with the numbers of 4.3 (stride 2, padding 1): dilate dout, pad it, correlate
// with the flipped kernel, crop. dxp is the gradient of xp: conv2d_backward_naive on xp without padding.
Figure dx_steps() {
    const int S = 2, P = 1;
    const ConvSizes s = conv_sizes("figure", example_x, example_W, S, P);
    const Tensor<4> xp = zero_pad(example_x, s.pad);
    const Tensor<4> dxp = conv2d_backward_naive(example_dout, xp, example_W, S, 0).dx;
    const Tensor<4> dx = conv2d_backward_naive(example_dout, example_x, example_W, S, P).dx;
    // dd as the code makes it: dout(i, j) at (KH - 1 + iS, KW - 1 + jS) of a (Hp + KH - 1, Wp + KW - 1) grid.
    const std::size_t Hd = s.Hp + s.KH - 1, Wd = s.Wp + s.KW - 1;
    std::vector<std::vector<int>> owner(Hd, std::vector<int>(Wd, -1));  // which dout element sits there
    for (std::size_t i = 0; i < s.Ho; ++i) {
        for (std::size_t j = 0; j < s.Wo; ++j) {
            owner[s.KH - 1 + i * s.stride][s.KW - 1 + j * s.stride] = static_cast<int>(i * s.Wo + j);
        }
    }
    const auto dd = [&](std::size_t r, std::size_t c) {
        const int k = owner[r][c];
        return k < 0 ? 0.0 : example_dout(0, 0, static_cast<std::size_t>(k) / s.Wo, static_cast<std::size_t>(k) % s.Wo);
    };
    // The full correlation of dd with the flipped kernel must give the reference's dxp.
    for (std::size_t h = 0; h < s.Hp; ++h) {
        for (std::size_t w = 0; w < s.Wp; ++w) {
            double sum = 0;
            for (std::size_t p = 0; p < s.KH; ++p) {
                for (std::size_t q = 0; q < s.KW; ++q)
                    sum += dd(h + p, w + q) * example_W(0, 0, s.KH - 1 - p, s.KW - 1 - q);
            }
            if (std::fabs(sum - dxp(0, 0, h, w)) > 1e-12) throw std::runtime_error("figure dx_steps: dd is wrong");
        }
    }
    Canvas canvas;
    const Fill dout_fill = [&](std::size_t i, std::size_t j) {
        return std::vector<std::string>{light(i * s.Wo + j)};
    };
    // 1. dout
    const Grid g1{0, -1.5, 1};
    draw_grid(canvas, g1, s.Ho, s.Wo, dout_fill, values_of(example_dout), "1. dout");
    // 2. dilated: S - 1 = 1 zero between neighbours
    const std::size_t Hdil = (s.Ho - 1) * s.stride + 1, Wdil = (s.Wo - 1) * s.stride + 1;
    const Grid g2{3.8, -1.0, 1};
    const Fill dil_fill = [&](std::size_t r, std::size_t c) {
        const int k = owner[s.KH - 1 + r][s.KW - 1 + c];
        return std::vector<std::string>{k < 0 ? border_grey : light(static_cast<std::size_t>(k))};
    };
    const Text dil_text = [&](std::size_t r, std::size_t c) {
        return num(dd(s.KH - 1 + r, s.KW - 1 + c));
    };
    draw_grid(canvas, g2, Hdil, Wdil, dil_fill, dil_text, "2. dilate: S − 1 = 1 zero between");
    canvas.arrow(g1.x(2) + 0.3, -2.0, g2.left - 0.45, -2.0);
    // 3. padded: KH - 1 zeros above and left, up to Hp + KH - 1 rows
    const Grid g3{g2.x(d(Wdil)) + 2.2, 0, 1};
    const std::size_t hi_h = 1, hi_w = 1;  // the window of dd that makes dxp(1, 1)
    const Fill dd_fill = [&](std::size_t r, std::size_t c) {
        const int k = owner[r][c];
        return std::vector<std::string>{k < 0 ? border_grey : light(static_cast<std::size_t>(k))};
    };
    const Text dd_text = [&](std::size_t r, std::size_t c) {
        return num(dd(r, c));
    };
    draw_grid(canvas, g3, Hd, Wd, dd_fill, dd_text, "3. pad: dd, Hp + KH − 1 = 6 rows");
    outline(canvas, g3, hi_h, hi_w, hi_h + s.KH, hi_w + s.KW, "#000000", 0.06, 3);
    canvas.arrow(g2.x(d(Wdil)) + 0.3, -2.0, g3.left - 0.45, -2.0);
    // 4. flipped kernel
    const double row2 = -d(Hd) - 2.0;
    const Grid g4{0.0, row2 - 1.0, 1};
    const Text flip_text = [&](std::size_t p, std::size_t q) {
        return num(example_W(0, 0, s.KH - 1 - p, s.KW - 1 - q));
    };
    draw_grid(canvas, g4, s.KH, s.KW, plain(), flip_text, "4. flip W");
    canvas.label("W before the flip", g4.x(1), g4.y(2.6), "center font ',11' front");
    const Grid g4b{0.3, g4.y(2.9), 0.7};
    for (std::size_t p = 0; p < s.KH; ++p) {
        for (std::size_t q = 0; q < s.KW; ++q) {
            draw_cell(canvas, g4b, p, q, {"#FFFFFF"});
            canvas.label(num(example_W(0, 0, p, q)), g4b.x(d(q) + 0.5), g4b.y(d(p) + 0.5), "center font ',11' front");
        }
    }
    // 5. dxp: the correlation of dd with the flipped kernel; its border is cut off in step 6
    const Grid g5{4.6, row2, 1};
    const Fill dxp_fill = [&](std::size_t r, std::size_t c) {
        const bool border = r < s.pad || c < s.pad || r >= s.pad + s.H || c >= s.pad + s.W;
        return std::vector<std::string>{border ? border_grey : "#FFFFFF"};
    };
    draw_grid(canvas, g5, s.Hp, s.Wp, dxp_fill, values_of(dxp), "5. correlate dd with it: dxp");
    outline(canvas, g5, hi_h, hi_w, hi_h + 1, hi_w + 1, "#000000", 0.06, 3);
    canvas.arrow(g4.x(2) + 0.4, row2 - 2.0, g5.left - 0.45, row2 - 2.0);
    std::string sum;
    for (std::size_t p = 0; p < s.KH; ++p) {
        for (std::size_t q = 0; q < s.KW; ++q) {
            sum += (sum.empty() ? "" : " + ") + factor(dd(hi_h + p, hi_w + q)) + "·" +
                   factor(example_W(0, 0, s.KH - 1 - p, s.KW - 1 - q));
        }
    }
    canvas.label("dxp(1,1) = " + sum + " = " + num(dxp(0, 0, hi_h, hi_w)), g5.x(2.5), row2 - d(s.Hp) - 0.5,
                 "center font ',12' front");
    // 6. crop the border of width P
    const Grid g6{g5.x(d(s.Wp)) + 2.2, row2 - 1.0, 1};
    draw_grid(canvas, g6, s.H, s.W, plain(), values_of(dx), "6. crop pad = 1: dx");
    canvas.arrow(g5.x(d(s.Wp)) + 0.3, row2 - 2.0, g6.left - 0.45, row2 - 2.0);
    canvas.plot();
    const double x_min = -1.3, x_max = std::max(g3.x(d(Wd)), g6.x(d(s.W))) + 0.4;
    const double y_min = row2 - d(s.Hp) - 1.0, y_max = 1.3;
    const int width = 760;
    return drawing("dx_steps", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (f) Section 6 with the numbers of 4.1: every window becomes one column of cols, every filter one row of
// W2, and out2 = W2 cols + b.
Figure im2col_matrix() {
    const ConvSizes s = conv_sizes("figure", example_x, example_W, 1, 0);
    const Tensor<2> cols = im2col(zero_pad(example_x, s.pad), s);
    const Tensor<2> W2 = weights_as_matrix(example_W);
    const Tensor<4> out = conv2d_forward_gemm(cols, example_W, example_b, s);
    const std::size_t R = cols.shape(0), Kc = cols.shape(1);
    Canvas canvas;
    // x, each pixel striped with the colours of the windows that read it
    const Grid gx{0.4, -0.8, 1};
    draw_grid(canvas, gx, s.H, s.W, plain(), values_of(example_x), "x: 4 windows of 2 × 2");
    for (std::size_t i = 0; i < s.Ho; ++i) {
        for (std::size_t j = 0; j < s.Wo; ++j) {
            outline(canvas, gx, i, j, i + s.KH, j + s.KW, colour(i * s.Wo + j), 0.06 + 0.1 * d(i * s.Wo + j), 3);
        }
    }
    // cols
    const Grid gc{7.2, 0, 1};
    const Fill col_fill = [&](std::size_t, std::size_t k) {
        return std::vector<std::string>{light(k)};
    };
    const Text col_text = [&](std::size_t r, std::size_t k) {
        return num(cols(r, k));
    };
    draw_grid(canvas, gc, R, Kc, col_fill, col_text, "", false);
    for (std::size_t k = 0; k < Kc; ++k) {
        canvas.label("(" + std::to_string(k / s.Wo) + "," + std::to_string(k % s.Wo) + ")", gc.x(d(k) + 0.5),
                     gc.top + 0.3, "center font ',11' tc rgb '" + colour(k) + "' front");
    }
    for (std::size_t r = 0; r < R; ++r) {
        canvas.label("(0," + std::to_string(r / s.KW) + "," + std::to_string(r % s.KW) + ")", gc.left - 0.15,
                     gc.y(d(r) + 0.5), "right font ',11' tc rgb '#555555' front");
    }
    canvas.label("cols: one column per window (i,j)", gc.x(2), gc.top + 1.35, "center font ',13' front");
    canvas.label("N·Ho·Wo = 1·2·2 = " + std::to_string(Kc) + " columns", gc.x(2), gc.top + 0.85,
                 "center font ',12' front");
    canvas.label("C·KH·KW = 1·2·2 = " + std::to_string(R) + " rows,", gc.x(d(Kc)) + 0.3, gc.y(1.6),
                 "left font ',12' front");
    canvas.label("one per weight (c,p,q)", gc.x(d(Kc)) + 0.3, gc.y(2.4), "left font ',12' front");
    canvas.arrow(gx.x(3) + 0.3, gx.y(1.5), gc.left - 1.3, gx.y(1.5));
    canvas.label("im2col", (gx.x(3) + gc.left - 1.0) / 2, gx.y(1.5) + 0.35, "center font ',12' front");
    // W2 to the left of out2, out2 under cols
    const double row2 = gc.y(d(R)) - 1.6;
    const Grid gw{gc.left - d(R) - 1.6, row2, 1};
    const Text w_text = [&](std::size_t f, std::size_t r) {
        return num(W2(f, r));
    };
    draw_grid(canvas, gw, W2.shape(0), R, plain(), w_text, "", false);
    for (std::size_t r = 0; r < R; ++r) {
        canvas.label("(0," + std::to_string(r / s.KW) + "," + std::to_string(r % s.KW) + ")", gw.x(d(r) + 0.5),
                     gw.top + 0.3, "center font ',11' tc rgb '#555555' front");
    }
    canvas.label("W2: one row per filter, F = 1", gw.x(2), gw.y(1) - 0.45, "center font ',12' front");
    const Grid go{gc.left, row2, 1};
    const Text o_text = [&](std::size_t, std::size_t k) {
        return num(out(0, 0, k / s.Wo, k % s.Wo));
    };
    draw_grid(canvas, go, 1, Kc, col_fill, o_text, "", false);
    canvas.label("out2 = W2 · cols + b  (b = " + num(example_b(0)) + ")", go.x(2), go.y(1) - 0.45,
                 "center font ',12' front");
    canvas.label("F × N·Ho·Wo = 1 × 4", go.x(2), go.y(1) - 1.05, "center font ',12' front");
    canvas.plot();
    const double x_min = -0.7, x_max = gc.x(d(Kc)) + 4.6, y_min = row2 - 2.5, y_max = 1.7;
    const int width = 720;
    return drawing("im2col_matrix", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (g) Section 7: col2im of a matrix of ones counts the windows that read each pixel. Three cases: the
// worked example, a 3 x 3 kernel with stride 2 (at most ⌈KH/S⌉·⌈KW/S⌉ = 4), and the 6 x 8 input of the
// table in section 2, where row 5 and column 7 count 0.
Figure window_count_map() {
    struct Case {
        std::size_t H, W, K;
        int S;
        std::string title;
    };
    const std::vector<Case> cases = {{3, 3, 2, 1, "x: 3 × 3"}, {7, 7, 3, 2, "x: 7 × 7"}, {6, 8, 3, 2, "x: 6 × 8"}};
    Canvas canvas;
    double left = 0;
    for (const Case& c : cases) {
        const Tensor<4> counts = window_counts(c.H, c.W, c.K, c.S, 0);
        const double top = c.H < 5 ? -2.0 : 0.0;
        const Grid g{left, top, 1};
        double most = 0;
        for (const double v : counts) most = std::max(most, v);
        const Fill fill = [&](std::size_t r, std::size_t col) {
            const double v = counts(0, 0, r, col);
            if (v == 0) return std::vector<std::string>{"#BBBBBB"};
            // from a light to a full blue: 4 windows (the most in the last two cases) is full
            const auto percent = static_cast<unsigned>(std::lround(15 + 60 * std::min(v, 4.0) / 4.0));
            return std::vector<std::string>{tint(0x0072B2, percent)};
        };
        const Text text = [&](std::size_t r, std::size_t col) {
            const double v = counts(0, 0, r, col);
            const std::string t = num(v);
            return v >= 3 ? "{/:Bold " + t + "}" : t;
        };
        draw_grid(canvas, g, c.H, c.W, fill, text, "");
        canvas.label(c.title, g.x(d(c.W) / 2), g.top + 1.5, "center font ',13' front");
        canvas.label("KH = KW = " + std::to_string(c.K) + ", S = " + std::to_string(c.S), g.x(d(c.W) / 2), g.top + 0.9,
                     "center font ',13' front");
        const std::size_t bound = (c.K + static_cast<std::size_t>(c.S) - 1) / static_cast<std::size_t>(c.S);
        canvas.label("most: " + num(most) + " = ⌈KH/S⌉·⌈KW/S⌉", g.x(d(c.W) / 2), g.y(d(c.H)) - 0.5,
                     "center font ',12' front");
        if (most != d(bound * bound)) throw std::runtime_error("figure window_counts: the bound is wrong");
        left += d(c.W) + 3.0;
    }
    canvas.plot();
    const double x_min = -1.7, x_max = left - 1.6, y_min = -8.2, y_max = 2.0;
    const int width = 760;
    return drawing("window_counts", Kind::plot, width, 0, canvas, {x_min, x_max, y_min, y_max});
}

// (h) Section 2 with the numbers of 4.1, as an animation: the window slides over x and writes one output
// element per frame; the last frame shows them all.
Figure sliding_window() {
    const ConvSizes s = conv_sizes("figure", example_x, example_W, 1, 0);
    const Tensor<4> out = conv2d_forward_naive(example_x, example_W, example_b, 1, 0);
    Canvas canvas;
    const Grid gx{0, 0, 1.2}, gw{5.0, -0.6, 1.2}, go{9.6, -0.6, 1.4};
    const std::size_t frames = s.Ho * s.Wo + 1;
    for (std::size_t k = 0; k < frames; ++k) {
        canvas.clear();
        const bool last = k == s.Ho * s.Wo;
        const std::size_t i = last ? 0 : k / s.Wo, j = last ? 0 : k % s.Wo;
        const Fill x_fill = [&](std::size_t r, std::size_t c) {
            const bool inside =
                !last && r >= i * s.stride && r < i * s.stride + s.KH && c >= j * s.stride && c < j * s.stride + s.KW;
            return std::vector<std::string>{inside ? light(k) : "#FFFFFF"};
        };
        draw_grid(canvas, gx, s.H, s.W, x_fill, values_of(example_x), "x");
        if (!last) outline(canvas, gx, i, j, i + s.KH, j + s.KW, colour(k));
        draw_grid(canvas, gw, s.KH, s.KW, plain(), values_of(example_W), "W");
        canvas.label("b = " + num(example_b(0)), gw.x(1), gw.y(2) - 0.55);
        const Fill o_fill = [&](std::size_t r, std::size_t c) {
            const std::size_t m = r * s.Wo + c;
            return std::vector<std::string>{m <= k ? light(m) : "#FFFFFF"};
        };
        const Text o_text = [&](std::size_t r, std::size_t c) {
            const std::size_t m = r * s.Wo + c;
            return m <= k ? num(out(0, 0, r, c)) : std::string();
        };
        draw_grid(canvas, go, s.Ho, s.Wo, o_fill, o_text, "out");
        if (!last) outline(canvas, go, i, j, i + 1, j + 1, colour(k));
        canvas.arrow(gw.x(2) + 0.4, -2.0, go.left - 0.5, -2.0);
        std::string line;
        if (last) {
            line = "every output: out(i,j) = b + Σ x(i+p, j+q) · W(p,q)";
        } else {
            line = "out(" + std::to_string(i) + "," + std::to_string(j) + ") = " + num(example_b(0)) + " + (";
            for (std::size_t p = 0; p < s.KH; ++p) {
                for (std::size_t q = 0; q < s.KW; ++q) {
                    line += (p + q > 0 ? " + " : "") + num(example_x(0, 0, i + p, j + q)) + "·" +
                            factor(example_W(0, 0, p, q));
                }
            }
            line += ") = " + num(out(0, 0, i, j));
        }
        canvas.label(line, 6.4, -4.4, "center font ',14' front");
        canvas.plot();
    }
    const double x_min = -0.7, x_max = go.x(2) + 0.4, y_min = -5.0, y_max = 1.4;
    const int width = 640;
    Figure f{"05_conv2d",
             "sliding_window",
             Kind::animation,
             width,
             height_for(width, x_min, x_max, y_min, y_max),
             150,
             script(canvas.text(), x_min, x_max, y_min, y_max)};
    return f;
}

// (h, second) Section 3.8 with the numbers of 4.1, as an animation: each output sends dout(i, j) times the
// kernel back into its window of dx; the sums so far come from conv2d_backward_naive with only the outputs
// handled so far in dout.
Figure gradient_scatter() {
    const ConvSizes s = conv_sizes("figure", example_x, example_W, 1, 0);
    Canvas canvas;
    const Grid gd{0, -0.6, 1.4}, gw{4.0, -0.6, 1.2}, gx{8.4, 0, 1.2};
    const std::size_t frames = s.Ho * s.Wo;
    for (std::size_t k = 0; k < frames; ++k) {
        canvas.clear();
        const std::size_t i = k / s.Wo, j = k % s.Wo;
        Tensor<4> partial = xt::zeros<real>(example_dout.shape());
        for (std::size_t m = 0; m <= k; ++m) partial(0, 0, m / s.Wo, m % s.Wo) = example_dout(0, 0, m / s.Wo, m % s.Wo);
        const Tensor<4> dx = conv2d_backward_naive(partial, example_x, example_W, 1, 0).dx;
        const Fill d_fill = [&](std::size_t r, std::size_t c) {
            const std::size_t m = r * s.Wo + c;
            return std::vector<std::string>{m <= k ? light(m) : "#FFFFFF"};
        };
        draw_grid(canvas, gd, s.Ho, s.Wo, d_fill, values_of(example_dout), "dout");
        outline(canvas, gd, i, j, i + 1, j + 1, colour(k));
        draw_grid(canvas, gw, s.KH, s.KW, plain(), values_of(example_W), "W");
        const Fill x_fill = [&](std::size_t r, std::size_t c) {
            std::vector<std::string> fills;
            for (std::size_t m = 0; m <= k; ++m) {
                const std::size_t a = m / s.Wo, bcol = m % s.Wo;
                if (r >= a && r < a + s.KH && c >= bcol && c < bcol + s.KW) fills.push_back(light(m));
            }
            if (fills.empty()) fills.emplace_back("#FFFFFF");
            return fills;
        };
        draw_grid(canvas, gx, s.H, s.W, x_fill, values_of(dx), k + 1 == frames ? "dx: all four outputs" : "dx so far");
        outline(canvas, gx, i, j, i + s.KH, j + s.KW, colour(k));
        canvas.arrow(gw.x(2) + 0.4, -2.4, gx.left - 0.45, -2.4, colour(k));
        const double up = example_dout(0, 0, i, j);
        std::string line = "dx(" + std::to_string(i) + "+p, " + std::to_string(j) + "+q) += dout(" + std::to_string(i) +
                           "," + std::to_string(j) + ") · W(p,q) = " + factor(up) + " · W";
        canvas.label(line, 6.3, -4.4, "center font ',14' front");
        canvas.plot();
    }
    const double x_min = -0.7, x_max = gx.x(3) + 0.4, y_min = -5.0, y_max = 1.4;
    const int width = 640;
    return drawing("gradient_scatter", Kind::animation, width, 180, canvas, {x_min, x_max, y_min, y_max});
}

}  // namespace

std::vector<Figure> chapter05() {
    return {padded_windows(), stride_unread(),    one_pixel(),      dw_correlation(),  dx_steps(),
            im2col_matrix(),  window_count_map(), sliding_window(), gradient_scatter()};
}

}  // namespace course::figures
