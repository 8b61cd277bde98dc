/// @file plots.hpp
/// @brief The training program's pictures, drawn by gnuplot: loss and accuracy curves, the first layer's
/// filters, the confusion matrix, and misclassified test images.
///
/// The program writes the numbers to plain text files (*.dat) and a gnuplot script (plots.gp) next to
/// them, then runs gnuplot once. The script stays in the results folder, so a learner can change a plot
/// and run `gnuplot plots.gp` again.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "course/tensor.hpp"

namespace train {

namespace fs = std::filesystem;

/// @brief One line of metrics.csv.
struct EpochMetrics {
    std::size_t epoch = 0;
    double learning_rate = 0;
    double train_loss = 0;
    double test_loss = 0;
    double test_accuracy = 0;
    double seconds = 0;  ///< the epoch's training steps
    double images_per_second = 0;
    double elapsed_seconds = 0;  ///< since the training began, up to the end of this epoch's evaluation
};

/// @brief A test image the network got wrong.
struct Mistake {
    course::Tensor<2> image;  ///< (H, W), the first channel
    std::size_t truth = 0;
    std::size_t predicted = 0;
};

/// @brief Everything the pictures need.
struct PlotData {
    std::string title;                                ///< for example "LeNet on the MNIST subset"
    std::vector<EpochMetrics> epochs;                 ///< the curves
    course::Tensor<4> filters;                        ///< conv1.W, (F, C, KH, KW)
    std::vector<std::vector<std::size_t>> confusion;  ///< confusion[truth][predicted] counts
    std::vector<Mistake> mistakes;                    ///< up to 24 misclassified test images
    std::vector<std::string> class_names;             ///< K names, for the axes
};

inline bool gnuplot_available() {
    return std::system("command -v gnuplot > /dev/null 2>&1") == 0;
}

/// @brief Writes the data files and the gnuplot script into `dir`, then runs gnuplot.
/// @return the names of the PNG files made; empty when gnuplot is missing or failed (`why` says which)
inline std::vector<std::string> draw_plots(const fs::path& dir, const PlotData& data, std::string& why) {
    const std::size_t K = data.confusion.size();
    {
        std::ofstream curves(dir / "curves.dat");
        curves << "# epoch train_loss test_loss test_accuracy_percent\n";
        for (const EpochMetrics& m : data.epochs) {
            curves << m.epoch << ' ' << m.train_loss << ' ' << m.test_loss << ' ' << 100.0 * m.test_accuracy << '\n';
        }
    }
    const std::size_t F = data.filters.shape(0), KH = data.filters.shape(2), KW = data.filters.shape(3);
    {
        // One block per filter (channel 0), separated by two blank lines: gnuplot's "index".
        std::ofstream filters(dir / "filters.dat");
        for (std::size_t f = 0; f < F; ++f) {
            for (std::size_t p = KH; p-- > 0;) {  // gnuplot draws the first row at the bottom
                for (std::size_t q = 0; q < KW; ++q) filters << data.filters(f, 0, p, q) << (q + 1 < KW ? " " : "\n");
            }
            filters << "\n\n";
        }
    }
    {
        std::ofstream confusion(dir / "confusion.dat");
        for (std::size_t t = 0; t < K; ++t) {
            for (std::size_t p = 0; p < K; ++p) confusion << t << ' ' << p << ' ' << data.confusion[t][p] << '\n';
            confusion << '\n';
        }
    }
    {
        std::ofstream mistakes(dir / "mistakes.dat");
        for (const Mistake& m : data.mistakes) {
            for (std::size_t h = m.image.shape(0); h-- > 0;) {
                for (std::size_t w = 0; w < m.image.shape(1); ++w)
                    mistakes << m.image(h, w) << (w + 1 < m.image.shape(1) ? " " : "\n");
            }
            mistakes << "\n\n";
        }
    }
    auto name = [&](std::size_t k) {
        return k < data.class_names.size() ? data.class_names[k] : std::to_string(k);
    };
    std::ostringstream gp;
    gp << "# Made by the training program; run `gnuplot plots.gp` in this folder to draw the pictures again.\n"
          "set terminal pngcairo size 900,540 font 'sans,11'\n"
          "set datafile commentschars '#'\n";
    if (!data.epochs.empty()) {
        gp << "set grid\n\n"
              "set output 'loss.png'\n"
              "set title '"
           << data.title
           << ": loss'\nset xlabel 'epoch'\nset ylabel 'cross-entropy loss'\n"
              "set key top right\nset xtics 1\n"
              "plot 'curves.dat' using 1:2 with linespoints lw 2 title 'training (mean over the epoch)', \\\n"
              "     'curves.dat' using 1:3 with linespoints lw 2 title 'held-out test'\n\n"
              "set output 'accuracy.png'\n"
              "set title '"
           << data.title
           << ": held-out accuracy'\nset ylabel 'accuracy (%)'\nset key bottom right\n"
              "plot 'curves.dat' using 1:4 with linespoints lw 2 title 'held-out test'\n\n";
    }
    gp << "unset grid\nunset key\nunset xlabel\nunset ylabel\nset xtics auto\n"
          "set output 'conv1_filters.png'\n"
          "set terminal pngcairo size "
       << 150 * F
       << ",220 font 'sans,10'\n"
          "set palette gray\nunset colorbox\nunset tics\nset size ratio -1\n"
          "set multiplot layout 1,"
       << F << " title 'The " << F << " learned filters of conv1 (5 x 5, channel 0; light = positive weight)'\n";
    for (std::size_t f = 0; f < F; ++f)
        gp << "set title 'filter " << f + 1 << "'\nplot 'filters.dat' index " << f << " matrix with image\n";
    gp << "unset multiplot\n\n"
          "set output 'confusion.png'\n"
          "set terminal pngcairo size 640,600 font 'sans,10'\n"
          "set title 'Confusion matrix on the held-out test set (counts)'\n"
          "set xlabel 'predicted class'\nset ylabel 'true class'\nset tics\nset size ratio 1\n"
          "set xrange [-0.5:"
       << K - 0.5 << "]\nset yrange [" << K - 0.5
       << ":-0.5]\n"
          "set palette defined (0 'white', 1 '#c6dbef', 10 '#4292c6', 100 '#08306b')\n"
          "set logscale cb\nset cbrange [1:*]\nunset colorbox\n";
    gp << "set xtics (";
    for (std::size_t k = 0; k < K; ++k) gp << (k ? ", " : "") << "'" << name(k) << "' " << k;
    gp << ")\nset ytics (";
    for (std::size_t k = 0; k < K; ++k) gp << (k ? ", " : "") << "'" << name(k) << "' " << k;
    gp << ")\nplot 'confusion.dat' using 2:1:($3 > 0 ? $3 : 1) with image, \\\n"
          "     'confusion.dat' using 2:1:($3 > 0 && $3 < 50 ? sprintf('%d', $3) : '') with labels font 'sans,9', \\\n"
          "     'confusion.dat' using 2:1:($3 >= 50 ? sprintf('%d', $3) : '') with labels font 'sans,9' tc rgb "
          "'white'\n"
          "unset logscale cb\nset autoscale cb\nunset xrange\nunset yrange\n\n";
    if (!data.mistakes.empty()) {
        const std::size_t columns = 6, rows = (data.mistakes.size() + columns - 1) / columns;
        gp << "set output 'mistakes.png'\n"
              "set terminal pngcairo size 900,"
           << 40 + 150 * rows
           << " font 'sans,10'\n"
              "set palette gray negative\nset cbrange [0:1]\nunset colorbox\nunset tics\nunset xlabel\nunset "
              "ylabel\nset size ratio -1\n"
              "set multiplot layout "
           << rows << "," << columns << " title 'Misclassified test images: predicted (true)'\n";
        for (std::size_t i = 0; i < data.mistakes.size(); ++i) {
            gp << "set title '" << name(data.mistakes[i].predicted) << " (" << name(data.mistakes[i].truth) << ")'\n"
               << "plot 'mistakes.dat' index " << i << " matrix with image\n";
        }
        gp << "unset multiplot\n";
    }
    std::ofstream(dir / "plots.gp") << gp.str();
    if (!gnuplot_available()) {
        why = "gnuplot is not installed (./course setup installs it); the numbers are in " + dir.string();
        return {};
    }
    const std::string command = "cd '" + dir.string() + "' && gnuplot plots.gp 2> gnuplot.log";
    if (std::system(command.c_str()) != 0) {
        why = "gnuplot failed; see " + (dir / "gnuplot.log").string();
        return {};
    }
    std::vector<std::string> made;
    if (!data.epochs.empty()) made = {"loss.png", "accuracy.png"};
    made.insert(made.end(), {"conv1_filters.png", "confusion.png"});
    if (!data.mistakes.empty()) made.emplace_back("mistakes.png");
    return made;
}

}  // namespace train
