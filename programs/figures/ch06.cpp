// The figures of chapter 06 (figures.hpp says how a figure is made).
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "06_pooling/pooling.hpp"
#include "canvas.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

// One colour per window, in the order k = i * Wo + j (colour-blind safe): blue, vermillion, green, orange.
const std::vector<unsigned> window_colour = {0x0072B2, 0xD55E00, 0x009E73, 0xE69F00};

// Wraps one H x W image into a tensor of shape (1, 1, H, W).
Tensor<4> image(const Tensor<2>& pixels) {
    Tensor<4> t({1, 1, pixels.shape(0), pixels.shape(1)});
    for (std::size_t h = 0; h < pixels.shape(0); ++h) {
        for (std::size_t w = 0; w < pixels.shape(1); ++w) t(0, 0, h, w) = pixels(h, w);
    }
    return t;
}

// The 0-based row and column numbers along a grid's left and top edges.
void draw_indices(Canvas& canvas, const Grid& g, std::size_t rows, std::size_t cols) {
    const std::string style = "center font ',10' tc rgb '#777777'";
    for (std::size_t c = 0; c < cols; ++c)
        canvas.label(std::to_string(c), g.x(static_cast<double>(c) + 0.5), g.top + 0.22, style);
    for (std::size_t r = 0; r < rows; ++r)
        canvas.label(std::to_string(r), g.left - 0.22, g.y(static_cast<double>(r) + 0.5), style);
}

