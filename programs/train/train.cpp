// The training program: trains the chapter 7 LeNet on real digits and shows it learning.
//
//   train [--data mnist|mnist-subset|fashion|DIR] [--epochs N] [--batch-size B] [--lr RATE] [--seed S] [--out DIR]
//   train --evaluate WEIGHTS [--data ...]       score saved weights on the held-out test set
//   train --overfit N [--overfit-steps S] [--lr RATE]   learn the first N training images by heart (a sanity check)
//
// It is built once per track: build/reference/programs/train/train trains the reference solution,
// build/learner/programs/train/train trains your own layers. `./course train` runs it.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "07_network/network.hpp"
#include "08_optimizers/optimizers.hpp"
#include "course/data.hpp"
#include "course/runtime.hpp"
#include "course/weights.hpp"
#include "overfit.hpp"
#include "plots.hpp"
#include "progress.hpp"

// The reference track has a fast path (solutions/fast/; CMake links it and defines COURSE_HAVE_FAST_PATH); the
// learner's track trains the layers themselves.
#ifdef COURSE_HAVE_FAST_PATH
#include "fast/lenet_fast.hpp"
#else
#define COURSE_HAVE_FAST_PATH 0
#endif

namespace fs = std::filesystem;
using namespace course;

namespace {

struct Options {
    std::string data;  // empty: the engine's default (default_data)
    std::size_t epochs = 20;
    std::size_t batch_size = 64;
    double learning_rate = 0.05;
    std::string optimizer = "momentum";
    double momentum = 0.9;
    std::string schedule = "cosine";
    std::size_t augment = 2;
    bool flip = false;
    std::string engine = COURSE_HAVE_FAST_PATH ? "fast" : "layers";
    std::size_t threads = 2;
    std::uint64_t seed = default_seed;
    std::string out;
    std::string evaluate;
    std::size_t limit_train = 0;
    bool plots = true;
    std::size_t overfit = 0;  // 0: train normally; N: the overfit check on the first N training images
    std::size_t overfit_steps = train::OverfitSettings{}.max_steps;
};

std::unique_ptr<Optimizer> make_optimizer(const Options& opt) {
    if (opt.optimizer == "sgd") return std::make_unique<SGD>();
    return std::make_unique<MomentumSGD>(static_cast<real>(opt.momentum));
}

// The schedules run over all steps of the training, T = epochs x steps per epoch.
std::unique_ptr<LearningRateSchedule> make_schedule(const Options& opt, std::size_t total_steps) {
    const auto eta0 = static_cast<real>(opt.learning_rate);
    if (opt.schedule == "constant") return std::make_unique<ConstantLR>(eta0);
    if (opt.schedule == "step") {
        // Three plateaus: the rate falls to a fifth after each third of the training.
        return std::make_unique<StepDecayLR>(eta0, real(0.2), std::max<std::size_t>(1, (total_steps + 2) / 3));
    }
    if (opt.schedule == "exponential") {
        // The same factor at every step, chosen so that the last step runs at 1 % of the first rate.
        return std::make_unique<ExponentialDecayLR>(
            eta0, static_cast<real>(std::pow(0.01, 1.0 / static_cast<double>(std::max<std::size_t>(1, total_steps)))));
    }
    return std::make_unique<CosineDecayLR>(eta0, total_steps, real(0));
}

struct NamedData {
    std::string name;  // "mnist", "mnist-subset", "fashion-mnist" or the folder's name
    fs::path folder;
    std::vector<std::string> class_names;  // for the confusion matrix
    std::string why;                       // why this data: the first line of every run says it
};

// The data a run uses when --data is not given, and why. The fast path trains the full MNIST in under a minute
// on 2 cores, so that is the benchmark it shows; the readable layers (your own on the learner track) are about
// 2.4 times slower, and a learner's first run should be short, so they start on the subset.
std::pair<std::string, std::string> default_data(const std::string& engine) {
    if (engine == "fast")
        return {"mnist",
                "the fast path's default: the full MNIST, 60,000 training digits, in under a minute on 2 "
                "cores"};
    return {"mnist-subset",
            "the readable layers' default: 10,000 digits, enough to see them learn in about 15 "
            "seconds; --data mnist trains them on all 60,000, about 5 seconds per epoch"};
}

NamedData resolve_data(const std::string& choice, const std::string& engine) {
    const std::vector<std::string> digits = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    auto [name, why] = choice.empty() ? default_data(engine) : std::pair{choice, std::string("chosen with --data")};
    // The two sets that datasets/prepare.py writes, with the commands that prepare each: a clear error when one
    // is not there yet
    struct Prepared {
        const char* name;
        const char* course_command;  // ./course ...
        const char* prepare_set;     // python3 -m datasets.prepare --set ...
    };
    const Prepared prepared[] = {{"mnist-subset", "train", "subset"}, {"mnist", "train --data mnist", "mnist"}};
    for (const Prepared& set : prepared) {
        if (name != set.name) continue;
        const fs::path folder = fs::path(COURSE_SOURCE_DIR) / "data" / set.name;
        if (!fs::exists(folder / "train-images-idx3-ubyte")) {
            throw DataError(folder.string() + ": the data set " + set.name + " is not prepared yet; run ./course " +
                            set.course_command + " (it prepares it) or python3 -m datasets.prepare --set " +
                            set.prepare_set);
        }
        return {name, folder, digits, why};
    }
    if (name == "fashion" || name == "fashion-mnist") {
        return {"fashion-mnist",
                "/usr/share/datasets/fashion-mnist",
                {"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"},
                why};
    }
    const fs::path folder(name);
    return {folder.filename().empty() ? folder.parent_path().filename().string() : folder.filename().string(), folder,
            digits, why};
}

// Writes a whole text file atomically (temporary file, then rename), like the weights.
void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << text;
        if (!out) throw DataError(path.string() + ": cannot write");
    }
    fs::rename(tmp, path);
}

