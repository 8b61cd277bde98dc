// The experiments of chapter 8: initialization, momentum and learning-rate schedules, measured on the
// course's own layers and drawn with gnuplot.
//
//   experiments [--out DIR] [--epochs N] [--seed S]
//
// It writes numbers (*.dat), a gnuplot script (experiments.gp), the pictures (*.png) and a summary
// (summary.md) into DIR, by default <build folder>/results/experiments. `./course experiments` runs it.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "08_optimizers/initialization.hpp"
#include "08_optimizers/optimizers.hpp"
#include "course/data.hpp"
#include "course/runtime.hpp"

namespace fs = std::filesystem;
using namespace course;

namespace {

const std::vector<InitScheme> schemes = {InitScheme::too_small, InitScheme::too_large, InitScheme::xavier,
                                         InitScheme::he};

std::string file_name(InitScheme s) {
    switch (s) {
        case InitScheme::too_small:
            return "small";
        case InitScheme::too_large:
            return "large";
        case InitScheme::xavier:
            return "xavier";
        case InitScheme::he:
            return "he";
    }
    return "x";
}

// 1. A deep stack of FC + ReLU layers: the standard deviation of the activations per layer, and histograms.
void deep_stack(const fs::path& out, std::ostringstream& gp, std::ostringstream& summary, Rng& rng) {
    const std::size_t depth = 10, width = 256, batch = 512;
    std::ofstream stds(out / "init_std.dat");
    stds << "layer \"too small (0.01)\" \"too large (1)\" Xavier He\n";  // column titles for gnuplot
    std::vector<StackActivations> results;
    results.reserve(schemes.size());
    for (InitScheme s : schemes) results.push_back(deep_stack_activations(s, depth, width, batch, rng));
    for (std::size_t layer = 0; layer < depth; ++layer) {
        stds << layer + 1;
        for (const auto& r : results) stds << ' ' << std::max(r.stddev[layer], 1e-300);
        stds << '\n';
    }
    // Histograms of layers 1, 4, 7 and 10, in units of each scheme's own layer-1 standard deviation, so that
    // the four rows share an axis and the shrinking or growing shows as a narrowing or widening.
    const std::vector<std::size_t> shown = {0, 3, 6, 9};
    for (std::size_t k = 0; k < schemes.size(); ++k) {
        const double unit = results[k].stddev[0];
        for (std::size_t layer : shown) {
            std::ofstream hist(out / ("init_hist_" + file_name(schemes[k]) + "_" + std::to_string(layer + 1) + ".dat"));
            const std::size_t bins = 40;
            std::vector<std::size_t> count(bins, 0);
            for (real v : results[k].values[layer]) {
                if (v <= 0) continue;  // about half are ReLU's exact zeros: they would dwarf the rest
                const auto bin =
                    static_cast<std::size_t>(std::min(static_cast<double>(v) / unit / 4.0 * bins, bins - 1.0));
                ++count[bin];
            }
            for (std::size_t b = 0; b < bins; ++b) hist << (b + 0.5) * 4.0 / bins << ' ' << count[b] << '\n';
        }
    }
    gp << "set output 'init_std.png'\nset terminal pngcairo size 900,540 font 'sans,11'\n"
          "set title 'Standard deviation of the activations after each FC + ReLU layer (width 256)'\n"
          "set xlabel 'layer'\nset ylabel 'standard deviation (log scale)'\nset logscale y\nset format y '10^{%L}'\n"
          "set key bottom left opaque box\nset grid\nset xtics 1\n"
          "plot for [i=2:5] 'init_std.dat' using 1:i with linespoints lw 2 title columnhead(i) \n"
          "unset logscale y\nset format y '%g'\nunset grid\nset xtics auto\n\n";
    gp << "set output 'init_histograms.png'\nset terminal pngcairo size 1100,800 font 'sans,9'\n"
          "set multiplot layout 4,4 title 'Positive activations of layers 1, 4, 7 and 10 (x: in units of the layer-1 "
          "standard deviation; larger values count in the last bar)'\nunset key\nset style fill solid 0.6\nset xrange "
          "[0:4]\nset xlabel ''\nset ylabel ''\n";
    for (InitScheme s : schemes) {
        for (std::size_t layer : shown) {
            gp << "set title '" << to_string(s) << ", layer " << layer + 1 << "'\n"
               << "plot 'init_hist_" << file_name(s) << "_" << layer + 1 << ".dat' using 1:2 with boxes\n";
        }
    }
    gp << "unset multiplot\nunset xrange\nset style fill empty\n\n";
    summary << "## Deep stack: 10 layers of FC(256) + ReLU, a batch of 512 N(0, 1) inputs\n\n"
               "| initialization | std after layer 1 | std after layer 10 | ratio |\n|---|---|---|---|\n";
    for (std::size_t k = 0; k < schemes.size(); ++k) {
        char line[200];
        std::snprintf(line, sizeof line, "| %s | %.3g | %.3g | %.3g |\n", to_string(schemes[k]).c_str(),
                      results[k].stddev[0], results[k].stddev[9], results[k].stddev[9] / results[k].stddev[0]);
        summary << line;
    }
}

struct RunResult {
    std::string label;
    std::vector<double> step_loss;   // one per step
    std::vector<double> epoch_loss;  // mean per epoch
    std::vector<double> accuracy;    // held-out, per epoch
    std::vector<double> rates;       // learning rate per step
    bool diverged = false;
    std::size_t diverged_at = 0;
};

RunResult train_run(const std::string& label, SimpleConvNet net, const TrainTest& data, Optimizer& optimizer,
                    const LearningRateSchedule& schedule, std::size_t epochs, std::uint64_t seed) {
    RunResult r{label, {}, {}, {}, {}, false, 0};
    Rng rng(seed);
    std::size_t step = 0;
    for (std::size_t epoch = 0; epoch < epochs && !r.diverged; ++epoch) {
        const double mean = train_epoch(net, data.train, 32, optimizer, schedule, step, rng,
                                        [&](std::size_t, std::size_t, std::size_t, double loss) {
                                            r.rates.push_back(schedule.at(r.step_loss.size()));
                                            if (!std::isfinite(loss)) {
                                                r.diverged = true;
                                                r.diverged_at = r.step_loss.size();
                                                return false;
                                            }
                                            r.step_loss.push_back(loss);
                                            return true;
                                        });
        if (r.diverged) break;
        r.epoch_loss.push_back(mean);
        r.accuracy.push_back(accuracy(net, data.test));
        std::printf("  %-34s epoch %zu: loss %.4f, held-out accuracy %.2f%%\n", label.c_str(), epoch + 1, mean,
                    100.0 * r.accuracy.back());
        std::fflush(stdout);
    }
    if (r.diverged) std::printf("  %-34s diverged at step %zu (the loss became nan)\n", label.c_str(), r.diverged_at);
    return r;
}

// A moving average over `window` steps, so that the curves show the trend rather than the batch noise.
std::vector<double> smooth(const std::vector<double>& v, std::size_t window) {
    std::vector<double> out;
    double sum = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        sum += v[i];
        if (i >= window) sum -= v[i - window];
        out.push_back(sum / static_cast<double>(std::min(i + 1, window)));
    }
    return out;
}

