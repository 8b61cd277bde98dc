// The figures of chapter 08 (figures.hpp says how a figure is made).
#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "08_optimizers/initialization.hpp"
#include "08_optimizers/optimizers.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

// The blue, vermillion and green of the colour-blind-safe palette.
const std::string blue = "#0072B2", vermillion = "#D55E00", green = "#009E73";
// A space after a subscript of gnuplot's enhanced text: a space that starts an SVG text span is dropped when
// the SVG is drawn, so the space is an invisible "i" (gnuplot's &{...}) followed by no space.
const std::string space = "&{i}";

// The schedules of section 6's comparison: 8,000 training images in minibatches of 32 are 250 steps per
// epoch, 6 epochs, first rate 0.05. Each schedule has the settings that programs/experiments and
// `./course train` give it.
Figure schedules() {
    const std::size_t images = 8000, batch = 32, epochs = 6;
    const std::size_t steps_per_epoch = (images + batch - 1) / batch;
    const std::size_t T = epochs * steps_per_epoch;
    const real eta0 = 0.05;
    struct Curve {
        std::string title, colour;
        std::unique_ptr<LearningRateSchedule> schedule;
    };
    std::vector<Curve> curves;
    curves.push_back({"constant", "#999999", std::make_unique<ConstantLR>(eta0)});
    curves.push_back({"step decay, γ = 0.2 every " + std::to_string((T + 2) / 3) + " steps", vermillion,
                      std::make_unique<StepDecayLR>(eta0, real(0.2), (T + 2) / 3)});
    const double gamma = std::pow(0.01, 1.0 / static_cast<double>(T));
    auto exponential = std::make_unique<ExponentialDecayLR>(eta0, static_cast<real>(gamma));
    const double last_exponential = exponential->at(T - 1);
    curves.push_back({"exponential decay, γ = " + num(gamma, 6) + ", last step " + num(last_exponential, 2), green,
                      std::move(exponential)});
    curves.push_back({"cosine decay to 0", blue, std::make_unique<CosineDecayLR>(eta0, T, real(0))});

    std::string s;
    for (std::size_t c = 0; c < curves.size(); ++c) {
        std::vector<std::vector<double>> rows;
        // Every 5th step and the last one; the drops of step decay (at multiples of T / 3) are among them.
        for (std::size_t t = 0; t < T; t += 5) rows.push_back({static_cast<double>(t), curves[c].schedule->at(t)});
        rows.push_back({static_cast<double>(T - 1), curves[c].schedule->at(T - 1)});
        s += datablock("rate" + std::to_string(c), rows, 5);
    }
    s += "set title 'The learning rate of each schedule over " + std::to_string(epochs) + " epochs (" +
         std::to_string(T) + " steps), first rate " + num(eta0) + "'\n";
    s += "set xlabel 'step t (" + std::to_string(steps_per_epoch) + " steps = 1 epoch)'\n";
    s += "set ylabel 'learning rate η_t'\n";
    s += "set xrange [0:" + std::to_string(T) + "]\nset yrange [0:" + num(1.6 * eta0) + "]\n";
    s += "set xtics " + std::to_string(steps_per_epoch) + "\nset grid xtics ytics lc rgb '#dddddd'\n";
    s += "set key top right box opaque samplen 2\n";
    s += "plot ";
    for (std::size_t c = 0; c < curves.size(); ++c) {
        s += std::string(c > 0 ? ", \\\n     " : "") + "$rate" + std::to_string(c) + " using 1:2 with " +
             (c == 1 ? "steps" : "lines") + " lw 3 lc rgb '" + curves[c].colour + "' title " +
             figures::quoted(curves[c].title);
    }
    s += "\n";
    return {"08_optimizers", "schedules", Kind::plot, 720, 430, 0, s};
}

// Section 5's valley f(w) = 1/2 (w1^2 + 25 w2^2) starts at w = (start_w1, start_w2).
constexpr double start_w1 = -4.0, start_w2 = 1.0;

