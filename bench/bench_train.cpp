// Training throughput of LeNet: images per second of forward + backward + momentum update, float.
//
//   bench_train [--repetitions R] [--quick] [--help]          (./course bench runs it)
//
// It measures, in one run: the readable layers of chapters 2 to 8, the reference's fast path
// (solutions/fast/) on 1 and 2 threads, and, when Debian's libtorch-dev was installed at configure time, the
// same LeNet in libtorch, for batches of 32, 64 and 128. Each figure is the median of R repetitions of a
// fixed number of steps after a warm-up. Then it prints how close each engine comes to the machine's limit
// (lenet_step_flops(), and OpenBLAS SGEMM on large square matrices measured in the same run), where the fast
// path spends its time, and how many heap allocations a steady-state step makes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "08_optimizers/optimizers.hpp"
#include "course/random.hpp"
#include "course/runtime.hpp"
#include "fast/gemm.hpp"
#include "fast/lenet_fast.hpp"
#ifdef COURSE_HAVE_TORCH
#include "lenet_libtorch.hpp"
#endif

// Operator new of this program counts its calls (tests/support/alloc_counter.cpp is one of its sources): a
// steady-state step of the fast path makes none. bench/ has no tests/ on its include path.
#include "../tests/support/alloc_counter.hpp"

using namespace course;

namespace {

static_assert(sizeof(real) == sizeof(float), "bench_train measures the float build");

struct Rate {
    double median = 0, low = 0, high = 0;
};

Rate summarize(std::vector<double> rates) {
    std::sort(rates.begin(), rates.end());
    return {rates[rates.size() / 2], rates.front(), rates.back()};
}

// Images per second of `repetitions` runs of `steps` calls of `step`, after `warmup` calls.
Rate measure(const std::function<void()>& step, std::size_t batch, int steps, int repetitions, int warmup = 5) {
    for (int i = 0; i < warmup; ++i) step();
    std::vector<double> rates;
    for (int r = 0; r < repetitions; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < steps; ++i) step();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(static_cast<double>(steps) * static_cast<double>(batch) / seconds);
    }
    return summarize(rates);
}

// The floating-point operations of one training step, per image: the multiply-adds of the matrix products
// (2 FLOP each) of the forward pass, of dW and of dx, for both convolutions (as im2col products) and the three
// fully connected layers. conv1 needs no dx (its input is the image). Bias, ReLU, pooling, softmax and the
// update are left out: together they are under 2 % of it. 1,517,040 for LeNet on 28 x 28 images.
constexpr double lenet_step_flops(std::size_t height, std::size_t width, std::size_t classes) {
    using Arch = LeNetArchitecture;
    const std::size_t taps = Arch::kernel * Arch::kernel;
    const std::size_t h1 = Arch::after_conv(height), w1 = Arch::after_conv(width);
    const std::size_t h2 = Arch::after_conv(Arch::after_pool(h1)), w2 = Arch::after_conv(Arch::after_pool(w1));
    const std::size_t flat = Arch::conv2_filters * Arch::after_pool(h2) * Arch::after_pool(w2);
    const double conv1 = 2.0 * static_cast<double>(Arch::conv1_filters * h1 * w1 * taps);  // 1 input channel
    const double conv2 = 2.0 * static_cast<double>(Arch::conv2_filters * h2 * w2 * Arch::conv1_filters * taps);
    const double fc = 2.0 * static_cast<double>(flat * Arch::fc1_features + Arch::fc1_features * Arch::fc2_features +
                                                Arch::fc2_features * classes);
    return 2 * conv1 + 3 * conv2 + 3 * fc;  // forward + dW (+ dx)
}
static_assert(lenet_step_flops(28, 28, 10) == 1517040.0, "the count that bench/README.md quotes");

