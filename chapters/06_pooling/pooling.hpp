/// @file pooling.hpp
/// @brief Chapter 6: max pooling. Each output is the largest input of one KH x KW window; the backward
/// pass sends each upstream gradient to the one input that won its window, and nowhere else.
///
/// Shape letters: N samples, C channels, H x W input height x width, KH x KW window (here always square,
/// KH = KW = kernel_size), S stride, Ho x Wo output height x width.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <xtensor/xtensor.hpp>

#include "course/layer.hpp"

namespace course {

/// @brief Max pooling over square windows: every output is the maximum of one KH x KW window of its
/// channel, and the windows step by S pixels.
///
/// \f$ out_{n,c,i,j} = \max_{0 \le p < KH,\ 0 \le q < KW} x_{n,c,iS+p,jS+q} \f$, with
/// \f$ Ho = \lfloor (H - KH) / S \rfloor + 1 \f$ and \f$ Wo = \lfloor (W - KW) / S \rfloor + 1 \f$ (no padding).
///
/// - **Ties:** when several inputs of a window hold the maximum, the **first one in row-major order**
///   (smallest p, then smallest q) wins, and only it receives the gradient.
/// - **NaN:** a window that holds a NaN anywhere gives NaN (as in PyTorch), and its gradient goes to that
///   NaN's position: the first NaN, when there are several (PyTorch's CPU code keeps the last one; the
///   output is NaN either way).
/// - **Overlapping windows** (S < KH): one input can win several windows; it receives the sum of their
///   gradients.
/// - **Rows and columns no window reaches** (when (H - KH) is not a multiple of S, for example a 5 x 5
///   input with 2 x 2 windows and stride 2) do not affect the output and get gradient 0.
/// - The layer has no parameters: `params_and_grads()` is empty.
///
/// @code
/// MaxPool2D pool1(2);      // 2 x 2 windows, stride 2: (N, 6, 24, 24) -> (N, 6, 12, 12) in LeNet
/// MaxPool2D overlap(3, 2); // 3 x 3 windows, stride 2: neighbouring windows share a row and a column
/// @endcode
class MaxPool2D : public Layer<4> {
public:
    /// @brief The type that stores where a window's maximum was: its position inside the window,
    /// p * KW + q. One byte is enough for windows of up to 16 x 16 (README.md section 6).
    using Position = std::uint8_t;
    /// @brief The largest kernel_size whose positions 0 .. KH * KW - 1 fit in a `Position`.
    static constexpr std::size_t max_kernel_size = 16;
    static_assert(max_kernel_size * max_kernel_size - 1 <= std::numeric_limits<Position>::max());

    /// @brief Windows of kernel_size x kernel_size with a stride of kernel_size: the windows tile the
    /// input without overlapping. `MaxPool2D(2)` halves the height and the width.
    ///
    /// @param kernel_size  KH = KW, the window's height and width (1 to `max_kernel_size`)
    /// @param name         the layer's name in messages, for example "pool1"
    /// @throws ArgumentError when kernel_size is 0 or larger than `max_kernel_size`
    explicit MaxPool2D(std::size_t kernel_size, std::string name = "pool")
        : MaxPool2D(kernel_size, kernel_size, std::move(name)) {}

    /// @brief Windows of kernel_size x kernel_size that step by `stride` pixels; stride < kernel_size
    /// makes neighbouring windows overlap.
    ///
    /// @param kernel_size  KH = KW, the window's height and width (1 to `max_kernel_size`)
    /// @param stride       S, how far the window moves between two outputs (at least 1)
    /// @param name         the layer's name in messages, for example "pool1"
    /// @throws ArgumentError when kernel_size or stride is 0, or kernel_size is larger than `max_kernel_size`
    MaxPool2D(std::size_t kernel_size, std::size_t stride, std::string name = "pool")
        : Layer<4>(std::move(name)), kernel_size_(kernel_size), stride_(stride) {
        if (kernel_size == 0) {
            throw ArgumentError(where("constructor") + ": kernel_size must be at least 1, not 0");
        }
        if (stride == 0) {
            throw ArgumentError(where("constructor") + ": stride must be at least 1, not 0");
        }
        if (kernel_size > max_kernel_size) {
            throw ArgumentError(where("constructor") + ": kernel_size is " + std::to_string(kernel_size) +
                                " but must be at most " + std::to_string(max_kernel_size) +
                                ": the cache keeps each window's winner as its position p * KW + q inside the "
                                "window, in one byte (std::uint8_t)");
        }
    }