// 2. LeNet's first epoch under each initialization (plain SGD, constant rate: only the start differs).
void lenet_inits(const fs::path& out, std::ostringstream& gp, std::ostringstream& summary, const TrainTest& data,
                 std::uint64_t seed) {
    std::printf("LeNet, first epoch under each initialization (SGD, learning rate 0.05):\n");
    std::vector<RunResult> runs;
    for (InitScheme s : schemes) {
        SimpleConvNet net({1, 28, 28}, 10, seed);
        Rng rng(seed);
        initialize(net, s, rng);
        SGD sgd;
        const ConstantLR rate(0.05);
        runs.push_back(train_run(to_string(s), net, data, sgd, rate, 1, seed));
    }
    std::ofstream dat(out / "init_lenet.dat");
    for (const RunResult& r : runs) {
        dat << "\"" << r.label << "\"\n";
        const std::vector<double> s = smooth(r.step_loss, 10);
        for (std::size_t i = 0; i < s.size(); ++i) dat << i + 1 << ' ' << s[i] << '\n';
        dat << "\n\n";
    }
    gp << "set output 'init_lenet.png'\nset terminal pngcairo size 900,540 font 'sans,11'\n"
          "set title 'LeNet, first epoch on the MNIST subset: training loss (mean of 10 steps)'\n"
          "set xlabel 'step (minibatch of 32)'\nset ylabel 'cross-entropy loss'\nset key top right\nset grid\n"
          "set xtics auto\nset yrange [0:4]\n"
          "plot for [i=0:3] 'init_lenet.dat' index i using 1:2 with lines lw 2 title columnheader(1)\n"
          "unset yrange\nunset grid\n\n";
    summary << "\n## LeNet, one epoch of SGD (learning rate 0.05) after each initialization\n\n"
               "| initialization | largest loss of the first 20 steps | loss of the last 10 steps | held-out accuracy "
               "after 1 epoch |\n|---|---|---|---|\n";
    for (const RunResult& r : runs) {
        char line[200];
        const double early =
            r.step_loss.empty()
                ? 0.0
                : *std::max_element(r.step_loss.begin(),
                                    r.step_loss.begin() +
                                        std::min<std::ptrdiff_t>(20, static_cast<std::ptrdiff_t>(r.step_loss.size())));
        if (r.diverged) {
            std::snprintf(line, sizeof line, "| %s | %.3g | diverged (nan at step %zu) | - |\n", r.label.c_str(), early,
                          r.diverged_at);
        } else {
            std::snprintf(line, sizeof line, "| %s | %.3g | %.3f | %.2f %% |\n", r.label.c_str(), early,
                          smooth(r.step_loss, 10).back(), 100.0 * r.accuracy.back());
        }
        summary << line;
    }
}