// One optimizer on the valley: the path in the plane until the distance to the minimum is below
// `tolerance` (at most max_steps steps).
std::vector<std::vector<double>> valley_path(Optimizer& optimizer, real learning_rate, double tolerance,
                                             std::size_t max_steps) {
    Tensor<1> w = {start_w1, start_w2}, g = {0.0, 0.0};
    std::vector<std::vector<double>> path;
    for (std::size_t t = 0; t <= max_steps; ++t) {
        path.push_back({w(0), w(1)});
        if (std::hypot(w(0), w(1)) < tolerance) break;
        g(0) = 1.0 * w(0);   // df/dw1 = w1
        g(1) = 25.0 * w(1);  // df/dw2 = 25 w2
        optimizer.step({param_ref("w", w, g)}, learning_rate);
    }
    return path;
}

// Plain SGD and momentum on the valley, at the two learning rates of section 5's table: one panel each.
Figure momentum_valley() {
    const double beta = 0.9, tolerance = 1e-3;
    const std::size_t max_steps = 2000;
    const std::vector<real> rates = {0.02, 0.07};
    std::string s;
    double x_min = -4.5, x_max = 1.0, y_min = -1.2, y_max = 1.2;
    std::vector<std::string> titles;
    for (std::size_t r = 0; r < rates.size(); ++r) {
        SGD sgd;
        MomentumSGD momentum(beta);
        const auto sgd_path = valley_path(sgd, rates[r], tolerance, max_steps);
        const auto momentum_path = valley_path(momentum, rates[r], tolerance, max_steps);
        for (const auto* path : {&sgd_path, &momentum_path}) {
            for (const auto& p : *path) {
                x_min = std::min(x_min, p[0] - 0.3);
                x_max = std::max(x_max, p[0] + 0.3);
                y_min = std::min(y_min, p[1] - 0.2);
                y_max = std::max(y_max, p[1] + 0.2);
            }
        }
        const std::string id = std::to_string(r);
        s += datablock("sgd" + id, sgd_path) + datablock("momentum" + id, momentum_path);
        titles.push_back("learning rate " + num(rates[r]) + ": plain SGD needs " + std::to_string(sgd_path.size() - 1) +
                         " steps, momentum " + std::to_string(momentum_path.size() - 1));
    }
    // The level curves f(w) = k^2 / 2, ellipses with half-axes k along w1 and k / 5 along w2, and the one
    // through the start.
    std::vector<std::vector<double>> ellipses;
    const double f_start = 0.5 * (start_w1 * start_w1 + 25.0 * start_w2 * start_w2);
    for (const double level : {0.5, 2.0, 4.5, 8.0, f_start}) {
        const double a1 = std::sqrt(2.0 * level), a2 = std::sqrt(2.0 * level / 25.0);
        for (int k = 0; k <= 120; ++k) {
            const double angle = 2.0 * std::numbers::pi * k / 120.0;
            ellipses.push_back({a1 * std::cos(angle), a2 * std::sin(angle)});
        }
        ellipses.emplace_back();  // a blank line: gnuplot starts a new curve
    }
    s += datablock("levels", ellipses);

    s += "set multiplot layout 2,1 title 'f(w) = (w₁² + 25 w₂²) / 2 from (" + num(start_w1) + ", " + num(start_w2) +
         "), momentum β = " + num(beta) + "'\n";
    s += "set size ratio -1\nset xlabel 'w_1'\nset ylabel 'w_2'\n";
    s += "set xrange [" + num(std::floor(x_min)) + ":" + num(std::ceil(x_max)) + "]\n";
    s += "set yrange [" + num(std::floor(y_min * 2) / 2) + ":" + num(std::ceil(y_max * 2) / 2) + "]\n";
    s += "set key outside right top box opaque samplen 2\nset xtics 1\nset ytics 0.5\n";
    s += "set label 1 'start' at " + num(start_w1) + "," + num(start_w2) + " offset -1,0.9 front\n";
    s += "$minimum << EOD\n0 0\nEOD\n";
    for (std::size_t r = 0; r < rates.size(); ++r) {
        const std::string id = std::to_string(r);
        s += "set title " + figures::quoted(titles[r]) + "\n";
        s += "plot $levels using 1:2 with lines lc rgb '#cccccc' title 'f = constant', \\\n";
        s += "     $sgd" + id + " using 1:2 with linespoints lw 1.5 pt 7 ps 0.35 lc rgb '" + vermillion +
             "' title 'plain SGD', \\\n";
        s += "     $momentum" + id + " using 1:2 with linespoints lw 1.5 pt 7 ps 0.35 lc rgb '" + blue +
             "' title 'momentum', \\\n";
        s += "     $minimum using 1:2 with points pt 3 ps 2 lw 2 lc rgb 'black' title 'minimum (0, 0)'\n";
    }
    s += "unset multiplot\n";
    return {"08_optimizers", "momentum_valley", Kind::plot, 760, 620, 0, s};
}

