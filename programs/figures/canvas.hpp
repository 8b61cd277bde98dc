/// @file canvas.hpp
/// @brief Drawing grids of numbers with gnuplot: the pieces that several chapters' figures share (tensors as
/// grids of cells, windows as coloured outlines). Plot coordinates: y grows upwards, and the rows of a tensor
/// go down from its grid's top edge.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "figures.hpp"

namespace course::figures {

/// "#RRGGBB" of a colour given as 0xRRGGBB.
inline std::string hex(unsigned rgb) {
    char text[16];
    std::snprintf(text, sizeof text, "#%06X", rgb & 0xFFFFFFU);
    return text;
}

/// A light version of a colour (mixed with white), as the fill of a cell that holds black text.
inline std::string tint(unsigned rgb, unsigned percent = 40) {
    const auto mix = [percent](unsigned channel) {
        return 255U - (255U - channel) * percent / 100U;
    };
    return hex((mix((rgb >> 16U) & 0xFFU) << 16U) | (mix((rgb >> 8U) & 0xFFU) << 8U) | mix(rgb & 0xFFU));
}

/// The gnuplot commands that draw a figure: rectangles, labels and arrows in plot coordinates, where y grows
/// upwards and the rows of a tensor go down from the grid's top edge.
class Canvas {
public:
    void rect(double x0, double y0, double x1, double y1, const std::string& style) {
        s_ << "set object " << ++objects_ << " rect from " << num(x0) << "," << num(y0) << " to " << num(x1) << ","
           << num(y1) << " " << style << "\n";
    }
    void label(const std::string& text, double x, double y, const std::string& style = "center font ',13' front") {
        s_ << "set label " << quoted(text) << " at " << num(x) << "," << num(y) << " " << style << "\n";
    }
    void arrow(double x0, double y0, double x1, double y1, const std::string& colour = "#555555") {
        s_ << "set arrow from " << num(x0) << "," << num(y0) << " to " << num(x1) << "," << num(y1)
           << " head filled size 0.25,25 lw 2.5 lc rgb '" << colour << "' front\n";
    }
    // One frame of an animation or the whole figure: the objects so far, then an empty plot.
    void plot() { s_ << "plot 1/0 notitle\n"; }
    // Starts a new frame: forgets every object, label and arrow.
    void clear() {
        s_ << "unset object\nunset label\nunset arrow\n";
        objects_ = 0;
    }
    std::string text() const { return s_.str(); }

private:
    std::ostringstream s_;
    int objects_ = 0;
};

/// Where a tensor's grid is drawn: its top-left corner and the side of one cell.
struct Grid {
    double left = 0, top = 0, cell = 1;
    double x(double column) const { return left + column * cell; }  // column 0.5 is the first cell's centre
    double y(double row) const { return top - row * cell; }
};

/// One cell (r, c) of a grid, filled with vertical stripes (one per colour), with a grey border.
inline void draw_cell(Canvas& canvas, const Grid& g, std::size_t r, std::size_t c,
                      const std::vector<std::string>& fills) {
    const auto rd = static_cast<double>(r), cd = static_cast<double>(c);
    const double width = 1.0 / static_cast<double>(fills.size());
    for (std::size_t s = 0; s < fills.size(); ++s) {
        const auto sd = static_cast<double>(s);
        canvas.rect(g.x(cd + width * sd), g.y(rd + 1), g.x(cd + width * (sd + 1)), g.y(rd),
                    "fc rgb '" + fills[s] + "' fs solid 1.0 noborder back");
    }
    canvas.rect(g.x(cd), g.y(rd + 1), g.x(cd + 1), g.y(rd), "fs empty border lc rgb '#777777' lw 1 back");
}

}  // namespace course::figures