// 3. Momentum against plain SGD on f(w) = 1/2 (w1^2 + 25 w2^2), from (-4, 1), at two learning rates.
void momentum_valley(const fs::path& out, std::ostringstream& gp, std::ostringstream& summary) {
    const double a = 1.0, b = 25.0, tolerance = 1e-3;
    // Steps until the distance to the minimum is below `tolerance`; writes the path when `name` is given.
    auto run = [&](Optimizer& optimizer, double eta, const std::string& name) {
        Tensor<1> w = {-4.0, 1.0}, g = {0.0, 0.0};
        std::ofstream path;
        if (!name.empty()) path.open(out / ("valley_" + name + ".dat"));
        std::size_t reached = 0;
        for (std::size_t t = 0; t <= 2000 && (reached == 0 || t <= 300); ++t) {
            const double distance = std::hypot(w(0), w(1));
            if (path.is_open() && t <= 300) path << t << ' ' << w(0) << ' ' << w(1) << ' ' << distance << '\n';
            if (distance < tolerance && reached == 0) reached = t;
            g(0) = a * w(0);
            g(1) = b * w(1);
            optimizer.step({param_ref("w", w, g)}, static_cast<real>(eta));
        }
        return reached;
    };
    summary
        << "\n## Momentum on an ill-conditioned valley\n\nf(w) = (w1^2 + 25 w2^2) / 2 from (-4, 1); steps until the "
           "distance to the minimum is below 0.001:\n\n| learning rate | plain SGD | momentum (beta = 0.9) |\n"
           "|---|---|---|\n";
    for (double eta : {0.02, 0.07}) {
        SGD sgd;
        MomentumSGD momentum(0.9);
        const bool plotted = eta == 0.02;
        const std::size_t sgd_steps = run(sgd, eta, plotted ? "sgd" : "");
        const std::size_t momentum_steps = run(momentum, eta, plotted ? "momentum" : "");
        summary << "| " << eta << " | " << sgd_steps << " | " << momentum_steps << " |\n";
    }
    gp << "set output 'momentum_valley.png'\nset terminal pngcairo size 1100,460 font 'sans,10'\n"
          "set multiplot layout 1,2 title 'f(w) = (w_1^2 + 25 w_2^2) / 2, learning rate 0.02, from (-4, 1)'\n"
          "set title 'The first 60 steps'\nset xlabel 'w_1'\nset ylabel 'w_2'\nset size ratio -1\n"
          "set key bottom right opaque box\n"
          "set xrange [-4.5:1.5]\nset yrange [-1.5:1.5]\nset isosamples 60,60\nset contour base\nunset surface\n"
          "set view map\nset cntrparam levels discrete 0.5,2,4.5,8\n"
          "set table 'valley_contours.dat'\nsplot (x**2 + 25*y**2)/2\nunset table\n"
          "plot 'valley_contours.dat' with lines lc rgb '#bbbbbb' notitle, \\\n"
          "     'valley_sgd.dat' every ::0::60 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#9400d3' title "
          "'plain SGD', \\\n"
          "     'valley_momentum.dat' every ::0::60 using 2:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#009e73' title "
          "'momentum 0.9'\n"
          "set size noratio\nunset xrange\nunset yrange\n"
          "set title 'Distance to the minimum'\nset xlabel 'step'\nset ylabel 'distance (log scale)'\nset logscale y\n"
          "set key top right opaque box\n"
          "set format y '10^{%L}'\n"
          "plot 'valley_sgd.dat' using 1:4 with lines lw 2 lc rgb '#9400d3' title 'plain SGD', "
          "'valley_momentum.dat' using 1:4 with lines lw 2 lc rgb '#009e73' title 'momentum 0.9'\n"
          "unset logscale y\nset format y '%g'\nunset multiplot\nunset contour\nset surface\n\n";
}

