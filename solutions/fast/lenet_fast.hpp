/// @file lenet_fast.hpp
/// @brief The reference's fast path: the whole LeNet of chapter 7 as one object with preallocated buffers,
/// im2col written straight into the matrix-product operand, fused bias + ReLU, one-byte pooling positions,
/// and the batch split over threads.
///
/// It computes exactly what `SimpleConvNet` computes (the tests compare every score and every gradient with
/// the readable layers, in double precision); it only organizes the work differently:
///
/// - **Activations are stored channel-major, (C, N, H, W).** The im2col matrix product of a convolution
///   gives its output as (F, N·Ho·Wo), which *is* (F, N, Ho, Wo) in memory; pooling and the next im2col read
///   that layout directly, so no transpose is ever needed between the convolutions. Only the flatten before
///   fc1 reorders, (16, N, 4, 4) to (N, 256).
/// - **No allocation in a training step.** Every buffer is sized once for the largest batch seen and reused;
///   the last, smaller batch of an epoch uses a prefix of the same buffers.
/// - **Fused passes.** Bias and ReLU are applied in one pass over the product's output; pooling's backward
///   pass writes the ReLU-masked gradient directly.
/// - **Threads over the batch.** With T threads, each one runs the forward and backward pass of its slice of
///   the batch with its own buffers and its own gradients, reading the shared weights; the gradients are then
///   summed and the optimizer updates the shared weights once. OpenBLAS runs single-threaded inside.
/// - **Sub-batches.** A thread runs the whole network, forward and backward, on at most `sub_batch` images at
///   a time and adds up their gradients. So its buffers stay the size of a sub-batch, in the cache, however
///   large the batch is: a layer-by-layer pass over 128 images would not fit (conv1's output alone is 1.8 MB).
///
/// The ten parameter tensors have the names, shapes and order of `SimpleConvNet` (`conv1.W`, `conv1.b`, ...,
/// `fc3.b`), so weight files, optimizers and `params_and_grads()` work the same. The layer sizes come from
/// `LeNetArchitecture` (07_network/network.hpp), the one description of LeNet that both engines use.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "07_network/network.hpp"
#include "08_optimizers/optimizers.hpp"
#include "fast/gemm.hpp"
#include "course/errors.hpp"
#include "course/layer.hpp"

namespace course::fast {

/// @brief The stages of a training step, in the order a step runs them, for the benchmark's time breakdown.
enum class Stage {
    conv1_forward,
    pool1_forward,
    conv2_forward,
    pool2_forward,
    fc_forward,
    loss,
    fc_backward,
    pool2_backward,
    conv2_backward,
    pool1_backward,
    conv1_backward,
    reduce_gradients,
    update
};

/// @brief Every stage, in order: `for (Stage s : all_stages)`.
inline constexpr std::array all_stages{
    Stage::conv1_forward,  Stage::pool1_forward,    Stage::conv2_forward,  Stage::pool2_forward,  Stage::fc_forward,
    Stage::loss,           Stage::fc_backward,      Stage::pool2_backward, Stage::conv2_backward, Stage::pool1_backward,
    Stage::conv1_backward, Stage::reduce_gradients, Stage::update};
static_assert(static_cast<std::size_t>(all_stages.back()) + 1 == all_stages.size(), "all_stages lists every Stage");

/// @brief What a stage does, for the benchmark's table.
constexpr const char* stage_name(Stage stage) {
    switch (stage) {
        case Stage::conv1_forward:
            return "conv1 forward (im2col + GEMM + bias/ReLU)";
        case Stage::pool1_forward:
            return "pool1 forward";
        case Stage::conv2_forward:
            return "conv2 forward (im2col + GEMM + bias/ReLU)";
        case Stage::pool2_forward:
            return "pool2 forward";
        case Stage::fc_forward:
            return "flatten + fc1-fc3 forward";
        case Stage::loss:
            return "softmax + cross-entropy";
        case Stage::fc_backward:
            return "fc3-fc1 backward + unflatten";
        case Stage::pool2_backward:
            return "pool2 backward (+ ReLU mask)";
        case Stage::conv2_backward:
            return "conv2 backward (2 GEMMs + col2im)";
        case Stage::pool1_backward:
            return "pool1 backward (+ ReLU mask)";
        case Stage::conv1_backward:
            return "conv1 backward (dW GEMM)";
        case Stage::reduce_gradients:
            return "sum of the threads' gradients";
        case Stage::update:
            return "optimizer update";
    }
    return "unknown stage";
}

/// @brief Seconds spent in each stage (by thread 0, which does its share of every stage).
struct StageTimes {
    std::array<double, all_stages.size()> seconds{};
    double& operator[](Stage stage) { return seconds[static_cast<std::size_t>(stage)]; }
    double operator[](Stage stage) const { return seconds[static_cast<std::size_t>(stage)]; }
    void clear() { seconds.fill(0.0); }
};

/// @brief LeNet's ten parameter tensors (or their gradients), each a flat row-major array, named as in
/// `SimpleConvNet`: `conv1.W` here is `net.conv1.W` there, with the same shape.
struct Parameters {
    /// @brief The weights and the bias of one layer.
    struct Layer {
        std::vector<real> W;  ///< conv: (F, C, k, k); fully connected: (D, M)
        std::vector<real> b;  ///< (F) or (M)
    };
    Layer conv1, conv2, fc1, fc2, fc3;

