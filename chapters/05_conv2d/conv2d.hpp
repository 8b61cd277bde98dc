/// @file conv2d.hpp
/// @brief Chapter 5: the convolution layer `Conv2D`. It checks its arguments and calls the free functions
/// of conv2d_naive.hpp or conv2d_im2col.hpp, which hold the exercises. This file is given.
///
/// Shape letters: N samples, C input channels, H x W input height x width, F filters (output channels),
/// KH x KW kernel (here square: KH = KW = kernel_size), Ho x Wo output height x width.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "05_conv2d/conv2d_im2col.hpp"
#include "05_conv2d/conv2d_naive.hpp"
#include "course/layer.hpp"
#include "course/random.hpp"

namespace course {

/// @brief Which code computes the convolution: the loops of conv2d_naive.hpp or the matrix products of
/// conv2d_im2col.hpp. Both give the same numbers (the tests check it to 1e-10); im2col is much faster.
enum class ConvAlgorithm { naive, im2col };

/// @brief A 2-D convolution layer: F filters of C x KH x KW weights, each slid over the (zero-padded)
/// input with a step of `stride` pixels.
///
/// \f$ out_{n,f,i,j} = b_f + \sum_{c,p,q} x_{n,c,\,iS+p-pad,\,jS+q-pad}\; W_{f,c,p,q} \f$
/// (x is 0 outside the image), with \f$ Ho = \lfloor (H + 2\,pad - KH) / S \rfloor + 1 \f$ and Wo likewise.
/// When the stride does not fit exactly, the last rows or columns that no kernel position reaches are
/// ignored, and their gradient is 0 (as in PyTorch).
///
/// @code
/// Rng rng(1);
/// Conv2D conv1(1, 6, 5, rng, 1, 0, "conv1");  // (N, 1, 28, 28) -> (N, 6, 24, 24)
/// Conv2D same(3, 8, 3, rng, 1, 1, "same");    // padding 1 keeps H x W with a 3 x 3 kernel
/// conv1.algorithm = ConvAlgorithm::naive;     // the loops instead of im2col (for comparisons)
/// @endcode
class Conv2D : public Layer<4> {
public:
    Tensor<4> W;   ///< weights, shape (F, C, KH, KW)
    Tensor<1> b;   ///< bias, shape (F): one number per filter
    Tensor<4> dW;  ///< \f$ \partial L / \partial W \f$, shape (F, C, KH, KW); overwritten by every `backward`
    Tensor<1> db;  ///< \f$ \partial L / \partial b \f$, shape (F); overwritten by every `backward`

    /// @brief The code that the next `forward` uses (its `backward` follows the same choice).
    ConvAlgorithm algorithm = ConvAlgorithm::im2col;

    /// @brief A convolution from C = `in_channels` to F = `out_channels` channels, with random weights.
    ///
    /// W is drawn from a normal distribution with standard deviation \f$ \sqrt{2 / (C \cdot KH \cdot KW)} \f$
    /// (He initialization: C KH KW is the fan-in, the number of inputs of each output) and b starts at 0.
    ///
    /// The sizes are `int`, not `std::size_t`, so that a negative number is reported as an error instead of
    /// silently wrapping around to 18446744073709551615.
    ///
    /// @param in_channels   C, at least 1
    /// @param out_channels  F, at least 1
    /// @param kernel_size   KH = KW, at least 1
    /// @param rng           the random generator that draws W (seed it for repeatable runs)
    /// @param stride        S, at least 1
    /// @param padding       zeros added on each side of every image, 0 or more
    /// @param name          the layer's name in messages and parameter names, for example "conv1"
    /// @throws ArgumentError when an argument is out of its range
    Conv2D(int in_channels, int out_channels, int kernel_size, Rng& rng, int stride = 1, int padding = 0,
           std::string name = "conv")
        : Layer<4>(std::move(name)), stride_(stride), padding_(padding) {
        const std::pair<const char*, int> at_least_one[] = {{"in_channels", in_channels},
                                                            {"out_channels", out_channels},
                                                            {"kernel_size", kernel_size},
                                                            {"stride", stride}};
        for (const auto& [argument, value] : at_least_one) {
            if (value < 1) {
                throw ArgumentError(where("constructor") + ": " + argument + " must be at least 1, not " +
                                    std::to_string(value));
            }
        }
        if (padding < 0) {
            throw ArgumentError(where("constructor") + ": padding must be 0 or more, not " + std::to_string(padding));
        }
        const auto C = static_cast<std::size_t>(in_channels), F = static_cast<std::size_t>(out_channels);
        const auto K = static_cast<std::size_t>(kernel_size);
        W = randn<4>({F, C, K, K}, rng, std::sqrt(2.0 / static_cast<double>(C * K * K)));
        b = xt::zeros<real>({F});
        dW = xt::zeros<real>({F, C, K, K});
        db = xt::zeros<real>({F});
    }