std::string metrics_csv(const std::vector<train::EpochMetrics>& epochs) {
    std::string csv =
        "epoch,learning_rate,train_loss,test_loss,test_accuracy,seconds,images_per_second,elapsed_seconds\n";
    char line[256];
    for (const auto& m : epochs) {
        std::snprintf(line, sizeof line, "%zu,%g,%.6f,%.6f,%.6f,%.3f,%.1f,%.3f\n", m.epoch, m.learning_rate,
                      m.train_loss, m.test_loss, m.test_accuracy, m.seconds, m.images_per_second, m.elapsed_seconds);
        csv += line;
    }
    return csv;
}

struct Evaluation {
    double loss = 0;
    double accuracy = 0;
    std::size_t right = 0;
    std::vector<std::vector<std::size_t>> confusion;
    std::vector<train::Mistake> mistakes;
};

using ScoresOf = std::function<Tensor<2>(const Tensor<4>&)>;

// Scores a network on a dataset in batches: mean loss, accuracy, confusion matrix, first mistakes.
Evaluation evaluate(const ScoresOf& scores_of, std::size_t K, const Dataset& data, std::size_t max_mistakes = 24) {
    const std::size_t batch = 500;
    Evaluation e;
    e.confusion.assign(K, std::vector<std::size_t>(K, 0));
    std::vector<std::size_t> indices;
    Tensor<4> x;
    Labels y;
    for (std::size_t start = 0; start < data.size(); start += batch) {
        indices.clear();
        for (std::size_t i = start; i < std::min(start + batch, data.size()); ++i) indices.push_back(i);
        gather_batch(data, indices, x, y);
        const Tensor<2> scores = scores_of(x);
        e.loss += static_cast<double>(cross_entropy_loss(scores, y).loss) * static_cast<double>(y.size());
        for (std::size_t n = 0; n < y.size(); ++n) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < K; ++k) best = scores(n, k) > scores(n, best) ? k : best;
            e.confusion[y[n]][best] += 1;
            if (best == y[n]) {
                ++e.right;
            } else if (e.mistakes.size() < max_mistakes) {
                train::Mistake m{Tensor<2>({x.shape(2), x.shape(3)}), y[n], best};
                for (std::size_t h = 0; h < x.shape(2); ++h) {
                    for (std::size_t w = 0; w < x.shape(3); ++w) m.image(h, w) = x(n, 0, h, w);
                }
                e.mistakes.push_back(std::move(m));
            }
        }
    }
    e.loss /= static_cast<double>(std::max<std::size_t>(data.size(), 1));
    e.accuracy = static_cast<double>(e.right) / static_cast<double>(std::max<std::size_t>(data.size(), 1));
    return e;
}