// The machine's single-precision limit as OpenBLAS reaches it: GFLOP/s of SGEMM on n x n matrices, on
// `threads` threads at once, each with its own matrices and one BLAS thread (as the fast path runs). The
// median of `repetitions`.
double sgemm_gflops(int n, std::size_t threads, int repetitions) {
    const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    std::vector<std::vector<float>> a(threads, std::vector<float>(size, 0.5f)), b = a, c = a;
    auto products = [&](std::size_t t, int count) {
        for (int i = 0; i < count; ++i)
            fast::gemm(false, false, n, n, n, a[t].data(), n, b[t].data(), n, c[t].data(), n);
    };
    products(0, 1);  // warm-up: OpenBLAS's buffers
    std::vector<double> rates;
    for (int r = 0; r < repetitions; ++r) {
        const int count = 4;
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> workers;
        for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(products, t, count);
        products(0, count);
        for (std::thread& w : workers) w.join();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(2.0 * n * n * static_cast<double>(n) * count * static_cast<double>(threads) / seconds / 1e9);
    }
    return summarize(rates).median;
}

std::string cpu_name() {
    std::ifstream info("/proc/cpuinfo");
    for (std::string line; std::getline(info, line);) {
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    }
    return "unknown CPU";
}

#ifdef COURSE_HAVE_TORCH
constexpr const char* torch_header_cell = " | libtorch 1.13";
constexpr const char* torch_rule_cell = "|---";
#else
constexpr const char* torch_header_cell = "";
constexpr const char* torch_rule_cell = "";
#endif

struct Batch {
    Tensor<4> x;
    Labels y;
};

// Every network here is LeNet for MNIST: ImageShape's default 1 x 28 x 28 images, 10 classes.
constexpr ImageShape mnist{};
constexpr std::size_t classes = 10;

Batch make_batch(std::size_t n, Rng& rng) {
    return {rand_uniform<4>({n, mnist.channels, mnist.height, mnist.width}, rng, 0.0, 1.0),
            random_labels(n, classes, rng)};
}

constexpr const char* usage =
    "usage: bench_train [--repetitions R] [--quick] [--sub-batch S]\n"
    "  LeNet's training throughput (images/s): the readable layers, the fast path on 1 and 2 threads, and\n"
    "  libtorch when it was found at configure time; batches 32, 64 and 128; then the fast path's time per\n"
    "  stage and the heap allocations per step.\n"
    "  --repetitions R  the median is taken over R repetitions (default 7)\n"
    "  --quick          3 repetitions of a third of the steps each: a short first look\n"
    "  --sub-batch S    the fast path passes at most S images at once through the network on a thread\n"
    "                   (default 32; --sub-batch 128 is the layer-by-layer pass over a whole batch of 128)\n";

}  // namespace