// 4. Schedules and optimizers on LeNet: the same number of epochs for each.
void schedules(const fs::path& out, std::ostringstream& gp, std::ostringstream& summary, const TrainTest& data,
               std::size_t epochs, std::size_t repeats, std::uint64_t seed) {
    const std::size_t steps = epochs * ((data.train.size() + 31) / 32);
    struct Setup {
        std::string label;
        bool momentum;
        std::unique_ptr<LearningRateSchedule> schedule;
        std::vector<double> final_accuracy;  // one per repeat
    };
    std::vector<Setup> setups;
    setups.push_back({"SGD, constant 0.05", false, std::make_unique<ConstantLR>(real(0.05)), {}});
    setups.push_back({"momentum, constant 0.05", true, std::make_unique<ConstantLR>(real(0.05)), {}});
    setups.push_back(
        {"momentum, step decay", true, std::make_unique<StepDecayLR>(real(0.05), real(0.2), (steps + 2) / 3), {}});
    setups.push_back({"momentum, exponential decay",
                      true,
                      std::make_unique<ExponentialDecayLR>(real(0.05), static_cast<real>(std::pow(0.01, 1.0 / steps))),
                      {}});
    setups.push_back({"momentum, cosine decay", true, std::make_unique<CosineDecayLR>(real(0.05), steps, real(0)), {}});
    std::vector<RunResult> runs;  // the runs of the first seed, for the curves
    for (std::size_t repeat = 0; repeat < repeats; ++repeat) {
        std::printf("LeNet, %zu epochs with each optimizer and schedule (batch 32, no augmentation), seed %llu:\n",
                    epochs, static_cast<unsigned long long>(seed) + repeat);
        for (Setup& s : setups) {
            SimpleConvNet net({1, 28, 28}, 10, seed + repeat);
            SGD sgd;
            MomentumSGD momentum(0.9);
            Optimizer& optimizer = s.momentum ? static_cast<Optimizer&>(momentum) : static_cast<Optimizer&>(sgd);
            RunResult r = train_run(s.label, net, data, optimizer, *s.schedule, epochs, seed + repeat);
            s.final_accuracy.push_back(r.diverged || r.accuracy.empty() ? 0.0 : r.accuracy.back());
            if (repeat == 0) runs.push_back(std::move(r));
        }
    }
    std::ofstream rates(out / "schedules_rate.dat"), losses(out / "schedules_loss.dat"),
        accs(out / "schedules_accuracy.dat");
    for (const RunResult& r : runs) {
        rates << "\"" << r.label << "\"\n";
        for (std::size_t t = 0; t < r.rates.size(); t += 10) rates << t << ' ' << r.rates[t] << '\n';
        rates << "\n\n";
        losses << "\"" << r.label << "\"\n";
        for (std::size_t e = 0; e < r.epoch_loss.size(); ++e) losses << e + 1 << ' ' << r.epoch_loss[e] << '\n';
        losses << "\n\n";
        accs << "\"" << r.label << "\"\n";
        for (std::size_t e = 0; e < r.accuracy.size(); ++e) accs << e + 1 << ' ' << 100.0 * r.accuracy[e] << '\n';
        accs << "\n\n";
    }
    gp << "set output 'schedules.png'\nset terminal pngcairo size 1500,500 font 'sans,10'\n"
          "set multiplot layout 1,3 title 'LeNet on the MNIST subset (seed "
       << seed
       << ")'\nset grid\n"
          "set xtics auto\nset key top right opaque box font 'sans,8'\n"
          "set title 'Learning rate'\nset xlabel 'step'\nset ylabel 'learning rate'\n"
          "plot for [i=1:4] 'schedules_rate.dat' index i using 1:2 with lines lw 2 title columnheader(1)\n"
          "set title 'Training loss (mean per epoch)'\nset xlabel 'epoch'\nset ylabel 'loss (log scale)'\nset logscale "
          "y\n"
          "set xtics 1\n"
          "plot for [i=0:4] 'schedules_loss.dat' index i using 1:2 with linespoints lw 2 title columnheader(1)\n"
          "unset logscale y\nset title 'Held-out accuracy'\nset ylabel 'accuracy (%)'\nset key bottom right opaque box "
          "font 'sans,8'\n"
          "plot for [i=0:4] 'schedules_accuracy.dat' index i using 1:2 with linespoints lw 2 title columnheader(1)\n"
          "unset multiplot\nunset grid\nset xtics auto\n\n";
    summary << "\n## LeNet on the MNIST subset, " << epochs << " epochs each, " << repeats
            << " seeds (batch 32, no augmentation, first rate 0.05)\n\n"
               "| optimizer and schedule | training loss, last epoch (first seed) | held-out accuracy after the last "
               "epoch: mean | lowest | highest |\n|---|---|---|---|---|\n";
    for (std::size_t i = 0; i < setups.size(); ++i) {
        const auto& acc = setups[i].final_accuracy;
        double mean = 0;
        for (double a : acc) mean += a / static_cast<double>(acc.size());
        char line[256];
        std::snprintf(line, sizeof line, "| %s | %s | %.2f %% | %.2f %% | %.2f %% |\n", setups[i].label.c_str(),
                      runs[i].diverged ? "diverged" : std::to_string(runs[i].epoch_loss.back()).substr(0, 6).c_str(),
                      100.0 * mean, 100.0 * *std::min_element(acc.begin(), acc.end()),
                      100.0 * *std::max_element(acc.begin(), acc.end()));
        summary << line;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string out_arg;
    std::size_t epochs = 6;
    std::size_t repeats = 3;
    std::uint64_t seed = default_seed;
    CLI::App app{"The experiments of chapter 8: initialization, momentum, learning-rate schedules."};
    app.add_option("--out", out_arg, "output folder (default: <build folder>/results/experiments)");
    app.add_option("--epochs", epochs, "epochs of each LeNet run of the schedule comparison")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    app.add_option("--repeats", repeats, "seeds of the schedule comparison (seed, seed + 1, ...)")
        ->capture_default_str()
        ->check(CLI::Range(1, 20));
    app.add_option("--seed", seed, "seed of every network and shuffle")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    keep_freed_memory();
    use_one_blas_thread_unless_asked();
    try {
        const fs::path out =
            out_arg.empty() ? fs::path(COURSE_BUILD_DIR) / "results" / "experiments" : fs::path(out_arg);
        fs::create_directories(out);
        const auto start = std::chrono::steady_clock::now();
        const TrainTest data = load_idx_directory(fs::path(COURSE_SOURCE_DIR) / "data" / "mnist-subset");
        std::ostringstream gp, summary;
        gp << "# Made by the experiments program; run `gnuplot experiments.gp` in this folder to draw again.\n";
        summary << "# Chapter 8 experiments (track: " << COURSE_TRACK_NAME << ", seed " << seed << ")\n\n";
        Rng rng(seed);
        std::printf("Deep stack of 10 FC + ReLU layers under each initialization...\n");
        deep_stack(out, gp, summary, rng);
        lenet_inits(out, gp, summary, data, seed);
        momentum_valley(out, gp, summary);
        schedules(out, gp, summary, data, epochs, repeats, seed);
        std::ofstream(out / "experiments.gp") << gp.str();
        std::ofstream(out / "summary.md") << summary.str();
        const std::string command = "cd '" + out.string() + "' && gnuplot experiments.gp 2> gnuplot.log";
        const bool drawn = std::system(command.c_str()) == 0;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("\n%s\n", summary.str().c_str());
        std::printf("experiments: %.0f s; results in %s%s\n", seconds, out.c_str(),
                    drawn ? " (init_std.png, init_histograms.png, init_lenet.png, momentum_valley.png, schedules.png)"
                          : " (gnuplot failed: see gnuplot.log; the numbers are in the .dat files)");
        return drawn ? 0 : 1;
    } catch (const DataError& e) {
        std::fprintf(stderr, "experiments: %s (run ./course train once: it prepares the MNIST subset)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "experiments: %s\n", e.what());
        return 1;
    }
}