    /// @brief All ten tensors, in the order of `SimpleConvNet::params_and_grads()`: conv1.W, conv1.b, ..., fc3.b.
    std::array<std::vector<real>*, 10> all() {
        return {&conv1.W, &conv1.b, &conv2.W, &conv2.b, &fc1.W, &fc1.b, &fc2.W, &fc2.b, &fc3.W, &fc3.b};
    }
    std::array<const std::vector<real>*, 10> all() const {
        return {&conv1.W, &conv1.b, &conv2.W, &conv2.b, &fc1.W, &fc1.b, &fc2.W, &fc2.b, &fc3.W, &fc3.b};
    }
    /// @brief The names of all(), as `SimpleConvNet` gives them.
    static constexpr std::array<const char*, 10> names{"conv1.W", "conv1.b", "conv2.W", "conv2.b", "fc1.W",
                                                       "fc1.b",   "fc2.W",   "fc2.b",   "fc3.W",   "fc3.b"};
};

/// @brief LeNet for C x H x W images and K classes, trained by the fast path.
class FastLeNet {
public:
    /// Images per sub-batch unless the constructor is told otherwise (bench/README.md has the measurements).
    static constexpr std::size_t default_sub_batch = 32;

    /// @brief A fast copy of `net`: the same architecture and the same weights.
    /// @param threads    how many threads share each batch (at least 1)
    /// @param sub_batch  the most images one thread passes through the network at once (at least 1)
    explicit FastLeNet(SimpleConvNet& net, std::size_t threads = 1, std::size_t sub_batch = default_sub_batch)
        : input_(net.input_shape()),
          classes_(net.num_classes()),
          threads_(std::max<std::size_t>(1, threads)),
          sub_batch_(std::max<std::size_t>(1, sub_batch)) {
        H1_ = Arch::after_conv(input_.height);
        W1_ = Arch::after_conv(input_.width);
        Hp1_ = Arch::after_pool(H1_);
        Wp1_ = Arch::after_pool(W1_);
        H2_ = Arch::after_conv(Hp1_);
        W2_ = Arch::after_conv(Wp1_);
        Hp2_ = Arch::after_pool(H2_);
        Wp2_ = Arch::after_pool(W2_);
        flat_ = F2 * Hp2_ * Wp2_;
        const std::vector<ParamRef> from = net.params_and_grads();
        if (from.size() != Parameters::names.size()) {
            throw ArgumentError("FastLeNet: the network has " + std::to_string(from.size()) +
                                " parameter tensors but LeNet has " + std::to_string(Parameters::names.size()));
        }
        const auto values = values_.all();
        for (std::size_t i = 0; i < from.size(); ++i) {
            if (from[i].name != Parameters::names[i]) {
                throw ArgumentError("FastLeNet: the network's parameter " + std::to_string(i) + " is " + from[i].name +
                                    " but should be " + Parameters::names[i]);
            }
            values[i]->assign(from[i].value.begin(), from[i].value.end());
            shapes_[i] = from[i].shape;
        }
        workers_.resize(threads_);
        for (Worker& w : workers_) {
            const auto grads = w.grads.all();
            for (std::size_t i = 0; i < grads.size(); ++i) grads[i]->assign(values[i]->size(), real(0));
        }
        const auto grads0 = workers_[0].grads.all();
        for (std::size_t i = 0; i < values.size(); ++i) {
            params_.push_back(
                ParamRef{Parameters::names[i], shapes_[i], std::span<real>(*values[i]), std::span<real>(*grads0[i])});
        }
        for (std::size_t t = 1; t < threads_; ++t) pool_.emplace_back([this, t] { thread_loop(t); });
    }

    FastLeNet(const FastLeNet&) = delete;
    FastLeNet& operator=(const FastLeNet&) = delete;