int main(int argc, char** argv) {
    int repetitions = 7;
    bool quick = false;
    std::size_t sub_batch = fast::FastLeNet::default_sub_batch;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
            repetitions = 3;
        } else if (std::strcmp(argv[i], "--repetitions") == 0 && i + 1 < argc) {
            repetitions = std::max(1, std::atoi(argv[++i]));
        } else if (std::strcmp(argv[i], "--sub-batch") == 0 && i + 1 < argc) {
            sub_batch = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
        } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::fputs(usage, stdout);
            return 0;
        } else {
            std::fprintf(stderr,
                         "bench_train: unknown argument '%s' (use --repetitions R, --quick or --sub-batch S; --help)\n",
                         argv[i]);
            return 2;
        }
    }
    keep_freed_memory();
    use_one_blas_thread_unless_asked();
    std::printf("LeNet training throughput: forward + backward + momentum update, float, images/s\n");
    std::printf("CPU: %s, %u hardware threads\n", cpu_name().c_str(), std::thread::hardware_concurrency());
    std::printf("OpenBLAS: %s\n", openblas_description().c_str());
    std::printf("fast path: sub-batches of at most %zu images per thread\n", sub_batch);
    std::printf("median of %d repetitions (lowest-highest in brackets)\n\n", repetitions);

    const std::vector<std::size_t> batches = {32, 64, 128};
    Rng rng(1);
    std::vector<Batch> data;
    data.reserve(batches.size());
    for (std::size_t b : batches) data.push_back(make_batch(b, rng));
    auto steps_for = [&](std::size_t batch, double images) {
        return std::max(3, static_cast<int>((quick ? images / 3 : images) / static_cast<double>(batch)));
    };

    struct Row {
        std::size_t batch;
        Rate layers, fast1, fast2, torch1, torch2;
    };
    std::vector<Row> rows;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        const std::size_t b = batches[i];
        const Batch& d = data[i];
        Row row{b, {}, {}, {}, {}, {}};
        {
            SimpleConvNet net(mnist, classes, 5);
            MomentumSGD optimizer(0.9);
            row.layers = measure([&] { train_step(net, d.x, d.y, optimizer, real(0.01)); }, b, steps_for(b, 1500),
                                 repetitions, 2);
        }
        for (std::size_t threads : {1, 2}) {
            SimpleConvNet net(mnist, classes, 5);
            fast::FastLeNet fast(net, threads, sub_batch);
            MomentumSGD optimizer(0.9);
            (threads == 1 ? row.fast1 : row.fast2) =
                measure([&] { fast.train_step(d.x, d.y, optimizer, real(0.01)); }, b, steps_for(b, 6000), repetitions);
#ifdef COURSE_HAVE_TORCH
            (threads == 1 ? row.torch1 : row.torch2) = summarize(libtorch_images_per_second(
                static_cast<int>(b), static_cast<int>(threads), steps_for(b, 6000), repetitions));
#endif
        }
        rows.push_back(row);
        std::fprintf(stderr, "  measured batch %zu\n", b);
    }

    auto cell = [](const Rate& r) {
        char text[64];
        std::snprintf(text, sizeof text, "%6.0f (%.0f-%.0f)", r.median, r.low, r.high);
        return std::string(text);
    };
#ifdef COURSE_HAVE_TORCH
    std::printf("| batch | threads | readable layers | fast path | libtorch 1.13 | fast / libtorch |\n");
    std::printf("|---|---|---|---|---|---|\n");
#else
    std::printf("| batch | threads | readable layers | fast path |\n|---|---|---|---|\n");
#endif
    for (const Row& r : rows) {
        for (std::size_t threads : {1, 2}) {
            const Rate& f = threads == 1 ? r.fast1 : r.fast2;
            const std::string layers = threads == 1 ? cell(r.layers) : std::string("-");
#ifdef COURSE_HAVE_TORCH
            const Rate& t = threads == 1 ? r.torch1 : r.torch2;
            std::printf("| %zu | %zu | %s | %s | %s | %.2fx |\n", r.batch, threads, layers.c_str(), cell(f).c_str(),
                        cell(t).c_str(), f.median / t.median);
#else
            std::printf("| %zu | %zu | %s | %s |\n", r.batch, threads, layers.c_str(), cell(f).c_str());
#endif
        }
    }
#ifndef COURSE_HAVE_TORCH
    std::printf(
        "\n(libtorch-dev was not installed when this build was configured: no side-by-side. Install it "
        "with apt-get, then reconfigure, to compare.)\n");