// A NaN or an infinity does not always reach the loss: a ReLU written as x > 0 ? x : 0 turns NaN into 0, and an
// update can make a weight infinite after the loss of its step was measured. So after every step we look at every
// parameter and its gradient once, and search for the first bad number only when there is one.
bool all_finite(std::span<const real> numbers) {
    // |x| <= max is false for NaN and infinity. This form vectorizes at -O3 (about 7 us for LeNet's 2 x 44,426
    // numbers, under 1 % of a step); a loop of std::isfinite does not (about 70 us).
    int bad = 0;
    for (const real x : numbers) bad |= static_cast<int>(!(std::abs(x) <= std::numeric_limits<real>::max()));
    return bad == 0;
}

// The first number that is not finite, in the order of params_and_grads(), as "conv1.W[2, 0, 1, 3] is NaN";
// a gradient is named as the layers name it, conv1.dW. Empty when every number is finite.
std::string first_not_finite(const std::vector<ParamRef>& params) {
    for (const ParamRef& p : params) {
        if (all_finite(p.value) && all_finite(p.grad)) continue;
        const std::size_t dot = p.name.rfind('.') + 1;  // npos + 1 is 0: a name without a dot gets a d in front
        const std::string grad_name = p.name.substr(0, dot) + "d" + p.name.substr(dot);
        for (std::size_t i = 0; i < p.value.size(); ++i) {
            if (!std::isfinite(p.value[i])) return detail::not_finite(p.name, p.shape, i, p.value[i]);
            if (!std::isfinite(p.grad[i])) return detail::not_finite(grad_name, p.shape, i, p.grad[i]);
        }
    }
    return "";
}

void print_confusion(const Evaluation& e, const std::vector<std::string>& names) {
    std::printf("confusion matrix (rows: true class, columns: predicted class)\n%9s", "");
    for (std::size_t p = 0; p < e.confusion.size(); ++p) std::printf("%6.6s", names[p].c_str());
    std::printf("\n");
    for (std::size_t t = 0; t < e.confusion.size(); ++t) {
        std::printf("%9.9s", names[t].c_str());
        for (std::size_t count : e.confusion[t]) std::printf("%6zu", count);
        std::printf("\n");
    }
}

// --overfit N: chapter 7's plain SGD on the first N training images, with the readable layers (the learner's on
// the learner track) whatever --engine says. No held-out evaluation and no files: only the two checks.
int run_overfit(const Options& opt, const NamedData& source, const Dataset& train_set) {
    if (opt.overfit > train_set.size()) {
        throw ArgumentError("--overfit " + std::to_string(opt.overfit) + ": " + source.name + " has only " +
                            std::to_string(train_set.size()) + " training images");
    }
    const Dataset few = take(train_set, opt.overfit);
    const ImageShape shape{few.images.shape(1), few.images.shape(2), few.images.shape(3)};
    SimpleConvNet net(shape, 10, opt.seed);
    std::printf("         the first %zu training images of %zu x %zu x %zu (%s)\n", few.size(), shape.channels,
                shape.height, shape.width, source.folder.c_str());
    std::printf(
        "network: LeNet, %s parameters; track: %s; numbers: %s; engine: the layers of chapters 2 to 7; "
        "seed %llu\n",
        train::with_commas(net.parameter_count()).c_str(), COURSE_TRACK_NAME, sizeof(real) == 4 ? "float" : "double",
        static_cast<unsigned long long>(opt.seed));
    train::OverfitSettings settings;
    settings.images = opt.overfit;
    settings.max_steps = opt.overfit_steps;
    settings.learning_rate = opt.learning_rate;
    const train::OverfitResult result = train::overfit(net, few, settings);
    return result.first_loss_ok && result.learned ? 0 : 1;
}