// A worked example of section 5 in one picture: top row forward (x with its windows -> out), bottom row
// backward (dout -> dx), dx under x, so that a winner and its gradient are in the same place. Each window
// has a colour: its outline in x, its winner, its out and dout elements and the dx element that they reach.
// Where windows overlap, x is drawn once per window (window (i, j) at place (i, j)), so that every outline
// is a whole window and no outline hides another.
// Every result comes from the reference MaxPool2D: out from forward, dx from backward, and the winner of
// window (i, j) from a backward of a dout that is 1 at (i, j) and 0 elsewhere.
Figure routing(const std::string& name, const Tensor<2>& pixels, std::size_t kernel, std::size_t stride,
               const Tensor<2>& upstream) {
    MaxPool2D pool(kernel, stride, "pool");
    const Tensor<4> x = image(pixels);
    const Tensor<4> out = pool.forward(x);
    const Tensor<4> dout = image(upstream);
    const Tensor<4> dx = pool.backward(dout);
    const std::size_t H = x.shape(2), W = x.shape(3), Ho = out.shape(2), Wo = out.shape(3);
    if (Ho * Wo > window_colour.size() || dout.shape(2) != Ho || dout.shape(3) != Wo) {
        throw std::runtime_error("figure " + name + ": needs at most 4 windows and a dout of the output's shape");
    }
    // won[h][w]: the windows k = i * Wo + j whose winner is x(h, w), in the order of k.
    std::vector<std::vector<std::vector<std::size_t>>> won(H, std::vector<std::vector<std::size_t>>(W));
    for (std::size_t i = 0; i < Ho; ++i) {
        for (std::size_t j = 0; j < Wo; ++j) {
            Tensor<4> one = xt::zeros<real>(dout.shape());
            one(0, 0, i, j) = 1.0;
            const Tensor<4> routed = pool.backward(one);
            std::size_t found = 0;
            for (std::size_t h = 0; h < H; ++h) {
                for (std::size_t w = 0; w < W; ++w) {
                    if (routed(0, 0, h, w) == 0.0) continue;
                    won[h][w].push_back(i * Wo + j);
                    ++found;
                }
            }
            if (found != 1) throw std::runtime_error("figure " + name + ": a window without one winner");
        }
    }
    const auto fills_of = [&](const std::vector<std::size_t>& windows) {
        std::vector<std::string> fills;
        fills.reserve(windows.size() + 1);
        for (const std::size_t k : windows) fills.push_back(tint(window_colour[k]));
        if (fills.empty()) fills.emplace_back("#FFFFFF");
        return fills;
    };
    const auto Hd = static_cast<double>(H), Wd = static_cast<double>(W);
    const auto Hod = static_cast<double>(Ho), Wod = static_cast<double>(Wo);
    const bool overlap = stride < kernel;
    Canvas canvas;
    const std::string big = "center font ',15' front";

    // The forward row: x (once, or once per window), then out.
    const double copy_gap = 0.7, copy_gap_v = 1.0;  // between the copies of x
    const double x_width = overlap ? Wod * Wd + (Wod - 1) * copy_gap : Wd;
    const double x_height = overlap ? Hod * Hd + (Hod - 1) * copy_gap_v : Hd;
    const double gap = 2.4;  // between the left and the right column of tensors
    const double right = x_width + gap;
    const double small = overlap ? 1.5 : 1.0;  // the cell size of out and dout
    for (std::size_t k = 0; k < (overlap ? Ho * Wo : 1); ++k) {
        const std::size_t i = k / Wo, j = k % Wo;  // the window of this copy
        const Grid g =
            overlap ? Grid{static_cast<double>(j) * (Wd + copy_gap), -static_cast<double>(i) * (Hd + copy_gap_v), 1}
                    : Grid{0, 0, 1};
        for (std::size_t h = 0; h < H; ++h) {
            for (std::size_t w = 0; w < W; ++w) {
                // In a copy, only the winner of that copy's window is coloured.
                std::vector<std::size_t> shown;
                for (const std::size_t won_k : won[h][w]) {
                    if (!overlap || won_k == k) shown.push_back(won_k);
                }
                draw_cell(canvas, g, h, w, fills_of(shown));
                const std::string value = num(x(0, 0, h, w));
                canvas.label(shown.empty() ? value : "{/:Bold " + value + "}", g.x(static_cast<double>(w) + 0.5),
                             g.y(static_cast<double>(h) + 0.5), big);
            }
        }
        // The outlines of the windows (of this copy's window only, when windows overlap).
        for (std::size_t window = 0; window < Ho * Wo; ++window) {
            if (overlap && window != k) continue;
            const std::size_t first_row = (window / Wo) * stride;
            const auto top = static_cast<double>(first_row);
            const auto left = static_cast<double>((window % Wo) * stride);
            const double inset = 0.05, K = static_cast<double>(kernel);
            canvas.rect(g.x(left + inset), g.y(top + K - inset), g.x(left + K - inset), g.y(top + inset),
                        "fs empty border lc rgb '" + hex(window_colour[window]) + "' lw 3.5 front");
        }
        if (overlap) {
            canvas.label("window (" + std::to_string(k / Wo) + ", " + std::to_string(k % Wo) + ")", g.x(Wd / 2),
                         g.top + 0.3, "center font ',11'");
        } else {
            draw_indices(canvas, g, H, W);
        }
    }
    const double title_at = overlap ? 1.0 : 0.75;
    canvas.label(overlap ? "x in each of its " + std::to_string(Ho * Wo) + " windows, winners in bold"
                         : "x: windows and winners (bold)",
                 x_width / 2, title_at, "center font ',13'");
    const Grid out_grid{right, -(x_height - Hod * small) / 2, small};
    // The backward row: dx under x, and dout.
    const double between = 1.9;
    const double dx_cell = overlap ? 1.8 : 1.0;
    const Grid dx_grid{(x_width - Wd * dx_cell) / 2, -(x_height + between), dx_cell};
    const double dx_height = Hd * dx_cell;
    const Grid dout_grid{right, dx_grid.top - (dx_height - Hod * small) / 2, small};
    for (std::size_t i = 0; i < Ho; ++i) {
        for (std::size_t j = 0; j < Wo; ++j) {
            const std::vector<std::string> fill = {tint(window_colour[i * Wo + j])};
            const double c = static_cast<double>(j) + 0.5, r = static_cast<double>(i) + 0.5;
            draw_cell(canvas, out_grid, i, j, fill);
            canvas.label(num(out(0, 0, i, j)), out_grid.x(c), out_grid.y(r), big);
            draw_cell(canvas, dout_grid, i, j, fill);
            canvas.label(num(dout(0, 0, i, j)), dout_grid.x(c), dout_grid.y(r), big);
        }
    }
    canvas.label("out", out_grid.x(Wod / 2), out_grid.top + 0.75, "center font ',13'");
    draw_indices(canvas, out_grid, Ho, Wo);
    canvas.label("dout", dout_grid.x(Wod / 2), dout_grid.top + 0.75, "center font ',13'");
    draw_indices(canvas, dout_grid, Ho, Wo);
    // dx: the gradient of each input; an input that wins several windows shows the sum of their dout.
    for (std::size_t h = 0; h < H; ++h) {
        for (std::size_t w = 0; w < W; ++w) {
            draw_cell(canvas, dx_grid, h, w, fills_of(won[h][w]));
            const double cx = dx_grid.x(static_cast<double>(w) + 0.5), cy = dx_grid.y(static_cast<double>(h) + 0.5);
            const std::string value = num(dx(0, 0, h, w));
            if (won[h][w].empty()) {
                canvas.label(value, cx, cy, "center font ',15' tc rgb '#999999' front");
            } else if (won[h][w].size() == 1) {
                canvas.label("{/:Bold " + value + "}", cx, cy, big);
            } else {
                std::string sum;
                for (const std::size_t k : won[h][w]) {
                    sum += (sum.empty() ? "" : " + ") + num(dout(0, 0, k / Wo, k % Wo));
                }
                canvas.label("{/:Bold " + value + "}", cx, cy + 0.18 * dx_cell, big);
                canvas.label("= " + sum, cx, cy - 0.22 * dx_cell, "center font ',12' front");
            }
        }
    }
    canvas.label("dx", dx_grid.x(Wd / 2), dx_grid.top + 0.75, "center font ',13'");
    draw_indices(canvas, dx_grid, H, W);
    const double forward_y = -x_height / 2, backward_y = dx_grid.top - dx_height / 2;
    const double arrow_left = x_width + 0.3, arrow_right = right - 0.35;
    canvas.arrow(arrow_left, forward_y, arrow_right, forward_y);
    canvas.label("forward", (arrow_left + arrow_right) / 2, forward_y + 0.35, "center font ',12'");
    canvas.arrow(arrow_right, backward_y, arrow_left, backward_y);
    canvas.label("backward", (arrow_left + arrow_right) / 2, backward_y + 0.35, "center font ',12'");

    const double x_min = -0.7, x_max = right + Wod * small + 0.4;
    const double y_min = dx_grid.top - dx_height - 0.2, y_max = title_at + 0.5;
    const int width = 640;
    const int height = static_cast<int>(std::lround(width * (y_max - y_min) / (x_max - x_min)));
    std::string s = "unset border\nunset tics\nunset key\nset margins 0,0,0,0\nset size ratio -1\n";
    s += "set xrange [" + num(x_min) + ":" + num(x_max) + "]\nset yrange [" + num(y_min) + ":" + num(y_max) + "]\n";
    s += canvas.text();
    s += "plot 1/0 notitle\n";
    return {"06_pooling", name, Kind::plot, width, height, 0, s};
}

}  // namespace

std::vector<Figure> chapter06() {
    // README.md section 5: the worked example of section 3 (2 x 2 windows, stride 2) and the overlapping one
    // (2 x 2 windows, stride 1). The inputs are the text's; every result is computed.
    const Tensor<2> tiled_x = {{5, 1, 2, 0}, {4, -1, 3, 6}, {0, 2, -3, 9}, {7, 1, 2, 8}};
    const Tensor<2> tiled_dout = {{1, -2}, {3, 0.5}};
    const Tensor<2> overlap_x = {{1, 2, 0}, {3, 9, 4}, {5, 6, 10}};
    const Tensor<2> overlap_dout = {{1, 2}, {3, 4}};
    return {routing("windows_tiled", tiled_x, 2, 2, tiled_dout),
            routing("windows_overlapping", overlap_x, 2, 1, overlap_dout)};
}

}  // namespace course::figures
