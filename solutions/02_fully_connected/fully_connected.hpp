/// @file fully_connected.hpp
/// @brief Chapter 2: the fully connected (affine) layer, out = x W + b, with its backward pass.
///
/// Shape letters: N samples, D input features, M output features.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>

#include "course/layer.hpp"
#include "course/random.hpp"

namespace course {

/// @brief A fully connected layer: every output feature is a weighted sum of every input feature, plus a bias.
///
/// \f$ out_{nm} = \sum_d x_{nd} W_{dm} + b_m \f$, or in matrix form \f$ out = x W + b \f$.
///
/// The parameters and their gradients are public members, so that tests and the network can reach them by
/// name; `params_and_grads()` lists them for optimizers.
class FullyConnected : public Layer<2> {
public:
    Tensor<2> W;   ///< weights, shape (D, M)
    Tensor<1> b;   ///< bias, shape (M)
    Tensor<2> dW;  ///< \f$ \partial L / \partial W \f$, shape (D, M); overwritten by every `backward`
    Tensor<1> db;  ///< \f$ \partial L / \partial b \f$, shape (M); overwritten by every `backward`

    /// @brief A layer from D = `in_features` to M = `out_features`, with random weights.
    ///
    /// W is drawn from a normal distribution with standard deviation \f$ \sqrt{2 / D} \f$ (D is the
    /// *fan-in*, the number of inputs of each output) and b starts at 0. Chapter 8 explains why this
    /// scale keeps the signal alive through many layers.
    ///
    /// @param in_features   D, the number of input features (at least 1)
    /// @param out_features  M, the number of output features (at least 1)
    /// @param rng           the random generator that draws W (seed it for repeatable runs)
    /// @param name          the layer's name in messages and parameter names, for example "fc1"
    FullyConnected(std::size_t in_features, std::size_t out_features, Rng& rng, std::string name = "fc")
        : Layer<2>(std::move(name)) {
        if (in_features == 0 || out_features == 0) {
            throw ArgumentError(where("constructor") + ": in_features and out_features must be at least 1, not " +
                                std::to_string(in_features) + " and " + std::to_string(out_features));
        }
        W = randn<2>({in_features, out_features}, rng, std::sqrt(2.0 / static_cast<double>(in_features)));
        b = xt::zeros<real>({out_features});
        dW = xt::zeros<real>({in_features, out_features});
        db = xt::zeros<real>({out_features});
    }

    std::string kind() const override { return "FullyConnected"; }
    std::size_t in_features() const { return W.shape(0); }   ///< D
    std::size_t out_features() const { return W.shape(1); }  ///< M

    // [forward]
    /// @brief Forward pass: \f$ out = x W + b \f$.
    ///
    /// @param x  inputs, shape (N, D)
    /// @return   out, shape (N, M)
    /// @throws ShapeError when x is not (N, D), or holds no sample (N = 0)
    Tensor<2> forward(const Tensor<2>& x) override {
        check_batch(where("forward"), "x", x, {{"N"}, {"D", in_features()}});
        // TODO(ch02) begin: FullyConnected::forward -- read README.md section 2
        cache_ = Cache{x};  // backward needs x for dW
        return xt::linalg::dot(x, W) + b;
        // TODO(ch02) end
    }
    // [forward]

    // [backward]
    /// @brief Backward pass: from dout = dL/dout, stores dW and db and returns dx.
    ///
    /// @param dout  upstream gradient, shape (N, M): the shape of the last output of `forward`
    /// @return      dx, shape (N, D)
    /// @throws ArgumentError when `forward` has not run; ShapeError when dout is not (N, M)
    Tensor<2> backward(const Tensor<2>& dout) override {
        const Cache& cache = cached(cache_);
        check_shape(where("backward"), "dout", dout, {{"N", cache.x.shape(0)}, {"M", out_features()}});
        // forward was: out_nm = sum_d x_nd W_dm + b_m
        // TODO(ch02) begin: FullyConnected::backward -- read README.md section 3
        dW = xt::linalg::dot(xt::transpose(cache.x), dout);  // dW_dm = sum_n x_nd dout_nm
        db = xt::sum(dout, {0});                             // db_m  = sum_n dout_nm: b was added to every row
        return xt::linalg::dot(dout, xt::transpose(W));      // dx_nd = sum_m dout_nm W_dm
        // TODO(ch02) end
    }
    // [backward]

    /// @brief {name.W, W, dW} and {name.b, b, db}.
    std::vector<ParamRef> params_and_grads() override {
        return {param_ref(name() + ".W", W, dW), param_ref(name() + ".b", b, db)};
    }

private:
    /// What backward needs from forward.
    struct Cache {
        Tensor<2> x;  ///< the input of forward, shape (N, D)
    };
    std::optional<Cache> cache_;
};

}  // namespace course