    ~FastLeNet() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            ++generation_;
        }
        start_.notify_all();
        for (std::thread& t : pool_) t.join();
    }

    /// @brief conv1.W, conv1.b, ..., fc3.b with their gradients, as `SimpleConvNet::params_and_grads()`
    /// (the gradients are thread 0's, which hold the sum over the threads after `forward_backward`).
    /// The list is made once; the spans stay valid for the life of the object.
    const std::vector<ParamRef>& params_and_grads() const { return params_; }

    /// @brief Copies the weights into a `SimpleConvNet` of the same shape (to save, plot or compare them).
    /// @throws ArgumentError when `net` has other parameters (another input shape or number of classes)
    void copy_weights_to(SimpleConvNet& net) const {
        const auto target = net.params_and_grads();
        // Check every tensor before copying any, so that a mismatch leaves `net` as it was.
        for (std::size_t i = 0; i < target.size(); ++i) {
            if (i >= shapes_.size() || target[i].shape != shapes_[i]) {
                throw ArgumentError("FastLeNet copy_weights_to: the network's " + target[i].name + " has shape " +
                                    shape_to_string(target[i].shape) + " but this one's is " +
                                    (i < shapes_.size() ? shape_to_string(shapes_[i]) : std::string("missing")));
            }
        }
        const auto values = values_.all();
        for (std::size_t i = 0; i < target.size(); ++i) {
            std::copy(values[i]->begin(), values[i]->end(), target[i].value.begin());
        }
    }

    /// @brief Forward and backward pass of one batch: fills the gradients and returns the mean loss.
    /// @param x  images, shape (N, C, H, W) of the network's input shape
    /// @param y  N labels, each below K
    real forward_backward(const Tensor<4>& x, const Labels& y) {
        check_input("FastLeNet forward_backward", x);
        if (y.size() != x.shape(0)) {
            throw ShapeError("FastLeNet forward_backward: y has " + std::to_string(y.size()) +
                             " labels but x has N = " + std::to_string(x.shape(0)) + " images (one label per image)");
        }
        for (std::size_t n = 0; n < y.size(); ++n) {
            if (y[n] >= classes_) {
                throw ArgumentError("FastLeNet forward_backward: label y[" + std::to_string(n) +
                                    "] = " + std::to_string(y[n]) + " is not below K = " + std::to_string(classes_));
            }
        }
        job_x_ = x.data();
        job_y_ = y.data();
        job_n_ = y.size();
        run_on_all_threads();
        const auto t0 = clock::now();
        // Sum the threads' gradients into thread 0's, which params_and_grads() points to.
        const auto sums = workers_[0].grads.all();
        for (std::size_t t = 1; t < threads_; ++t) {
            const auto grads = std::as_const(workers_[t].grads).all();
            for (std::size_t i = 0; i < sums.size(); ++i) {
                real* into = sums[i]->data();
                const real* from = grads[i]->data();
                const std::size_t size = sums[i]->size();
                for (std::size_t j = 0; j < size; ++j) into[j] += from[j];
            }
        }
        real loss = 0;
        for (const Worker& w : workers_) loss += w.loss_sum;
        times[Stage::reduce_gradients] += seconds_since(t0);
        return loss / static_cast<real>(job_n_);
    }

    /// @brief One training step: forward, backward, then the optimizer's update. Returns the loss before it.
    real train_step(const Tensor<4>& x, const Labels& y, Optimizer& optimizer, real learning_rate) {
        const real loss = forward_backward(x, y);
        const auto t0 = clock::now();
        optimizer.step(params_, learning_rate);
        times[Stage::update] += seconds_since(t0);
        return loss;
    }

    /// @brief The scores (N, K) of a batch: the forward pass only (on the calling thread).
    Tensor<2> scores(const Tensor<4>& x) {
        check_input("FastLeNet scores", x);
        Worker& w = workers_[0];
        const std::size_t N = x.shape(0);
        forward(w, x.data(), N);
        Tensor<2> out({N, classes_});
        std::copy(w.s.begin(), w.s.begin() + static_cast<std::ptrdiff_t>(N * classes_), out.begin());
        return out;
    }

    StageTimes times;  ///< accumulated by thread 0; clear it to start a new measurement

    // The forward kernels whose NaN rule must be the layers' (chapters 3 and 6), public for tests/fast.

    /// out = max(0, out + b[row]) for every element of a (rows, columns) matrix: bias and ReLU in one pass.
    /// A NaN stays NaN, as in ReLU: std::max(a, 0) is (a < 0) ? 0 : a, and NaN < 0 is false.
    static void bias_relu_rows(real* out, const real* b, std::size_t rows, std::size_t columns) {
        for (std::size_t r = 0; r < rows; ++r) {
            real* row = out + r * columns;
            for (std::size_t k = 0; k < columns; ++k) row[k] = std::max(row[k] + b[r], real(0));
        }
    }

    /// out[n][m] = out[n][m] + b[m], then ReLU when `relu`.
    static void bias_columns(real* out, const real* b, std::size_t rows, std::size_t columns, bool relu) {
        for (std::size_t r = 0; r < rows; ++r) {
            real* row = out + r * columns;
            for (std::size_t k = 0; k < columns; ++k) row[k] = relu ? std::max(row[k] + b[k], real(0)) : row[k] + b[k];
        }
    }

    /// Whether v takes a pooling window from the best so far: a larger number, or the first NaN (a NaN beats
    /// every number, as in MaxPool2D and PyTorch). !(v <= best) is v > best or v NaN; best == best is false only
    /// when best is already a NaN, which then stays.
    static bool beats(real v, real best) { return !(v <= best) && best == best; }

    /// 2 x 2 max pooling, stride 2, over planes of H x W; the first maximum in row-major order wins, and a
    /// window that holds a NaN gives its first NaN, as in MaxPool2D. `planes` = C * N in the channel-major
    /// layout; `win` gets the winner's position in its window, 0 to 3 in row-major order.
    static void pool2x2(const real* in, std::size_t planes, std::size_t H, std::size_t W, real* out,
                        std::uint8_t* win) {
        const std::size_t Ho = H / 2, Wo = W / 2;
        for (std::size_t k = 0; k < planes; ++k) {
            const real* plane = in + k * H * W;
            for (std::size_t i = 0; i < Ho; ++i) {
                const real* r0 = plane + 2 * i * W;
                const real* r1 = r0 + W;
                for (std::size_t j = 0; j < Wo; ++j) {
                    real best = r0[2 * j];
                    std::uint8_t at = 0;
                    if (beats(r0[2 * j + 1], best)) best = r0[2 * j + 1], at = 1;
                    if (beats(r1[2 * j], best)) best = r1[2 * j], at = 2;
                    if (beats(r1[2 * j + 1], best)) best = r1[2 * j + 1], at = 3;
                    *out++ = best;
                    *win++ = at;
                }
            }
        }
    }