// He's and Xavier's standard deviation for each layer of LeNet (1 x 28 x 28 images, 10 classes), with the
// fan-in and fan-out that `initialize` uses: C KH KW and F KH KW for a convolution, D and M for FC.
Figure init_std_lenet() {
    const SimpleConvNet net({1, 28, 28}, 10);
    struct Layer {
        std::string name;
        std::size_t fan_in, fan_out;
    };
    const auto conv = [](const std::string& name, const Conv2D& layer) {
        const std::size_t F = layer.W.shape(0), C = layer.W.shape(1), KH = layer.W.shape(2), KW = layer.W.shape(3);
        return Layer{name, C * KH * KW, F * KH * KW};
    };
    const auto fc = [](const std::string& name, const FullyConnected& layer) {
        return Layer{name, layer.in_features(), layer.out_features()};
    };
    const std::vector<Layer> layers = {conv("conv1", net.conv1), conv("conv2", net.conv2), fc("fc1", net.fc1),
                                       fc("fc2", net.fc2), fc("fc3", net.fc3)};
    std::string s = "$std << EOD\n";
    std::string tics = "set xtics scale 0 (";
    double highest = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        const double he = init_std(InitScheme::he, l.fan_in, l.fan_out);
        const double xavier = init_std(InitScheme::xavier, l.fan_in, l.fan_out);
        highest = std::max({highest, he, xavier});
        s += std::to_string(i) + " " + num(he) + " " + num(xavier) + " " + figures::quoted(num(he, 2)) + " " +
             figures::quoted(num(xavier, 2)) + "\n";
        // in a gnuplot command (not in a data block), "\n" in double quotes is a line break
        tics += std::string(i > 0 ? ", " : "") + "\"" + l.name + "\\nin " + std::to_string(l.fan_in) + ", out " +
                std::to_string(l.fan_out) + "\" " + std::to_string(i);
    }
    tics += ")\n";
    s += "EOD\n";
    s += "set title 'The standard deviation of the first weights of each LeNet layer'\n";
    s += "set ylabel 'standard deviation σ'\nset xlabel 'layer (in: its fan-in, out: its fan-out)' offset 0,-0.6\nset "
         "bmargin 5\n";
    s += "set xrange [-0.6:" + num(static_cast<double>(layers.size()) - 0.4) + "]\n";
    s += "set yrange [0:" + num(1.25 * highest, 2) + "]\n";
    s += "set boxwidth 0.36\nset style fill solid 0.85 noborder\nset grid ytics lc rgb '#dddddd'\n";
    s += tics + "set key top right box opaque\n";
    s += "plot $std using ($1-0.19):2 with boxes lc rgb '" + vermillion + "' title 'He, √(2 / fan_{in})', \\\n";
    s += "     $std using ($1+0.19):3 with boxes lc rgb '" + blue + "' title 'Xavier, √(2 / (fan_{in}" + space +
         "+ fan_{out}))', \\\n";
    s += "     $std using ($1-0.19):2:4 with labels offset 0,0.7 notitle, \\\n";
    s += "     $std using ($1+0.19):3:5 with labels offset 0,0.7 notitle\n";
    return {"08_optimizers", "init_std_lenet", Kind::plot, 720, 420, 0, s};
}

}  // namespace

std::vector<Figure> chapter08() {
    return {schedules(), momentum_valley(), init_std_lenet()};
}

}  // namespace course::figures