    std::string kind() const override { return "MaxPool2D"; }
    std::size_t kernel_size() const { return kernel_size_; }  ///< KH = KW
    std::size_t stride() const { return stride_; }            ///< S

    /// @brief The number of windows along an axis of `size` pixels: \f$ \lfloor (size - K) / S \rfloor + 1 \f$.
    ///
    /// Ho = output_size(H) and Wo = output_size(W). The division rounds down: pixels after the last window
    /// that fits are not pooled.
    /// @throws ArgumentError when size is smaller than kernel_size: no window fits
    std::size_t output_size(std::size_t size) const {
        if (size < kernel_size_) {
            throw ArgumentError(where("output_size") + ": size is " + std::to_string(size) +
                                " but must be at least kernel_size = " + std::to_string(kernel_size_) +
                                ", or no window fits");
        }
        return (size - kernel_size_) / stride_ + 1;
    }

    // [forward]
    /// @brief Forward pass: the maximum of every window, and where it was.
    ///
    /// @param x  inputs, shape (N, C, H, W) with H >= KH and W >= KW
    /// @return   out, shape (N, C, Ho, Wo): out(n, c, i, j) is the maximum of x(n, c, i*S + p, j*S + q)
    ///           over 0 <= p < KH, 0 <= q < KW
    /// @throws ShapeError when the window is larger than the input
    Tensor<4> forward(const Tensor<4>& x) override {
        if (x.shape(2) < kernel_size_ || x.shape(3) < kernel_size_) {
            throw ShapeError(where("forward") + ": x has shape " + shape_to_string(x.shape()) +
                             " but its height H and width W must be at least kernel_size = " +
                             std::to_string(kernel_size_) + ", the size of the window");
        }
        // Window (i, j) covers the rows i*S .. i*S + KH - 1 and the columns j*S .. j*S + KW - 1.
        // Scan it in row-major order, keep the largest value (strict >: at a tie the first one stays)
        // and record its position inside the window, p * KW + q, in the cache. A NaN counts as larger than
        // every number: a window that holds a NaN gives NaN (README.md section 7).
        // TODO(ch06) begin: MaxPool2D::forward -- read README.md sections 2 and 6
        course::todo("ch06", "MaxPool2D::forward", "read README.md sections 2 and 6");
        // TODO(ch06) end
    }
    // [forward]

    // [backward]
    /// @brief Backward pass: each dout(n, c, i, j) goes to the input that won window (i, j); every other
    /// input gets nothing from that window.
    ///
    /// @param dout  upstream gradient, shape (N, C, Ho, Wo): the shape of the last output of `forward`
    /// @return      dx, shape (N, C, H, W); inputs that win no window get 0, inputs that win several
    ///              windows get the sum of their gradients
    /// @throws ArgumentError when `forward` has not run; ShapeError when dout is not (N, C, Ho, Wo)
    Tensor<4> backward(const Tensor<4>& dout) override {
        const Cache& cache = cached(cache_);
        const auto& winner_shape = cache.winner.shape();
        check_shape(where("backward"), "dout", dout,
                    {{"N", winner_shape[0]}, {"C", winner_shape[1]}, {"Ho", winner_shape[2]}, {"Wo", winner_shape[3]}});
        // forward was: out(n, c, i, j) = x(n, c, i*S + p, j*S + q) for the winner of window (i, j),
        //              whose position p * KW + q is cache.winner(n, c, i, j)
        // TODO(ch06) begin: MaxPool2D::backward -- read README.md section 4
        course::todo("ch06", "MaxPool2D::backward", "read README.md section 4");
        // TODO(ch06) end
    }
    // [backward]

private:
    std::size_t kernel_size_;  ///< KH = KW
    std::size_t stride_;       ///< S

    /// What backward needs from forward: where each maximum was, not the input itself.
    struct Cache {
        std::array<std::size_t, 4> x_shape;  ///< (N, C, H, W), the shape of forward's input (and of dx)
        xt::xtensor<Position, 4> winner;     ///< shape (N, C, Ho, Wo): p * KW + q of the winner of each window
    };
    std::optional<Cache> cache_;
};

}  // namespace course
