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
///
/// Layout of the five parameter tensors is the one of `SimpleConvNet` (same names, shapes and order), so
/// weight files, optimizers and `params_and_grads()` work the same.
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
#include <vector>

#include "07_network/network.hpp"
#include "08_optimizers/optimizers.hpp"
#include "fast/gemm.hpp"
#include "course/errors.hpp"
#include "course/layer.hpp"

namespace course::fast {

/// @brief The stages of a training step, for the per-layer time breakdown of the benchmark.
enum Stage : int {
    conv1_forward, pool1_forward, conv2_forward, pool2_forward, fc_forward, loss,
    fc_backward, pool2_backward, conv2_backward, pool1_backward, conv1_backward, reduce_gradients, update,
    stage_count
};
inline const char* stage_name(int s) {
    static constexpr const char* names[] = {
        "conv1 forward (im2col + GEMM + bias/ReLU)", "pool1 forward", "conv2 forward (im2col + GEMM + bias/ReLU)",
        "pool2 forward", "flatten + fc1-fc3 forward", "softmax + cross-entropy", "fc3-fc1 backward + unflatten",
        "pool2 backward (+ ReLU mask)", "conv2 backward (2 GEMMs + col2im)", "pool1 backward (+ ReLU mask)",
        "conv1 backward (dW GEMM)", "sum of the threads' gradients", "optimizer update"};
    return names[s];
}

/// @brief Seconds spent in each stage (by thread 0, which does its share of every stage).
struct StageTimes {
    std::array<double, stage_count> seconds{};
    void clear() { seconds.fill(0.0); }
};

/// @brief LeNet for C x H x W images and K classes, trained by the fast path.
class FastLeNet {
public:
    /// @brief A fast copy of `net`: the same architecture and the same weights.
    /// @param threads  how many threads share each batch (at least 1)
    explicit FastLeNet(SimpleConvNet& net, std::size_t threads = 1)
        : input_(net.input_shape()), classes_(net.num_classes()), threads_(std::max<std::size_t>(1, threads)) {
        const ImageShape in = input_;
        H1_ = in.height - 4;
        W1_ = in.width - 4;
        Hp1_ = H1_ / 2;
        Wp1_ = W1_ / 2;
        H2_ = Hp1_ - 4;
        W2_ = Wp1_ - 4;
        Hp2_ = H2_ / 2;
        Wp2_ = W2_ / 2;
        flat_ = 16 * Hp2_ * Wp2_;
        for (ParamRef& p : net.params_and_grads()) {
            values_.emplace_back(p.value.begin(), p.value.end());
            shapes_.push_back(p.shape);
            names_.push_back(p.name);
        }
        workers_.resize(threads_);
        for (Worker& w : workers_) {
            for (const auto& v : values_) w.grads.emplace_back(v.size(), real(0));
        }
        for (std::size_t i = 0; i < values_.size(); ++i) {
            params_.push_back(ParamRef{names_[i], shapes_[i], std::span<real>(values_[i]),
                                       std::span<real>(workers_[0].grads[i])});
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

    /// @brief conv1.W, conv1.b, ..., fc3.b with their gradients, as `SimpleConvNet::params_and_grads()`.
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
        for (std::size_t i = 0; i < target.size(); ++i) {
            std::copy(values_[i].begin(), values_[i].end(), target[i].value.begin());
        }
    }

    /// @brief Forward and backward pass of one batch: fills the gradients and returns the mean loss.
    /// @param x  images, shape (N, C, H, W) of the network's input shape
    /// @param y  N labels, each below K
    real forward_backward(const Tensor<4>& x, const Labels& y) {
        check_input("FastLeNet forward_backward", x);
        if (y.size() != x.shape(0)) {
            throw ShapeError("FastLeNet forward_backward: y has " + std::to_string(y.size()) + " labels but x has N = " +
                             std::to_string(x.shape(0)) + " images (one label per image)");
        }
        for (std::size_t n = 0; n < y.size(); ++n) {
            if (y[n] >= classes_) {
                throw ArgumentError("FastLeNet forward_backward: label y[" + std::to_string(n) + "] = " +
                                    std::to_string(y[n]) + " is not below K = " + std::to_string(classes_));
            }
        }
        job_x_ = x.data();
        job_y_ = y.data();
        job_n_ = y.size();
        run_on_all_threads();
        const auto t0 = clock::now();
        // Sum the threads' gradients into thread 0's, which params_and_grads() points to.
        for (std::size_t t = 1; t < threads_; ++t) {
            for (std::size_t i = 0; i < values_.size(); ++i) {
                real* into = workers_[0].grads[i].data();
                const real* from = workers_[t].grads[i].data();
                for (std::size_t j = 0; j < values_[i].size(); ++j) into[j] += from[j];
            }
        }
        real loss = 0;
        for (const Worker& w : workers_) loss += w.loss_sum;
        times.seconds[reduce_gradients] += seconds_since(t0);
        return loss / static_cast<real>(job_n_);
    }

    /// @brief One training step: forward, backward, then the optimizer's update. Returns the loss before it.
    real train_step(const Tensor<4>& x, const Labels& y, Optimizer& optimizer, real learning_rate) {
        const real loss = forward_backward(x, y);
        const auto t0 = clock::now();
        optimizer.step(params_, learning_rate);
        times.seconds[update] += seconds_since(t0);
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

private:
    using clock = std::chrono::steady_clock;
    static double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

    /// Everything one thread needs for its slice of the batch. Sizes grow to the largest slice and never shrink.
    struct Worker {
        std::vector<real> cols1, z1, p1, cols2, z2, p2, f, h1, h2, s;  // forward (z: ReLU outputs)
        std::vector<std::uint8_t> win1, win2;                          // pooling winners, p * 2 + q
        std::vector<real> ds, dh2, dh1, df, dp2, dz2, dcols2, dp1, dz1;  // backward (dcols2: one chunk)
        std::vector<std::vector<real>> grads;                           // one per parameter
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
        grow(w.cols1, C * 25 * N * H1_ * W1_);
        grow(w.z1, 6 * N * H1_ * W1_);
        grow(w.p1, 6 * N * Hp1_ * Wp1_);
        grow(w.cols2, 150 * N * H2_ * W2_);
        grow(w.z2, 16 * N * H2_ * W2_);
        grow(w.p2, 16 * N * Hp2_ * Wp2_);
        grow(w.f, N * flat_);
        grow(w.h1, N * 120);
        grow(w.h2, N * 84);
        grow(w.s, N * classes_);
        if (w.win1.size() < 6 * N * Hp1_ * Wp1_) w.win1.resize(6 * N * Hp1_ * Wp1_);
        if (w.win2.size() < 16 * N * Hp2_ * Wp2_) w.win2.resize(16 * N * Hp2_ * Wp2_);
        grow(w.ds, N * classes_);
        grow(w.dh2, N * 84);
        grow(w.dh1, N * 120);
        grow(w.df, N * flat_);
        grow(w.dp2, 16 * N * Hp2_ * Wp2_);
        grow(w.dz2, 16 * N * H2_ * W2_);
        grow(w.dcols2, 150 * std::min(N, chunk) * H2_ * W2_);
        grow(w.dp1, 6 * N * Hp1_ * Wp1_);
        grow(w.dz1, 6 * N * H1_ * W1_);
    }

    /// im2col for a 5 x 5 kernel, stride 1, no padding, written straight into the product's operand, for the
    /// images n0 .. n0 + count - 1: row (c, p, q), column (n - n0, i, j), rows `ld` apart. Element (c, n, h, w)
    /// of the input is at in[c * sc + n * sn + h * W + w].
    static void im2col5(const real* in, std::size_t C, std::size_t n0, std::size_t count, std::size_t H, std::size_t W,
                        std::size_t sc, std::size_t sn, real* cols, std::size_t ld) {
        const std::size_t Ho = H - 4, Wo = W - 4;
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t p = 0; p < 5; ++p) {
                for (std::size_t q = 0; q < 5; ++q) {
                    real* row = cols + ((c * 5 + p) * 5 + q) * ld;
                    for (std::size_t n = n0; n < n0 + count; ++n) {
                        const real* image = in + c * sc + n * sn;
                        for (std::size_t i = 0; i < Ho; ++i) {
                            std::memcpy(row, image + (i + p) * W + q, Wo * sizeof(real));  // a row of windows is contiguous
                            row += Wo;
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col5 for the images n0 .. n0 + count - 1: adds every column entry back to the input
    /// element it was copied from. The columns (n - n0, i, j) of `cols` are `ld` apart from one row to the next;
    /// `out` is (C, N, H, W) and must hold zeros (or earlier sums) where the images are.
    static void col2im5_add(const real* cols, std::size_t ld, std::size_t C, std::size_t N, std::size_t n0,
                            std::size_t count, std::size_t H, std::size_t W, real* out) {
        const std::size_t Ho = H - 4, Wo = W - 4;
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t p = 0; p < 5; ++p) {
                for (std::size_t q = 0; q < 5; ++q) {
                    const real* row = cols + ((c * 5 + p) * 5 + q) * ld;
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

    /// out = max(0, out + b[row]) for every element of a (rows, columns) matrix: bias and ReLU in one pass.
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

    /// 2 x 2 max pooling, stride 2, over planes of H x W; the first maximum in row-major order wins, as in
    /// MaxPool2D. `planes` = C * N in the channel-major layout.
    static void pool2x2(const real* in, std::size_t planes, std::size_t H, std::size_t W, real* out, std::uint8_t* win) {
        const std::size_t Ho = H / 2, Wo = W / 2;
        for (std::size_t k = 0; k < planes; ++k) {
            const real* plane = in + k * H * W;
            for (std::size_t i = 0; i < Ho; ++i) {
                const real* r0 = plane + 2 * i * W;
                const real* r1 = r0 + W;
                for (std::size_t j = 0; j < Wo; ++j) {
                    real best = r0[2 * j];
                    std::uint8_t at = 0;
                    if (r0[2 * j + 1] > best) best = r0[2 * j + 1], at = 1;
                    if (r1[2 * j] > best) best = r1[2 * j], at = 2;
                    if (r1[2 * j + 1] > best) best = r1[2 * j + 1], at = 3;
                    *out++ = best;
                    *win++ = at;
                }
            }
        }
    }

    /// Backward of pool2x2 followed by the ReLU before it: each gradient goes to its window's winner, and
    /// only when that winner's ReLU output is positive (otherwise ReLU's derivative is 0).
    static void pool2x2_backward_relu(const real* dout, const std::uint8_t* win, const real* relu_out, std::size_t planes,
                                      std::size_t H, std::size_t W, real* dz) {
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
        const std::size_t C = input_.channels, H = input_.height, W = input_.width;
        const int M1 = static_cast<int>(N * H1_ * W1_), M2 = static_cast<int>(N * H2_ * W2_);
        auto t = clock::now();
        auto lap = [&](Stage stage) {
            if (timed) {
                times.seconds[stage] += seconds_since(t);
                t = clock::now();
            }
        };
        // Both convolutions run over chunks of `chunk` images: im2col writes a chunk's columns, and the product
        // reads them at once, while they are still in the cache. The column matrices are kept whole for the
        // backward pass (rows M1 or M2 apart).
        const std::size_t per_image1 = H1_ * W1_, per_image2 = H2_ * W2_;
        // conv1: input (N, C, H, W) -> cols1 (C*25, N*H1*W1) -> z1 = W1 cols1 (6, N*H1*W1), bias + ReLU
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const std::size_t count = std::min(chunk, N - n0);
            real* cols = w.cols1.data() + n0 * per_image1;
            im2col5(x, C, n0, count, H, W, H * W, C * H * W, cols, static_cast<std::size_t>(M1));
            gemm(false, false, 6, static_cast<int>(count * per_image1), static_cast<int>(C * 25), values_[0].data(),
                 static_cast<int>(C * 25), cols, M1, w.z1.data() + n0 * per_image1, M1);
        }
        bias_relu_rows(w.z1.data(), values_[1].data(), 6, static_cast<std::size_t>(M1));
        lap(conv1_forward);
        pool2x2(w.z1.data(), 6 * N, H1_, W1_, w.p1.data(), w.win1.data());
        lap(pool1_forward);
        // conv2: p1 (6, N, Hp1, Wp1) -> cols2 (150, N*H2*W2) -> z2 (16, N*H2*W2), bias + ReLU
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const std::size_t count = std::min(chunk, N - n0);
            real* cols = w.cols2.data() + n0 * per_image2;
            im2col5(w.p1.data(), 6, n0, count, Hp1_, Wp1_, N * Hp1_ * Wp1_, Hp1_ * Wp1_, cols, static_cast<std::size_t>(M2));
            gemm(false, false, 16, static_cast<int>(count * per_image2), 150, values_[2].data(), 150, cols, M2,
                 w.z2.data() + n0 * per_image2, M2);
        }
        bias_relu_rows(w.z2.data(), values_[3].data(), 16, static_cast<std::size_t>(M2));
        lap(conv2_forward);
        pool2x2(w.z2.data(), 16 * N, H2_, W2_, w.p2.data(), w.win2.data());
        lap(pool2_forward);
        // flatten: p2 (16, N, Hp2, Wp2) -> f (N, 16*Hp2*Wp2), feature index (c*Hp2 + h)*Wp2 + w as in Flatten
        const std::size_t plane = Hp2_ * Wp2_;
        for (std::size_t c = 0; c < 16; ++c) {
            for (std::size_t n = 0; n < N; ++n) {
                std::memcpy(w.f.data() + n * flat_ + c * plane, w.p2.data() + (c * N + n) * plane, plane * sizeof(real));
            }
        }
        const int n = static_cast<int>(N), K = static_cast<int>(classes_);
        gemm(false, false, n, 120, static_cast<int>(flat_), w.f.data(), static_cast<int>(flat_), values_[4].data(), 120,
             w.h1.data(), 120);
        bias_columns(w.h1.data(), values_[5].data(), N, 120, true);
        gemm(false, false, n, 84, 120, w.h1.data(), 120, values_[6].data(), 84, w.h2.data(), 84);
        bias_columns(w.h2.data(), values_[7].data(), N, 84, true);
        gemm(false, false, n, K, 84, w.h2.data(), 84, values_[8].data(), K, w.s.data(), K);
        bias_columns(w.s.data(), values_[9].data(), N, classes_, false);
        lap(fc_forward);
    }

    /// Forward and backward pass of thread t's slice of the job.
    void work(std::size_t t) {
        Worker& w = workers_[t];
        const std::size_t per = (job_n_ + threads_ - 1) / threads_;
        const std::size_t first = std::min(job_n_, t * per), N = std::min(job_n_, first + per) - first;
        for (auto& g : w.grads) std::fill(g.begin(), g.end(), real(0));
        w.loss_sum = 0;
        if (N == 0) return;
        const bool timed = t == 0;
        const std::size_t image = input_.channels * input_.height * input_.width;
        forward(w, job_x_ + first * image, N, timed);
        auto t0 = clock::now();
        auto lap = [&](Stage stage) {
            if (timed) {
                times.seconds[stage] += seconds_since(t0);
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
        lap(loss);
        const int n = static_cast<int>(N), k = static_cast<int>(K);
        auto& g = w.grads;
        // fc3: dW5 = h2^T ds, db5 = sum ds, dh2 = ds W5^T masked by ReLU
        gemm(true, false, 84, k, n, w.h2.data(), 84, w.ds.data(), k, g[8].data(), k);
        column_sums(w.ds.data(), N, K, g[9].data());
        gemm(false, true, n, 84, k, w.ds.data(), k, values_[8].data(), k, w.dh2.data(), 84);
        relu_mask(w.dh2.data(), w.h2.data(), N * 84);
        gemm(true, false, 120, 84, n, w.h1.data(), 120, w.dh2.data(), 84, g[6].data(), 84);
        column_sums(w.dh2.data(), N, 84, g[7].data());
        gemm(false, true, n, 120, 84, w.dh2.data(), 84, values_[6].data(), 84, w.dh1.data(), 120);
        relu_mask(w.dh1.data(), w.h1.data(), N * 120);
        const int F = static_cast<int>(flat_);
        gemm(true, false, F, 120, n, w.f.data(), F, w.dh1.data(), 120, g[4].data(), 120);
        column_sums(w.dh1.data(), N, 120, g[5].data());
        gemm(false, true, n, F, 120, w.dh1.data(), 120, values_[4].data(), 120, w.df.data(), F);
        // unflatten df (N, 16*Hp2*Wp2) -> dp2 (16, N, Hp2, Wp2)
        const std::size_t plane = Hp2_ * Wp2_;
        for (std::size_t c = 0; c < 16; ++c) {
            for (std::size_t i = 0; i < N; ++i) {
                std::memcpy(w.dp2.data() + (c * N + i) * plane, w.df.data() + i * flat_ + c * plane, plane * sizeof(real));
            }
        }
        lap(fc_backward);
        pool2x2_backward_relu(w.dp2.data(), w.win2.data(), w.z2.data(), 16 * N, H2_, W2_, w.dz2.data());
        lap(pool2_backward);
        // conv2: db2 = row sums of dz2; dW2 = dz2 cols2^T (16 x 150); dcols2 = W2^T dz2, then col2im.
        // Both products run over chunks of `chunk` images: each chunk's slice of cols2 and dz2 (and the
        // chunk's dcols2) stays in the cache between the product and col2im, instead of a pass over megabytes.
        const int M2 = static_cast<int>(N * H2_ * W2_);
        const std::size_t per_image2 = H2_ * W2_;
        row_sums(w.dz2.data(), 16, static_cast<std::size_t>(M2), g[3].data());
        std::fill(w.dp1.begin(), w.dp1.begin() + static_cast<std::ptrdiff_t>(6 * N * Hp1_ * Wp1_), real(0));
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const std::size_t count = std::min(chunk, N - n0);
            const int columns = static_cast<int>(count * per_image2);
            gemm(false, true, 16, 150, columns, w.dz2.data() + n0 * per_image2, M2, w.cols2.data() + n0 * per_image2, M2,
                 g[2].data(), 150, n0 > 0);
            gemm(true, false, 150, columns, 16, values_[2].data(), 150, w.dz2.data() + n0 * per_image2, M2,
                 w.dcols2.data(), columns);
            col2im5_add(w.dcols2.data(), static_cast<std::size_t>(columns), 6, N, n0, count, Hp1_, Wp1_, w.dp1.data());
        }
        lap(conv2_backward);
        pool2x2_backward_relu(w.dp1.data(), w.win1.data(), w.z1.data(), 6 * N, H1_, W1_, w.dz1.data());
        lap(pool1_backward);
        // conv1: db1 = row sums of dz1; dW1 = dz1 cols1^T (6 x C*25), summed over chunks of images for the
        // same reason as conv2. Nobody needs the gradient of the images themselves.
        const int M1 = static_cast<int>(N * H1_ * W1_), CK = static_cast<int>(input_.channels * 25);
        const std::size_t per_image1 = H1_ * W1_;
        row_sums(w.dz1.data(), 6, static_cast<std::size_t>(M1), g[1].data());
        for (std::size_t n0 = 0; n0 < N; n0 += chunk) {
            const int columns = static_cast<int>(std::min(chunk, N - n0) * per_image1);
            gemm(false, true, 6, CK, columns, w.dz1.data() + n0 * per_image1, M1, w.cols1.data() + n0 * per_image1, M1,
                 g[0].data(), CK, n0 > 0);
        }
        lap(conv1_backward);
    }

    static void relu_mask(real* d, const real* relu_out, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) d[i] = relu_out[i] > 0 ? d[i] : real(0);
    }
    static void column_sums(const real* m, std::size_t rows, std::size_t columns, real* out) {
        std::fill(out, out + columns, real(0));
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < columns; ++c) out[c] += m[r * columns + c];
        }
    }
    static void row_sums(const real* m, std::size_t rows, std::size_t columns, real* out) {
        for (std::size_t r = 0; r < rows; ++r) {
            real sum = 0;
            for (std::size_t c = 0; c < columns; ++c) sum += m[r * columns + c];
            out[r] = sum;
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
    /// Images per chunk of the backward products: small enough that a chunk's slices stay in the cache.
    static constexpr std::size_t chunk = 8;
    std::size_t H1_ = 0, W1_ = 0, Hp1_ = 0, Wp1_ = 0, H2_ = 0, W2_ = 0, Hp2_ = 0, Wp2_ = 0, flat_ = 0;
    std::vector<std::vector<real>> values_;  // the weights, in the order of SimpleConvNet::params_and_grads()
    std::vector<Shape> shapes_;
    std::vector<std::string> names_;
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