    std::string kind() const override { return "Conv2D"; }
    std::size_t in_channels() const { return W.shape(1); }                      ///< C
    std::size_t out_channels() const { return W.shape(0); }                     ///< F
    std::size_t kernel_size() const { return W.shape(2); }                      ///< KH = KW
    std::size_t stride() const { return static_cast<std::size_t>(stride_); }    ///< S
    std::size_t padding() const { return static_cast<std::size_t>(padding_); }  ///< pad

    // [layer_forward]
    /// @brief Forward pass with the chosen `algorithm`.
    ///
    /// @param x  inputs, shape (N, C, H, W) with H + 2 pad >= KH and W + 2 pad >= KW
    /// @return   out, shape (N, F, Ho, Wo)
    /// @throws ShapeError when x does not have C channels or is smaller than the kernel (after padding)
    Tensor<4> forward(const Tensor<4>& x) override {
        const ConvSizes s = conv_sizes(where("forward"), x, W, stride_, padding_);
        if (algorithm == ConvAlgorithm::naive) {
            Tensor<4> out = conv2d_forward_naive(x, W, b, stride_, padding_);
            cache_ = Cache{x, s, ConvAlgorithm::naive, {}};
            return out;
        }
        Tensor<2> cols = im2col(zero_pad(x, s.pad), s);  // kept for backward, which needs it for dW
        Tensor<4> out = conv2d_forward_gemm(cols, W, b, s);
        cache_ = Cache{x, s, ConvAlgorithm::im2col, std::move(cols)};
        return out;
    }
    // [layer_forward]

    // [layer_backward]
    /// @brief Backward pass with the algorithm of the last `forward`: stores dW and db, returns dx.
    ///
    /// @param dout  upstream gradient, shape (N, F, Ho, Wo): the shape of the last output of `forward`
    /// @return      dx, shape (N, C, H, W)
    /// @throws ArgumentError when `forward` has not run; ShapeError when dout is not (N, F, Ho, Wo)
    Tensor<4> backward(const Tensor<4>& dout) override {
        const Cache& cache = cached(cache_);
        const ConvSizes& s = cache.sizes;
        check_shape(where("backward"), "dout", dout, {{"N", s.N}, {"F", s.F}, {"Ho", s.Ho}, {"Wo", s.Wo}});
        ConvGrads grads = cache.algorithm == ConvAlgorithm::naive
                              ? conv2d_backward_naive(dout, cache.x, W, stride_, padding_)
                              : conv2d_backward_gemm(dout, cache.cols, W, s);
        dW = std::move(grads.dW);
        db = std::move(grads.db);
        return std::move(grads.dx);
    }
    // [layer_backward]

    /// @brief {name.W, W, dW} and {name.b, b, db}.
    std::vector<ParamRef> params_and_grads() override {
        return {param_ref(name() + ".W", W, dW), param_ref(name() + ".b", b, db)};
    }

private:
    int stride_;   ///< S
    int padding_;  ///< pad

    /// What backward needs from forward.
    struct Cache {
        Tensor<4> x;              ///< the input of forward, shape (N, C, H, W) (the naive backward reads it)
        ConvSizes sizes;          ///< every size of this convolution
        ConvAlgorithm algorithm;  ///< the algorithm forward used; backward uses the same
        Tensor<2> cols;           ///< im2col only: the column matrix, shape (C*KH*KW, N*Ho*Wo); empty for naive
    };
    std::optional<Cache> cache_;
};

}  // namespace course