int run(const Options& opt) {
    // --overfit always trains the readable layers, so it takes their default data
    const NamedData source = resolve_data(opt.data, opt.overfit > 0 ? "layers" : opt.engine);
    std::printf("data:    %s (%s)\n", source.name.c_str(), source.why.c_str());
    std::fflush(stdout);  // before a slow load or its error
    TrainTest data = load_idx_directory(source.folder);
    if (opt.overfit > 0) return run_overfit(opt, source, data.train);
    if (opt.limit_train > 0) data.train = take(data.train, opt.limit_train);
    const fs::path out = opt.out.empty() ? fs::path(COURSE_BUILD_DIR) / "results" / source.name : fs::path(opt.out);
    fs::create_directories(out);

    const ImageShape shape{data.train.images.shape(1), data.train.images.shape(2), data.train.images.shape(3)};
    SimpleConvNet net(shape, 10, opt.seed);
    std::printf("         %s training and %s test images of %zu x %zu x %zu (%s)\n",
                train::with_commas(data.train.size()).c_str(), train::with_commas(data.test.size()).c_str(),
                shape.channels, shape.height, shape.width, source.folder.c_str());
    std::printf("network: LeNet, %s parameters; track: %s; numbers: %s; OpenBLAS: %s\n",
                train::with_commas(net.parameter_count()).c_str(), COURSE_TRACK_NAME,
                sizeof(real) == 4 ? "float" : "double", openblas_description().c_str());

    train::PlotData plots;
    plots.title = "LeNet on " + source.name;
    plots.class_names = source.class_names;
    // Draws the pictures of the trained (or loaded) network; returns the files made, empty with `why` if none.
    auto draw = [&](const Evaluation& e, std::string& why) {
        plots.filters = net.conv1.W;
        plots.confusion = e.confusion;
        plots.mistakes = e.mistakes;
        return train::draw_plots(out, plots, why);
    };

    const ScoresOf layer_scores = [&](const Tensor<4>& x) {
        return net.forward(x);
    };
    if (!opt.evaluate.empty()) {
        load_weights(opt.evaluate, net.params_and_grads());
        const Evaluation e = evaluate(layer_scores, net.num_classes(), data.test);
        std::printf("weights: %s\nheld-out accuracy: %.2f%% (%zu of %zu), loss %.4f\n", opt.evaluate.c_str(),
                    100.0 * e.accuracy, e.right, data.test.size(), e.loss);
        print_confusion(e, source.class_names);
        if (opt.plots) {
            std::string why;
            const auto made = draw(e, why);
            if (made.empty())
                std::printf("pictures: none (%s)\n", why.c_str());
            else
                std::printf("pictures: %s (confusion.png, mistakes.png, conv1_filters.png)\n", out.c_str());
        }
        return 0;
    }

    const std::size_t steps_per_epoch = (data.train.size() + opt.batch_size - 1) / opt.batch_size;
    const std::unique_ptr<Optimizer> optimizer = make_optimizer(opt);
    const std::unique_ptr<LearningRateSchedule> schedule = make_schedule(opt, opt.epochs * steps_per_epoch);
    std::printf("training: %zu epochs, batch size %zu, %s, learning rate %g with %s schedule, %s, seed %llu\n",
                opt.epochs, opt.batch_size, optimizer->describe().c_str(), opt.learning_rate, opt.schedule.c_str(),
                (opt.augment ? "random shifts of up to " + std::to_string(opt.augment) + " pixels" : "no shifts")
                    .append(opt.flip ? ", random flips" : "")
                    .c_str(),
                static_cast<unsigned long long>(opt.seed));
    // The engine: the layers of chapters 2 to 7 (any track), or the reference's fast path, which keeps its own
    // copy of the weights and hands them to `net` after every epoch (for evaluating, saving and plotting).
#if COURSE_HAVE_FAST_PATH
    std::unique_ptr<fast::FastLeNet> fast_net;
    if (opt.engine == "fast") fast_net = std::make_unique<fast::FastLeNet>(net, opt.threads);
#else
    if (opt.engine == "fast") throw ArgumentError("--engine fast: the fast path exists on the reference track only");
#endif
    std::printf("engine:   %s\n",
                opt.engine == "fast"
                    ? ("the reference's fast path, " + std::to_string(opt.threads) + " thread(s)").c_str()
                    : "the layers of chapters 2 to 7");
    ScoresOf scores_of = layer_scores;
#if COURSE_HAVE_FAST_PATH
    if (fast_net)
        scores_of = [&](const Tensor<4>& x) {
            return fast_net->scores(x);
        };
#endif
    using AfterStep = std::function<bool(std::size_t, std::size_t, std::size_t, double)>;
    auto run_epoch = [&](const Dataset& epoch_data, std::size_t& step, Rng& rng, const AfterStep& after_step) {
#if COURSE_HAVE_FAST_PATH
        if (fast_net) {
            double sum = 0;
            const std::size_t done =
                for_each_minibatch(epoch_data, opt.batch_size, rng,
                                   [&](const Tensor<4>& x, const Labels& y, std::size_t i, std::size_t n) {
                                       const double loss = fast_net->train_step(x, y, *optimizer, schedule->at(step++));
                                       sum += loss;
                                       return after_step(i, n, y.size(), loss);
                                   });
            fast_net->copy_weights_to(net);
            return sum / static_cast<double>(std::max<std::size_t>(done, 1));
        }
#endif
        return train_epoch(net, epoch_data, opt.batch_size, *optimizer, *schedule, step, rng, after_step);
    };
    // The fast path's parameters live in fast_net, not in net, between the epochs.
    const std::vector<ParamRef>* fast_params = nullptr;
#if COURSE_HAVE_FAST_PATH
    if (fast_net) fast_params = &fast_net->params_and_grads();
#endif
    Rng shuffle_rng(opt.seed + 1);
    std::size_t step = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t epoch = 1; epoch <= opt.epochs; ++epoch) {
        train::ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(opt.epochs), steps_per_epoch);
        std::string diverged;
        const double epoch_rate = schedule->at(step);
        // Augmentation draws a new shifted copy of the training set for every epoch (about 10 ms).
        const bool augmented = opt.augment > 0 || opt.flip;
        Dataset epoch_data = augmented ? random_shifts(data.train, opt.augment, shuffle_rng) : Dataset{};
        if (opt.flip) random_flips(epoch_data, shuffle_rng);
        // Runs after every update: the weights, their gradients and the loss must all be finite. The first bad
        // number stops training before the epoch's end, so weights.bin keeps the last good epoch's weights.
        const auto after_step = [&](std::size_t index, std::size_t, std::size_t images, double loss) {
            diverged =
                fast_params != nullptr ? first_not_finite(*fast_params) : first_not_finite(net.params_and_grads());
            if (diverged.empty() && !std::isfinite(loss))
                diverged = std::string("the loss is ") + (std::isnan(loss) ? "NaN" : "infinite");
            if (!diverged.empty()) {
                diverged += " after step " + std::to_string(index + 1) + " of epoch " + std::to_string(epoch);
                return false;
            }
            bar.step(images, loss);
            return true;
        };
        const double train_loss = run_epoch(augmented ? epoch_data : data.train, step, shuffle_rng, after_step);
        bar.finish();
        if (!diverged.empty()) {
            const std::string saved = epoch > 1
                                          ? "The weights of epoch " + std::to_string(epoch - 1) +
                                                ", the last good ones, are kept in " + (out / "weights.bin").string()
                                          : "No epoch finished, so no weights were saved";
            std::fprintf(stderr,
                         "train: %s, so training stopped. %s. The learning rate %g is probably too high: try --lr %g, "
                         "or check the input data.\n",
                         diverged.c_str(), saved.c_str(), opt.learning_rate, opt.learning_rate / 10);
            return 3;
        }
        const double seconds = bar.elapsed();
        const double images_per_second = bar.images_per_second();
        const Evaluation e = evaluate(scores_of, net.num_classes(), data.test, 0);
        const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf(
            "epoch %2zu/%zu  train loss %.4f  test loss %.4f  held-out accuracy %6.2f%%  %5.1f s  %6.0f img/s  "
            "(total %s)\n",
            epoch, opt.epochs, train_loss, e.loss, 100.0 * e.accuracy, seconds, images_per_second,
            train::clock_time(total).c_str());
        std::fflush(stdout);
        plots.epochs.push_back({epoch, epoch_rate, train_loss, e.loss, e.accuracy, seconds, images_per_second, total});
        save_weights(out / "weights.bin", net.params_and_grads());
        write_atomically(out / "metrics.csv", metrics_csv(plots.epochs));
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const Evaluation e = evaluate(scores_of, net.num_classes(), data.test);
    std::printf("\nheld-out accuracy: %.2f%% (%zu of %zu test images) after %zu epochs in %.1f s\n", 100.0 * e.accuracy,
                e.right, data.test.size(), opt.epochs, total);
    std::printf("results:  %s\n          metrics.csv, weights.bin", out.c_str());
    if (opt.plots) {
        std::string why;
        const auto made = draw(e, why);
        for (const std::string& f : made) std::printf(", %s", f.c_str());
        if (made.empty()) std::printf("\n          no pictures: %s", why.c_str());
    }
    std::printf("\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    CLI::App app{"Train the chapter 7 LeNet on real digits, or score saved weights (--evaluate)."};
    app.add_option("--data", opt.data,
                   "mnist (the full MNIST, 60,000 + 10,000 digits; the fast path's default), mnist-subset (10,000 "
                   "real MNIST digits; the readable layers' default), both prepared by ./course train; fashion "
                   "(Debian's Fashion-MNIST), or a folder with the four standard MNIST IDX files (plain or .gz)");
    app.add_option("--epochs", opt.epochs, "passes over the training set")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_option("--batch-size", opt.batch_size, "images per SGD step")
        ->capture_default_str()
        ->check(CLI::Range(1, 65536));
    app.add_option("--lr", opt.learning_rate, "the first learning rate")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--optimizer", opt.optimizer, "sgd (chapter 7) or momentum (chapter 8)")
        ->capture_default_str()
        ->check(CLI::IsMember({"sgd", "momentum"}));
    app.add_option("--momentum", opt.momentum, "beta of momentum SGD, in [0, 1)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.999999));
    app.add_option("--lr-schedule", opt.schedule,
                   "constant; step (a fifth after each third of the training); exponential (down to 1 % at the "
                   "end); cosine (down to 0 at the end)")
        ->capture_default_str()
        ->check(CLI::IsMember({"constant", "step", "exponential", "cosine"}));
    app.add_option("--seed", opt.seed, "seed of the initial weights and of the shuffles")->capture_default_str();
    app.add_option("--out", opt.out,
                   "folder for metrics.csv, weights.bin and the pictures "
                   "(default: <build folder>/results/<data name>)");
    CLI::Option* evaluate =
        app.add_option("--evaluate", opt.evaluate, "score this weights file on the test set instead of training")
            ->check(CLI::ExistingFile);
    app.add_option("--augment", opt.augment,
                   "move every training image by up to this many pixels, a new random shift each epoch (0: off)")
        ->capture_default_str()
        ->check(CLI::Range(0, 8));
    app.add_flag("--flip", opt.flip,
                 "mirror half of the training images left to right each epoch (for clothes, "
                 "not for digits)");
    app.add_option("--engine", opt.engine,
                   "layers: the readable layers of chapters 2 to 7 (your own on the learner track); fast: the "
                   "reference's fast path (reference track only)")
        ->capture_default_str()
        ->check(CLI::IsMember({"layers", "fast"}));
    app.add_option("--threads", opt.threads, "threads of the fast path (each takes a slice of every batch)")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    app.add_option("--limit-train", opt.limit_train, "use only the first N training images (0: all)")
        ->capture_default_str();
    app.add_flag("!--no-plots", opt.plots, "do not draw the pictures");
    app.add_option("--overfit", opt.overfit,
                   "the sanity check before full training: plain SGD on the first N training images only, all of "
                   "them in every step, until the loss is below 0.01; checks that the first loss is close to ln(10) "
                   "and that the loss falls; exit code 0 only when both checks pass (0: off)")
        ->check(CLI::Range(0, 100000))
        ->excludes(evaluate);
    app.add_option("--overfit-steps", opt.overfit_steps, "--overfit: the steps the loss may take to fall below 0.01")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.footer(
        "NaN and infinity: after every step, training checks every weight, every gradient and the loss. At the first "
        "NaN or infinity it stops with an error that names the number, the step and the epoch; weights.bin keeps the "
        "weights of the last good epoch. --evaluate refuses a weights file that holds NaN or infinity.");
    CLI11_PARSE(app, argc, argv);
    keep_freed_memory();
    use_one_blas_thread_unless_asked();
    try {
        return run(opt);
    } catch (const DataError& e) {
        std::fprintf(stderr, "train: %s\n", e.what());
        return 2;
    } catch (const ArgumentError& e) {
        std::fprintf(stderr, "train: %s\n", e.what());
        return 2;
    } catch (const TodoError& e) {
        const bool chapter8 = std::string(e.what()).rfind("TODO(ch08)", 0) == 0;
        std::fprintf(
            stderr, "train: your code is not finished yet: %s%s\n", e.what(),
            chapter8 ? "\ntrain: until chapter 8 is done, train with --optimizer sgd --lr-schedule constant" : "");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "train: %s\n", e.what());
        return 1;
    }
}
