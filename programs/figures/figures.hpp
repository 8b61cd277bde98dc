/// @file figures.hpp
/// @brief The chapters' figures, drawn from the reference solution's own numbers.
///
/// Each chapter has one source file here (ch01.cpp to ch08.cpp) with one function that returns the figures
/// of that chapter. A figure is a gnuplot script or a Graphviz graph, made as text by C++ code that calls
/// the reference layers (solutions/): the numbers in a picture are the numbers the course computes, so they
/// cannot drift from the text's worked examples without the suite noticing.
///
/// `figures --write` renders every figure into `chapters/NN_name/figures/` and records a checksum of each
/// figure's source in `programs/figures/sources.txt`; `figures --check` (a test of the full suite) makes the
/// sources again and fails when one differs from the checksum that was recorded, or when a file is missing.
/// The rendered SVG and GIF files are committed, so that GitHub shows them in the chapter READMEs. They are
/// not compared byte for byte: gnuplot and Graphviz of Debian 12 and 13 write slightly different files.
#pragma once

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace course::figures {

/// What draws a figure, and into which kind of file.
enum class Kind {
    plot,       ///< a gnuplot script, rendered to SVG
    animation,  ///< a gnuplot script whose every `plot` (or `splot`) is one frame, rendered to an animated GIF
    graph,      ///< a complete Graphviz graph (`digraph G { ... }`), rendered to SVG by `dot`
};

/// One figure of one chapter.
struct Figure {
    std::string chapter;  ///< the chapter's folder, for example "05_conv2d"
    std::string name;     ///< the file name without extension: chapters/<chapter>/figures/<name>.svg (.gif)
    Kind kind = Kind::plot;
    /// The figure's size in pixels (gnuplot only; Graphviz sizes its graphs itself).
    int width = 640, height = 400;
    /// Animation only: how long each frame stays, in hundredths of a second.
    int frame_delay = 100;
    /// For gnuplot: every command after `set terminal` and `set output`, which the program adds (so a
    /// script must not set them). For Graphviz: the whole graph.
    std::string source;
};

// One function per chapter, each in its own file.
std::vector<Figure> chapter01();
std::vector<Figure> chapter02();
std::vector<Figure> chapter03();
std::vector<Figure> chapter04();
std::vector<Figure> chapter05();
std::vector<Figure> chapter06();
std::vector<Figure> chapter07();
std::vector<Figure> chapter08();

/// A number for a label or a data line: up to `digits` significant digits, no trailing zeros, no "-0".
/// Rounded, so that the last bits of a floating-point result (which may differ between compilers) do not
/// change a figure's source.
inline std::string num(double value, int digits = 4) {
    if (value == 0.0 || std::fabs(value) < 1e-12) return "0";
    char text[64];
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    return text;
}

/// A gnuplot data block (`$name << EOD ... EOD`) from rows of numbers, one line per row.
inline std::string datablock(const std::string& name, const std::vector<std::vector<double>>& rows, int digits = 4) {
    std::ostringstream out;
    out << "$" << name << " << EOD\n";
    for (const auto& row : rows) {
        for (std::size_t k = 0; k < row.size(); ++k) out << (k > 0 ? " " : "") << num(row[k], digits);
        out << "\n";
    }
    out << "EOD\n";
    return out.str();
}

/// A string in double quotes for gnuplot or Graphviz, with `"` and `\` escaped.
inline std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace course::figures