private:
    // LeNet's layer sizes (07_network/network.hpp), with the short names of the index formulas below.
    using Arch = LeNetArchitecture;
    static constexpr std::size_t ksize = Arch::kernel;          // both convolutions: ksize x ksize, stride 1
    static constexpr std::size_t patch = ksize * ksize;         // a filter's weights per input channel
    static constexpr std::size_t F1 = Arch::conv1_filters;      // conv1's filters: conv2's input channels
    static constexpr std::size_t F2 = Arch::conv2_filters;      // conv2's filters
    static constexpr std::size_t fc1_out = Arch::fc1_features;  // fc1's outputs: fc2's inputs
    static constexpr std::size_t fc2_out = Arch::fc2_features;  // fc2's outputs: fc3's inputs
    static_assert(Arch::pool == 2, "pool2x2 and its one-byte winners (p * 2 + q) are written for 2 x 2 windows");

    using clock = std::chrono::steady_clock;
    static double seconds_since(clock::time_point t0) {
        return std::chrono::duration<double>(clock::now() - t0).count();
    }

    /// Everything one thread needs for its slice of the batch. Sizes grow to the largest slice and never shrink.
    struct Worker {
        std::vector<real> cols1, z1, p1, cols2, z2, p2, f, h1, h2, s;    // forward (z: ReLU outputs)
        std::vector<std::uint8_t> win1, win2;                            // pooling winners, p * 2 + q
        std::vector<real> ds, dh2, dh1, df, dp2, dz2, dcols2, dp1, dz1;  // backward (dcols2: one chunk)
        Parameters grads;                                                // this thread's share of the gradients
        real loss_sum = 0;
    };

    /// The shape check of the layers, written so that it allocates nothing unless the shape is wrong.
    /// An empty batch is refused too: its mean loss is 0 / 0, and the matrix products get leading dimensions of 0.
    void check_input(const char* where, const Tensor<4>& x) const {
        if (x.shape(0) == 0 || x.shape(1) != input_.channels || x.shape(2) != input_.height ||
            x.shape(3) != input_.width) {
            check_batch(where, "x", x, {{"N"}, {"C", input_.channels}, {"H", input_.height}, {"W", input_.width}});
        }
    }

    static void grow(std::vector<real>& v, std::size_t n) {
        if (v.size() < n) v.resize(n);
    }

    void size_buffers(Worker& w, std::size_t N) const {
        const std::size_t C = input_.channels;
        grow(w.cols1, C * patch * N * H1_ * W1_);
        grow(w.z1, F1 * N * H1_ * W1_);
        grow(w.p1, F1 * N * Hp1_ * Wp1_);
        grow(w.cols2, F1 * patch * N * H2_ * W2_);
        grow(w.z2, F2 * N * H2_ * W2_);
        grow(w.p2, F2 * N * Hp2_ * Wp2_);
        grow(w.f, N * flat_);
        grow(w.h1, N * fc1_out);
        grow(w.h2, N * fc2_out);
        grow(w.s, N * classes_);
        if (w.win1.size() < F1 * N * Hp1_ * Wp1_) w.win1.resize(F1 * N * Hp1_ * Wp1_);
        if (w.win2.size() < F2 * N * Hp2_ * Wp2_) w.win2.resize(F2 * N * Hp2_ * Wp2_);
        grow(w.ds, N * classes_);
        grow(w.dh2, N * fc2_out);
        grow(w.dh1, N * fc1_out);
        grow(w.df, N * flat_);
        grow(w.dp2, F2 * N * Hp2_ * Wp2_);
        grow(w.dz2, F2 * N * H2_ * W2_);
        grow(w.dcols2, F1 * patch * std::min(N, chunk) * H2_ * W2_);
        grow(w.dp1, F1 * N * Hp1_ * Wp1_);
        grow(w.dz1, F1 * N * H1_ * W1_);
    }

    /// im2col for a ksize x ksize kernel, stride 1, no padding, written straight into the product's operand,
    /// for the images n0 .. n0 + count - 1: row (c, p, q), column (n - n0, i, j), rows `ld` apart. Element
    /// (c, n, h, w) of the input is at in[c * sc + n * sn + h * W + w].
    static void im2col(const real* in, std::size_t C, std::size_t n0, std::size_t count, std::size_t H, std::size_t W,
                       std::size_t sc, std::size_t sn, real* cols, std::size_t ld) {
        const std::size_t Ho = Arch::after_conv(H), Wo = Arch::after_conv(W);
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t p = 0; p < ksize; ++p) {
                for (std::size_t q = 0; q < ksize; ++q) {
                    real* row = cols + ((c * ksize + p) * ksize + q) * ld;
                    for (std::size_t n = n0; n < n0 + count; ++n) {
                        const real* image = in + c * sc + n * sn;
                        for (std::size_t i = 0; i < Ho; ++i) {
                            std::memcpy(row, image + (i + p) * W + q,
                                        Wo * sizeof(real));  // a row of windows is contiguous
                            row += Wo;
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col for the images n0 .. n0 + count - 1: adds every column entry back to the input
    /// element it was copied from. The columns (n - n0, i, j) of `cols` are `ld` apart from one row to the next;
    /// `out` is (C, N, H, W) and must hold zeros (or earlier sums) where the images are.
    static void col2im_add(const real* cols, std::size_t ld, std::size_t C, std::size_t N, std::size_t n0,
                           std::size_t count, std::size_t H, std::size_t W, real* out) {
        const std::size_t Ho = Arch::after_conv(H), Wo = Arch::after_conv(W);
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t p = 0; p < ksize; ++p) {
                for (std::size_t q = 0; q < ksize; ++q) {
                    const real* row = cols + ((c * ksize + p) * ksize + q) * ld;
                    for (std::size_t n = n0; n < n0 + count; ++n) {
                        real* image = out + (c * N + n) * H * W;
                        for (std::size_t i = 0; i < Ho; ++i) {
                            real* target = image + (i + p) * W + q;
                            for (std::size_t j = 0; j < Wo; ++j) target[j] += row[j];
                            row += Wo;
                        }
                    }
                }
            }
        }
    }

    /// Backward of pool2x2 followed by the ReLU before it: each gradient goes to its window's winner, and
    /// only when that winner's ReLU output is positive (otherwise ReLU's derivative is 0).
    static void pool2x2_backward_relu(const real* dout, const std::uint8_t* win, const real* relu_out,
                                      std::size_t planes, std::size_t H, std::size_t W, real* dz) {
        const std::size_t Ho = H / 2, Wo = W / 2;
        std::fill(dz, dz + planes * H * W, real(0));
        for (std::size_t k = 0; k < planes; ++k) {
            for (std::size_t i = 0; i < Ho; ++i) {
                for (std::size_t j = 0; j < Wo; ++j) {
                    const std::uint8_t at = *win++;
                    const std::size_t index = k * H * W + (2 * i + at / 2) * W + 2 * j + at % 2;
                    const real d = *dout++;
                    if (relu_out[index] > 0) dz[index] = d;
                }
            }
        }
    }

    /// Forward pass of N images starting at x, into the worker's buffers; the scores end in w.s.
    void forward(Worker& w, const real* x, std::size_t N, bool timed = false) {
        size_buffers(w, N);
        const Parameters& v = values_;
        const std::size_t C = input_.channels, H = input_.height, W = input_.width;
        const int M1 = static_cast<int>(N * H1_ * W1_), M2 = static_cast<int>(N * H2_ * W2_);
        auto t = clock::now();
        auto lap = [&](Stage stage) {
            if (timed) {
                times[stage] += seconds_since(t);
                t = clock::now();
            }
        };
        // Both convolutions run over chunks of `chunk` images: im2col writes a chunk's columns, and the product
        // reads them at once, while they are still in the cache. The column matrices are kept whole for the
        // backward pass (rows M1 or M2 apart).
        const std::size_t per_image1 = H1_ * W1_, per_image2 = H2_ * W2_;
        // conv1: input (N, C, H, W) -> cols1 (C*k*k, N*H1*W1) -> z1 = conv1.W cols1 (F1, N*H1*W1), bias + ReLU
        const int CK = static_cast<int>(C * patch);
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const std::size_t count = std::min(chunk, N - n0);
            real* cols = w.cols1.data() + n0 * per_image1;
            im2col(x, C, n0, count, H, W, H * W, C * H * W, cols, static_cast<std::size_t>(M1));
            gemm(false, false, F1, static_cast<int>(count * per_image1), CK, v.conv1.W.data(), CK, cols, M1,
                 w.z1.data() + n0 * per_image1, M1);
        }
        bias_relu_rows(w.z1.data(), v.conv1.b.data(), F1, static_cast<std::size_t>(M1));
        lap(Stage::conv1_forward);
        pool2x2(w.z1.data(), F1 * N, H1_, W1_, w.p1.data(), w.win1.data());
        lap(Stage::pool1_forward);
        // conv2: p1 (F1, N, Hp1, Wp1) -> cols2 (F1*k*k, N*H2*W2) -> z2 = conv2.W cols2 (F2, N*H2*W2), bias + ReLU
        constexpr int FK = static_cast<int>(F1 * patch);
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const std::size_t count = std::min(chunk, N - n0);
            real* cols = w.cols2.data() + n0 * per_image2;
            im2col(w.p1.data(), F1, n0, count, Hp1_, Wp1_, N * Hp1_ * Wp1_, Hp1_ * Wp1_, cols,
                   static_cast<std::size_t>(M2));
            gemm(false, false, F2, static_cast<int>(count * per_image2), FK, v.conv2.W.data(), FK, cols, M2,
                 w.z2.data() + n0 * per_image2, M2);
        }
        bias_relu_rows(w.z2.data(), v.conv2.b.data(), F2, static_cast<std::size_t>(M2));
        lap(Stage::conv2_forward);
        pool2x2(w.z2.data(), F2 * N, H2_, W2_, w.p2.data(), w.win2.data());
        lap(Stage::pool2_forward);
        // flatten: p2 (F2, N, Hp2, Wp2) -> f (N, F2*Hp2*Wp2), feature index (c*Hp2 + h)*Wp2 + w as in Flatten
        const std::size_t plane = Hp2_ * Wp2_;
        for (std::size_t c = 0; c < F2; ++c) {
            for (std::size_t n = 0; n < N; ++n) {
                std::memcpy(w.f.data() + n * flat_ + c * plane, w.p2.data() + (c * N + n) * plane,
                            plane * sizeof(real));
            }
        }
        // fc1 to fc3: h1 = relu(f fc1.W + fc1.b), h2 = relu(h1 fc2.W + fc2.b), s = h2 fc3.W + fc3.b
        const int n = static_cast<int>(N), K = static_cast<int>(classes_), D = static_cast<int>(flat_);
        gemm(false, false, n, fc1_out, D, w.f.data(), D, v.fc1.W.data(), fc1_out, w.h1.data(), fc1_out);
        bias_columns(w.h1.data(), v.fc1.b.data(), N, fc1_out, true);
        gemm(false, false, n, fc2_out, fc1_out, w.h1.data(), fc1_out, v.fc2.W.data(), fc2_out, w.h2.data(), fc2_out);
        bias_columns(w.h2.data(), v.fc2.b.data(), N, fc2_out, true);
        gemm(false, false, n, K, fc2_out, w.h2.data(), fc2_out, v.fc3.W.data(), K, w.s.data(), K);
        bias_columns(w.s.data(), v.fc3.b.data(), N, classes_, false);
        lap(Stage::fc_forward);
    }

    /// Forward and backward pass of thread t's slice of the job, one sub-batch after the other.
    void work(std::size_t t) {
        Worker& w = workers_[t];
        const std::size_t per = (job_n_ + threads_ - 1) / threads_;
        const std::size_t first = std::min(job_n_, t * per), end = std::min(job_n_, first + per);
        w.loss_sum = 0;
        if (first == end) {
            for (std::vector<real>* g : w.grads.all()) std::fill(g->begin(), g->end(), real(0));
            return;
        }
        const std::size_t image = input_.channels * input_.height * input_.width;
        for (std::size_t n0 = first; n0 < end; n0 += sub_batch_) {
            const std::size_t N = std::min(sub_batch_, end - n0);
            forward(w, job_x_ + n0 * image, N, t == 0);
            backward(w, n0, N, n0 > first, t == 0);
        }
    }

    /// Backward pass of the N images from `first` on, after their forward pass: their gradients go into the
    /// worker's, or are added to them when `accumulate` (a later sub-batch of the slice).
    void backward(Worker& w, std::size_t first, std::size_t N, bool accumulate, bool timed) {
        auto t0 = clock::now();
        auto lap = [&](Stage stage) {
            if (timed) {
                times[stage] += seconds_since(t0);
                t0 = clock::now();
            }
        };
        const std::size_t K = classes_;
        const real scale = real(1) / static_cast<real>(job_n_);  // the loss is the mean over the whole batch
        // softmax + cross-entropy: ds = (softmax - onehot) / N_batch
        for (std::size_t n = 0; n < N; ++n) {
            const real* s = w.s.data() + n * K;
            real* d = w.ds.data() + n * K;
            const real top = *std::max_element(s, s + K);
            real sum = 0;
            for (std::size_t k = 0; k < K; ++k) sum += (d[k] = std::exp(s[k] - top));
            const std::size_t label = job_y_[first + n];
            w.loss_sum += std::log(sum) - (s[label] - top);
            for (std::size_t k = 0; k < K; ++k) d[k] = d[k] / sum * scale;
            d[label] -= scale;
        }
        lap(Stage::loss);
        const int n = static_cast<int>(N), k = static_cast<int>(K);
        const Parameters& v = values_;
        Parameters& g = w.grads;
        // fc3: d(fc3.W) = h2^T ds, d(fc3.b) = sum ds, dh2 = ds fc3.W^T masked by ReLU
        gemm(true, false, fc2_out, k, n, w.h2.data(), fc2_out, w.ds.data(), k, g.fc3.W.data(), k, accumulate);
        column_sums(w.ds.data(), N, K, g.fc3.b.data(), accumulate);
        gemm(false, true, n, fc2_out, k, w.ds.data(), k, v.fc3.W.data(), k, w.dh2.data(), fc2_out);
        relu_mask(w.dh2.data(), w.h2.data(), N * fc2_out);
        // fc2: d(fc2.W) = h1^T dh2, d(fc2.b) = sum dh2, dh1 = dh2 fc2.W^T masked by ReLU
        gemm(true, false, fc1_out, fc2_out, n, w.h1.data(), fc1_out, w.dh2.data(), fc2_out, g.fc2.W.data(), fc2_out,
             accumulate);
        column_sums(w.dh2.data(), N, fc2_out, g.fc2.b.data(), accumulate);
        gemm(false, true, n, fc1_out, fc2_out, w.dh2.data(), fc2_out, v.fc2.W.data(), fc2_out, w.dh1.data(), fc1_out);
        relu_mask(w.dh1.data(), w.h1.data(), N * fc1_out);
        // fc1: d(fc1.W) = f^T dh1, d(fc1.b) = sum dh1, df = dh1 fc1.W^T
        const int D = static_cast<int>(flat_);
        gemm(true, false, D, fc1_out, n, w.f.data(), D, w.dh1.data(), fc1_out, g.fc1.W.data(), fc1_out, accumulate);
        column_sums(w.dh1.data(), N, fc1_out, g.fc1.b.data(), accumulate);
        gemm(false, true, n, D, fc1_out, w.dh1.data(), fc1_out, v.fc1.W.data(), fc1_out, w.df.data(), D);
        // unflatten df (N, F2*Hp2*Wp2) -> dp2 (F2, N, Hp2, Wp2)
        const std::size_t plane = Hp2_ * Wp2_;
        for (std::size_t c = 0; c < F2; ++c) {
            for (std::size_t i = 0; i < N; ++i) {
                std::memcpy(w.dp2.data() + (c * N + i) * plane, w.df.data() + i * flat_ + c * plane,
                            plane * sizeof(real));
            }
        }
        lap(Stage::fc_backward);
        pool2x2_backward_relu(w.dp2.data(), w.win2.data(), w.z2.data(), F2 * N, H2_, W2_, w.dz2.data());
        lap(Stage::pool2_backward);
        // conv2: d(conv2.b) = row sums of dz2; d(conv2.W) = dz2 cols2^T (F2 x F1*k*k); dcols2 = conv2.W^T dz2,
        // then col2im. Both products run over chunks of `chunk` images: each chunk's slice of cols2 and dz2 (and
        // the chunk's dcols2) stays in the cache between the product and col2im, instead of a pass over megabytes.
        const int M2 = static_cast<int>(N * H2_ * W2_);
        constexpr int FK = static_cast<int>(F1 * patch);
        const std::size_t per_image2 = H2_ * W2_;
        row_sums(w.dz2.data(), F2, static_cast<std::size_t>(M2), g.conv2.b.data(), accumulate);
        std::fill(w.dp1.begin(), w.dp1.begin() + static_cast<std::ptrdiff_t>(F1 * N * Hp1_ * Wp1_), real(0));
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const std::size_t count = std::min(chunk, N - n0);
            const int columns = static_cast<int>(count * per_image2);
            gemm(false, true, F2, FK, columns, w.dz2.data() + n0 * per_image2, M2, w.cols2.data() + n0 * per_image2, M2,
                 g.conv2.W.data(), FK, accumulate || n0 > 0);
            gemm(true, false, FK, columns, F2, v.conv2.W.data(), FK, w.dz2.data() + n0 * per_image2, M2,
                 w.dcols2.data(), columns);
            col2im_add(w.dcols2.data(), static_cast<std::size_t>(columns), F1, N, n0, count, Hp1_, Wp1_, w.dp1.data());
        }
        lap(Stage::conv2_backward);
        pool2x2_backward_relu(w.dp1.data(), w.win1.data(), w.z1.data(), F1 * N, H1_, W1_, w.dz1.data());
        lap(Stage::pool1_backward);
        // conv1: d(conv1.b) = row sums of dz1; d(conv1.W) = dz1 cols1^T (F1 x C*k*k), summed over chunks of
        // images for the same reason as conv2. Nobody needs the gradient of the images themselves.
        const int M1 = static_cast<int>(N * H1_ * W1_), CK = static_cast<int>(input_.channels * patch);
        const std::size_t per_image1 = H1_ * W1_;
        row_sums(w.dz1.data(), F1, static_cast<std::size_t>(M1), g.conv1.b.data(), accumulate);
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const int columns = static_cast<int>(std::min(chunk, N - n0) * per_image1);
            gemm(false, true, F1, CK, columns, w.dz1.data() + n0 * per_image1, M1, w.cols1.data() + n0 * per_image1, M1,
                 g.conv1.W.data(), CK, accumulate || n0 > 0);
        }
        lap(Stage::conv1_backward);
    }

    static void relu_mask(real* d, const real* relu_out, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) d[i] = relu_out[i] > 0 ? d[i] : real(0);
    }
    // out = the sums, or out += the sums when accumulate
    static void column_sums(const real* m, std::size_t rows, std::size_t columns, real* out, bool accumulate) {
        if (!accumulate) std::fill(out, out + columns, real(0));
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < columns; ++c) out[c] += m[r * columns + c];
        }
    }
    static void row_sums(const real* m, std::size_t rows, std::size_t columns, real* out, bool accumulate) {
        for (std::size_t r = 0; r < rows; ++r) {
            real sum = 0;
            for (std::size_t c = 0; c < columns; ++c) sum += m[r * columns + c];
            out[r] = accumulate ? out[r] + sum : sum;
        }
    }

    // The thread pool: threads 1 .. T-1 wait for a new generation, work on their slice, and report back;
    // the calling thread is thread 0. No allocation happens here after construction.
    void run_on_all_threads() {
        if (threads_ > 1) {
            {
                std::lock_guard lock(mutex_);
                pending_ = threads_ - 1;
                ++generation_;
            }
            start_.notify_all();
        }
        work(0);
        if (threads_ > 1) {
            std::unique_lock lock(mutex_);
            done_.wait(lock, [this] { return pending_ == 0; });
        }
    }

    void thread_loop(std::size_t t) {
        std::size_t seen = 0;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                start_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                if (stopping_) return;
            }
            work(t);
            {
                std::lock_guard lock(mutex_);
                --pending_;
            }
            done_.notify_one();
        }
    }

    ImageShape input_;
    std::size_t classes_;
    std::size_t threads_;
    std::size_t sub_batch_;
    /// Images per chunk of the convolutions' products: small enough that a chunk's slices stay in the cache.
    static constexpr std::size_t chunk = 8;
    // The map sizes for this input: after conv1 (H1 x W1), pool1, conv2 and pool2; flat_ = F2 * Hp2 * Wp2.
    std::size_t H1_ = 0, W1_ = 0, Hp1_ = 0, Wp1_ = 0, H2_ = 0, W2_ = 0, Hp2_ = 0, Wp2_ = 0, flat_ = 0;
    Parameters values_;                                   // the weights: values_.conv1.W is net.conv1.W
    std::array<Shape, Parameters::names.size()> shapes_;  // in the order of Parameters::all()
    std::vector<ParamRef> params_;
    std::vector<Worker> workers_;
    const real* job_x_ = nullptr;
    const std::size_t* job_y_ = nullptr;
    std::size_t job_n_ = 0;
    std::mutex mutex_;
    std::condition_variable start_, done_;
    std::size_t generation_ = 0, pending_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> pool_;
};

}  // namespace course::fast