#endif
    const Row& last = rows.back();
    std::printf("\nfast path, batch %zu: 2 threads give %.2fx the images/s of 1 thread\n", last.batch,
                last.fast2.median / last.fast1.median);

    // The limit: how many images per second the machine's SGEMM speed would allow, and the share of it each
    // engine reaches. No engine can reach 100 %: LeNet's products are small and thin (6 or 16 rows), and a
    // large square SGEMM is the best case of OpenBLAS.
    const double flops = lenet_step_flops(mnist.height, mnist.width, classes);
    const int n = quick ? 512 : 1024;
    const double peak1 = sgemm_gflops(n, 1, repetitions), peak2 = sgemm_gflops(n, 2, repetitions);
    std::printf(
        "\nthe limit: a training step is %.3f MFLOP per image (the products of forward, dW and dx);\n"
        "OpenBLAS SGEMM %d x %d reaches %.1f GFLOP/s on 1 thread and %.1f on 2 (medians), so at most\n"
        "%.0f and %.0f images/s. Share of that limit:\n\n",
        flops / 1e6, n, n, peak1, peak2, peak1 * 1e9 / flops, peak2 * 1e9 / flops);
    std::printf("| batch | threads | readable layers | fast path%s |\n|---|---|---|---%s|\n", torch_header_cell,
                torch_rule_cell);
    for (const Row& r : rows) {
        for (std::size_t threads : {1, 2}) {
            const double limit = (threads == 1 ? peak1 : peak2) * 1e9 / flops;
            const Rate& f = threads == 1 ? r.fast1 : r.fast2;
            char layers[32] = "-";
            if (threads == 1) std::snprintf(layers, sizeof layers, "%.1f %%", 100.0 * r.layers.median / limit);
            std::printf("| %zu | %zu | %s | %.1f %%", r.batch, threads, layers, 100.0 * f.median / limit);
#ifdef COURSE_HAVE_TORCH
            std::printf(" | %.1f %%", 100.0 * (threads == 1 ? r.torch1 : r.torch2).median / limit);
#endif
            std::printf(" |\n");
        }
    }

    // Where the time goes: the stages of a step of the fast path, measured by thread 0.
    for (std::size_t threads : {1, 2}) {
        const Batch& d = data[1];  // batch 64
        SimpleConvNet net(mnist, classes, 5);
        fast::FastLeNet fast(net, threads, sub_batch);
        MomentumSGD optimizer(0.9);
        for (int i = 0; i < 5; ++i) fast.train_step(d.x, d.y, optimizer, real(0.01));
        fast.times.clear();
        const int steps = quick ? 30 : 100;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < steps; ++i) fast.train_step(d.x, d.y, optimizer, real(0.01));
        const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("\nwhere a step of the fast path spends its time (batch 64, %zu thread%s, %.3f ms per step):\n",
                    threads, threads == 1 ? "" : "s", 1000.0 * total / steps);
        double accounted = 0;
        for (const fast::Stage stage : fast::all_stages) {
            const double share = fast.times[stage] / total;
            accounted += share;
            std::printf("  %5.1f %%  %s\n", 100.0 * share, fast::stage_name(stage));
        }
        std::printf("  %5.1f %%  other (waiting for the other thread, the minibatch loop, timers)\n",
                    100.0 * std::max(0.0, 1.0 - accounted));
    }

    // Heap allocations of a steady-state step (after the warm-up above sized every buffer).
    std::printf("\nheap allocations per steady-state step (operator new, counted over 20 steps):\n");
    {
        const Batch& d = data[1];
        SimpleConvNet net(mnist, classes, 5);
        MomentumSGD optimizer(0.9);
        for (int i = 0; i < 3; ++i) train_step(net, d.x, d.y, optimizer, real(0.01));
        const std::size_t before = alloc_counter::allocations();
        for (int i = 0; i < 20; ++i) train_step(net, d.x, d.y, optimizer, real(0.01));
        std::printf("  readable layers: %.1f (every layer returns new tensors; clear, not fast)\n",
                    static_cast<double>(alloc_counter::allocations() - before) / 20.0);
    }
    for (std::size_t threads : {1, 2}) {
        const Batch& d = data[1];
        SimpleConvNet net(mnist, classes, 5);
        fast::FastLeNet fast(net, threads, sub_batch);
        MomentumSGD optimizer(0.9);
        for (int i = 0; i < 3; ++i) fast.train_step(d.x, d.y, optimizer, real(0.01));
        const std::size_t before = alloc_counter::allocations(), heap = alloc_counter::malloc_bytes_in_use();
        for (int i = 0; i < 20; ++i) fast.train_step(d.x, d.y, optimizer, real(0.01));
        std::printf("  fast path, %zu thread%s: %.1f (malloc'ed bytes %s)\n", threads, threads == 1 ? "" : "s",
                    static_cast<double>(alloc_counter::allocations() - before) / 20.0,
                    alloc_counter::malloc_bytes_in_use() == heap ? "unchanged" : "changed");
    }
    return 0;
}
