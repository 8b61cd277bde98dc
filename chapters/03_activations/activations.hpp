/// @file activations.hpp
/// @brief Chapter 3: the activation layers ReLU and Sigmoid, forward and backward.
///
/// An activation works on every element of its input on its own, so it takes a tensor of any shape and
/// returns one of the same shape. That is why both layers are templates over the rank: LeNet uses
/// `ReLU<4>` after a convolution, on images (N, C, H, W), and `ReLU<2>` after a fully connected layer,
/// on features (N, D). The code inside is the same for every rank.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include <xtensor/xtensor.hpp>

#include "course/layer.hpp"

namespace course {

/// @brief The rectified linear unit: \f$ out_i = \max(0, x_i) \f$ for every element i.
///
/// Its derivative is 1 where \f$ x_i > 0 \f$ and 0 where \f$ x_i < 0 \f$. At \f$ x_i = 0 \f$ (the kink) the
/// course's convention is 0: `backward` passes `dout` only where \f$ x_i > 0 \f$.
///
/// NaN, as in PyTorch: a NaN input gives a NaN output (a NaN must not disappear), and its gradient is 0
/// (NaN > 0 is false). \f$ +\infty \f$ stays \f$ +\infty \f$, \f$ -\infty \f$ becomes 0.
///
/// @tparam Rank  the rank of the input: 4 for images (N, C, H, W), 2 for features (N, D)
template <std::size_t Rank>
class ReLU : public Layer<Rank> {
public:
    /// @brief A ReLU layer called `name` in messages, for example "relu1".
    explicit ReLU(std::string name = "relu") : Layer<Rank>(std::move(name)) {}

    std::string kind() const override { return "ReLU"; }

    // [relu_forward]
    /// @brief Forward pass: \f$ out_i = \max(0, x_i) \f$, element by element.
    ///
    /// @param x  inputs, any shape, for example (N, C, H, W) or (N, D)
    /// @return   out, the shape of x
    Tensor<Rank> forward(const Tensor<Rank>& x) override {
        // TODO(ch03) begin: ReLU::forward -- read README.md section 2
        course::todo("ch03", "ReLU::forward", "read README.md section 2");
        // TODO(ch03) end
    }
    // [relu_forward]

    // [relu_backward]
    /// @brief Backward pass: \f$ dx_i = dout_i \f$ where \f$ x_i > 0 \f$, and 0 elsewhere (also at
    /// \f$ x_i = 0 \f$).
    ///
    /// @param dout  upstream gradient, the shape of the last output of `forward`
    /// @return      dx, the shape of x
    /// @throws ArgumentError when `forward` has not run; ShapeError when dout does not have x's shape
    Tensor<Rank> backward(const Tensor<Rank>& dout) override {
        const Cache& cache = this->cached(cache_);
        check_same_shape(this->where("backward"), "dout", dout, "x", cache.x);
        // forward was: out_i = max(0, x_i), so dout_i flows through where x_i > 0 (and not at x_i = 0)
        // TODO(ch03) begin: ReLU::backward -- read README.md section 3
        course::todo("ch03", "ReLU::backward", "read README.md section 3");
        // TODO(ch03) end
    }
    // [relu_backward]

private:
    /// What backward needs from forward.
    struct Cache {
        Tensor<Rank> x;  ///< the input of forward: its sign decides where the gradient flows
    };
    std::optional<Cache> cache_;
};

// [sigmoid]
/// @brief The logistic sigmoid \f$ \sigma(x) = 1 / (1 + e^{-x}) \f$ of one number, computed so that it
/// never overflows.
///
/// The `exp` only ever sees a number \f$ \le 0 \f$, so it returns a value in (0, 1] and cannot overflow:
/// for \f$ x \ge 0 \f$ it uses \f$ 1 / (1 + e^{-x}) \f$, for \f$ x < 0 \f$ the equal form
/// \f$ e^{x} / (1 + e^{x}) \f$. Both are exact to the last digits, also for very negative x.
///
/// @param x  any finite number, also 1000 or -1000
/// @return   \f$ \sigma(x) \f$, in [0, 1]
inline real sigmoid(real x) {
    // TODO(ch03) begin: sigmoid -- read README.md section 4
    course::todo("ch03", "sigmoid", "read README.md section 4");
    // TODO(ch03) end
}
// [sigmoid]

/// @brief The logistic sigmoid layer: \f$ out_i = \sigma(x_i) = 1 / (1 + e^{-x_i}) \f$ for every element i.
///
/// Its derivative is \f$ \sigma(x_i)\,(1 - \sigma(x_i)) = out_i\,(1 - out_i) \f$, so the layer caches its
/// **output**, not its input.
///
/// @tparam Rank  the rank of the input: 4 for images (N, C, H, W), 2 for features (N, D)
template <std::size_t Rank>
class Sigmoid : public Layer<Rank> {
public:
    /// @brief A sigmoid layer called `name` in messages, for example "sigmoid1".
    explicit Sigmoid(std::string name = "sigmoid") : Layer<Rank>(std::move(name)) {}

    std::string kind() const override { return "Sigmoid"; }

    // [sigmoid_forward]
    /// @brief Forward pass: \f$ out_i = \sigma(x_i) \f$, element by element, with `sigmoid()`.
    ///
    /// @param x  inputs, any shape
    /// @return   out, the shape of x, every element in [0, 1]
    Tensor<Rank> forward(const Tensor<Rank>& x) override {
        // TODO(ch03) begin: Sigmoid::forward -- read README.md section 5
        course::todo("ch03", "Sigmoid::forward", "read README.md section 5");
        // TODO(ch03) end
    }
    // [sigmoid_forward]

    // [sigmoid_backward]
    /// @brief Backward pass: \f$ dx_i = dout_i \, out_i \, (1 - out_i) \f$, with out from the cache.
    ///
    /// @param dout  upstream gradient, the shape of the last output of `forward`
    /// @return      dx, the shape of x
    /// @throws ArgumentError when `forward` has not run; ShapeError when dout does not have out's shape
    Tensor<Rank> backward(const Tensor<Rank>& dout) override {
        const Cache& cache = this->cached(cache_);
        check_same_shape(this->where("backward"), "dout", dout, "out", cache.out);
        // forward was: out_i = sigmoid(x_i), and d sigmoid(x)/dx = sigmoid(x) (1 - sigmoid(x)) = out (1 - out)
        // TODO(ch03) begin: Sigmoid::backward -- read README.md section 5
        course::todo("ch03", "Sigmoid::backward", "read README.md section 5");
        // TODO(ch03) end
    }
    // [sigmoid_backward]

private:
    /// What backward needs from forward.
    struct Cache {
        Tensor<Rank> out;  ///< the output of forward, \f$ \sigma(x) \f$: the derivative is out (1 - out)
    };
    std::optional<Cache> cache_;
};

}  // namespace course
