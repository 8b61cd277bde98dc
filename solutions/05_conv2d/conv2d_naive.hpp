/// @file conv2d_naive.hpp
/// @brief Chapter 5, part 1: the convolution layer's forward and backward passes written as plain loops,
/// straight from the index formulas. They are slow and they are the reference: the fast im2col version
/// (conv2d_im2col.hpp) is tested against them.
///
/// Shape letters: N samples, C input channels, H x W input height x width, F filters (output channels),
/// KH x KW kernel, Ho x Wo output height x width, Hp x Wp the padded input (H + 2 pad, W + 2 pad).
/// Indices start at 0, in the formulas as in the code. `W` alone is the weight tensor; the width is `s.W`.
///
/// The convolution, for a zero-padded input xp (README.md section 2):
///
///     out(n, f, i, j) = b(f) + sum over c, p, q of  xp(n, c, i*stride + p, j*stride + q) * W(f, c, p, q)
///     xp(n, c, h, w)  = x(n, c, h - pad, w - pad) inside the image, 0 in the border of width pad
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

/// @brief Every size of one convolution, computed and checked once by `conv_sizes()`.
struct ConvSizes {
    std::size_t N, C, H, W;  ///< the input x, shape (N, C, H, W)
    std::size_t F, KH, KW;   ///< the weights, shape (F, C, KH, KW)
    std::size_t stride;      ///< S: how many pixels the kernel moves between two outputs (at least 1)
    std::size_t pad;         ///< zeros added on each of the four sides of every image
    std::size_t Hp, Wp;      ///< the padded input: Hp = H + 2 pad, Wp = W + 2 pad
    std::size_t Ho, Wo;      ///< the output: Ho = (Hp - KH) / stride + 1, Wo = (Wp - KW) / stride + 1 (floor)
};

/// @brief The output size along one axis: \f$ \lfloor (size + 2\,pad - K) / S \rfloor + 1 \f$.
///
/// The division rounds down (as in PyTorch and TensorFlow's "valid"): when the stride does not fit the
/// padded input exactly, the last rows (or columns) that no kernel position reaches are ignored, and their
/// gradient is 0. Example: size 6, K 3, S 2, pad 0 gives (6 - 3) / 2 + 1 = 2 outputs; they read rows 0-2
/// and 2-4, and row 5 is never read.
///
/// @throws ArgumentError when stride or kernel is 0, or the kernel is larger than the padded size
inline std::size_t conv_output_size(std::size_t size, std::size_t kernel, std::size_t stride, std::size_t pad) {
    if (stride == 0 || kernel == 0 || kernel > size + 2 * pad) {
        throw ArgumentError("conv_output_size: needs stride >= 1 and 1 <= kernel <= size + 2 pad, but stride = " +
                            std::to_string(stride) + ", kernel = " + std::to_string(kernel) +
                            ", size = " + std::to_string(size) + ", pad = " + std::to_string(pad));
    }
    return (size + 2 * pad - kernel) / stride + 1;
}

/// @brief Checks the arguments of a convolution and computes its sizes.
///
/// @param where   who asks, for messages: "conv2d_forward_naive" or "Conv2D 'conv1' forward"
/// @param x       input, shape (N, C, H, W)
/// @param W       weights, shape (F, C, KH, KW): the same C as x
/// @param stride  S, at least 1 (an `int`, so that a negative number is reported, not wrapped around)
/// @param pad     0 or more
/// @throws ShapeError when x and W disagree on C, when x holds no sample (N = 0), when the kernel is empty,
///         or when it is larger than the padded input; ArgumentError when stride < 1 or pad < 0
inline ConvSizes conv_sizes(std::string_view where, const Tensor<4>& x, const Tensor<4>& W, int stride, int pad) {
    const std::string at(where);
    if (stride < 1) throw ArgumentError(at + ": stride must be at least 1, not " + std::to_string(stride));
    if (pad < 0) throw ArgumentError(at + ": padding must be 0 or more, not " + std::to_string(pad));
    check_batch(at, "x", x, {{"N"}, {"C", W.shape(1)}, {"H"}, {"W"}});
    ConvSizes s{};
    s.N = x.shape(0);
    s.C = x.shape(1);
    s.H = x.shape(2);
    s.W = x.shape(3);
    s.F = W.shape(0);
    s.KH = W.shape(2);
    s.KW = W.shape(3);
    s.stride = static_cast<std::size_t>(stride);
    s.pad = static_cast<std::size_t>(pad);
    s.Hp = s.H + 2 * s.pad;
    s.Wp = s.W + 2 * s.pad;
    if (s.KH == 0 || s.KW == 0) {
        throw ShapeError(at + ": W has shape " + shape_to_string(W.shape()) + ": the kernel must be at least 1 x 1");
    }
    if (s.KH > s.Hp || s.KW > s.Wp) {
        throw ShapeError(at + ": the kernel (KH=" + std::to_string(s.KH) + ", KW=" + std::to_string(s.KW) +
                         ") is larger than the padded input (H + 2 pad = " + std::to_string(s.Hp) +
                         ", W + 2 pad = " + std::to_string(s.Wp) + "): x has shape " + shape_to_string(x.shape()) +
                         " and padding is " + std::to_string(pad));
    }
    s.Ho = conv_output_size(s.H, s.KH, s.stride, s.pad);
    s.Wo = conv_output_size(s.W, s.KW, s.stride, s.pad);
    return s;
}

/// @brief Throws `ArgumentError` unless the sizes in `s` fit together as `conv_sizes()` makes them.
///
/// The im2col helpers index with raw pointers along whole rows of windows, trusting s: a hand-made s with,
/// say, one output row too many would read and write outside the tensors instead of failing.
///
/// @param where  who checks, for the message, for example "im2col"
/// @param s      the sizes to check
inline void check_conv_sizes(std::string_view where, const ConvSizes& s) {
    auto fail = [&](const std::string& what) {
        throw ArgumentError(std::string(where) + ": the sizes s do not fit together: " + what +
                            " (make s with conv_sizes())");
    };
    if (s.stride == 0) fail("stride is 0");
    if (s.KH == 0 || s.KW == 0) fail("the kernel is " + std::to_string(s.KH) + " x " + std::to_string(s.KW));
    if (s.Hp != s.H + 2 * s.pad || s.Wp != s.W + 2 * s.pad) {
        fail("Hp x Wp is " + std::to_string(s.Hp) + " x " + std::to_string(s.Wp) + " but H + 2 pad x W + 2 pad is " +
             std::to_string(s.H + 2 * s.pad) + " x " + std::to_string(s.W + 2 * s.pad));
    }
    if (s.KH > s.Hp || s.KW > s.Wp) fail("the kernel is larger than the padded input");
    const std::size_t Ho = conv_output_size(s.H, s.KH, s.stride, s.pad),
                      Wo = conv_output_size(s.W, s.KW, s.stride, s.pad);
    if (s.Ho != Ho || s.Wo != Wo) {
        fail("Ho x Wo is " + std::to_string(s.Ho) + " x " + std::to_string(s.Wo) +
             " but (Hp - KH) / stride + 1 x (Wp - KW) / stride + 1 is " + std::to_string(Ho) + " x " +
             std::to_string(Wo));
    }
}

/// @brief The input surrounded by `pad` rows and columns of zeros on each side.
///
/// @param x    shape (N, C, H, W)
/// @param pad  the border's width
/// @return     xp, shape (N, C, H + 2 pad, W + 2 pad), with xp(n, c, h + pad, w + pad) = x(n, c, h, w)
inline Tensor<4> zero_pad(const Tensor<4>& x, std::size_t pad) {
    if (pad == 0) return x;
    const std::size_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
    const std::size_t Hp = H + 2 * pad, Wp = W + 2 * pad;
    Tensor<4> xp = xt::zeros<real>({N, C, Hp, Wp});
    for (std::size_t plane = 0; plane < N * C; ++plane) {  // plane = n * C + c
        for (std::size_t h = 0; h < H; ++h) {
            const real* row = x.data() + (plane * H + h) * W;  // one row of W pixels, contiguous
            std::copy(row, row + W, xp.data() + (plane * Hp + h + pad) * Wp + pad);
        }
    }
    return xp;
}

// [forward_naive]
/// @brief Forward pass of a convolution, as loops over the index formula.
///
/// \f$ out_{n,f,i,j} = b_f + \sum_{c,p,q} xp_{n,c,\,iS+p,\,jS+q}\, W_{f,c,p,q} \f$, with xp = zero_pad(x, pad).
///
/// @param x       inputs, shape (N, C, H, W)
/// @param W       weights, shape (F, C, KH, KW)
/// @param b       bias, shape (F): one number per filter
/// @param stride  S, at least 1
/// @param pad     zeros added on each side of every image, 0 or more
/// @return        out, shape (N, F, Ho, Wo), Ho = (H + 2 pad - KH) / S + 1 (floor), Wo likewise
/// @throws ShapeError, ArgumentError as `conv_sizes()`, and ShapeError when b is not (F)
inline Tensor<4> conv2d_forward_naive(const Tensor<4>& x, const Tensor<4>& W, const Tensor<1>& b, int stride = 1,
                                      int pad = 0) {
    const ConvSizes s = conv_sizes("conv2d_forward_naive", x, W, stride, pad);
    check_shape("conv2d_forward_naive", "b", b, {{"F", s.F}});
    const Tensor<4> xp = zero_pad(x, s.pad);  // (N, C, Hp, Wp): padding is just zeros around the image
    Tensor<4> out = xt::zeros<real>({s.N, s.F, s.Ho, s.Wo});
    // TODO(ch05) begin: conv2d_forward_naive -- read README.md sections 2 and 5
    for (std::size_t n = 0; n < s.N; ++n) {
        for (std::size_t f = 0; f < s.F; ++f) {
            for (std::size_t i = 0; i < s.Ho; ++i) {
                for (std::size_t j = 0; j < s.Wo; ++j) {
                    real sum = b(f);
                    for (std::size_t c = 0; c < s.C; ++c) {
                        for (std::size_t p = 0; p < s.KH; ++p) {
                            for (std::size_t q = 0; q < s.KW; ++q) {
                                sum += xp(n, c, i * s.stride + p, j * s.stride + q) * W(f, c, p, q);
                            }
                        }
                    }
                    out(n, f, i, j) = sum;
                }
            }
        }
    }
    // TODO(ch05) end
    return out;
}
// [forward_naive]

/// @brief The gradients of a convolution: with respect to its input and to both parameters.
struct ConvGrads {
    Tensor<4> dx;  ///< \f$ \partial L / \partial x \f$, shape (N, C, H, W)
    Tensor<4> dW;  ///< \f$ \partial L / \partial W \f$, shape (F, C, KH, KW)
    Tensor<1> db;  ///< \f$ \partial L / \partial b \f$, shape (F)
};

// [backward_naive]
/// @brief Backward pass of a convolution, as loops over the index formulas of README.md section 3.
///
/// - \f$ db_f = \sum_{n,i,j} dout_{n,f,i,j} \f$
/// - \f$ dW_{f,c,p,q} = \sum_{n,i,j} dout_{n,f,i,j}\; xp_{n,c,\,iS+p,\,jS+q} \f$: a correlation of the
///   padded input with dout
/// - dx is a "full" correlation of the dilated dout with the flipped kernel, cropped:
///   \f$ dxp_{n,c,h,w} = \sum_{f,p,q} dd_{n,f,\,h+p,\,w+q}\; W_{f,c,KH-1-p,\,KW-1-q} \f$ and
///   \f$ dx_{n,c,h,w} = dxp_{n,c,\,h+pad,\,w+pad} \f$, where dd holds dout(n, f, i, j) at
///   (KH-1 + iS, KW-1 + jS) and zeros everywhere else
///
/// @param dout    upstream gradient \f$ \partial L / \partial out \f$, shape (N, F, Ho, Wo)
/// @param x       the input of the forward pass, shape (N, C, H, W)
/// @param W       the weights of the forward pass, shape (F, C, KH, KW)
/// @param stride  S, as in the forward pass
/// @param pad     as in the forward pass
/// @return        dx (N, C, H, W), dW (F, C, KH, KW) and db (F)
/// @throws ShapeError, ArgumentError as `conv_sizes()`, and ShapeError when dout is not (N, F, Ho, Wo)
inline ConvGrads conv2d_backward_naive(const Tensor<4>& dout, const Tensor<4>& x, const Tensor<4>& W, int stride = 1,
                                       int pad = 0) {
    const ConvSizes s = conv_sizes("conv2d_backward_naive", x, W, stride, pad);
    check_shape("conv2d_backward_naive", "dout", dout, {{"N", s.N}, {"F", s.F}, {"Ho", s.Ho}, {"Wo", s.Wo}});
    const Tensor<4> xp = zero_pad(x, s.pad);  // the padded input that forward read
    ConvGrads grads{xt::zeros<real>(x.shape()), xt::zeros<real>(W.shape()), xt::zeros<real>({s.F})};
    // forward was: out(n, f, i, j) = b(f) + sum_{c,p,q} xp(n, c, i*S + p, j*S + q) * W(f, c, p, q)

    // TODO(ch05) begin: conv2d_backward_naive part 1: db -- read README.md section 3.2
    // b(f) was added to every output of filter f: every sample n, every position (i, j)
    for (std::size_t n = 0; n < s.N; ++n) {
        for (std::size_t f = 0; f < s.F; ++f) {
            for (std::size_t i = 0; i < s.Ho; ++i) {
                for (std::size_t j = 0; j < s.Wo; ++j) grads.db(f) += dout(n, f, i, j);
            }
        }
    }
    // TODO(ch05) end

    // TODO(ch05) begin: conv2d_backward_naive part 2: dW -- read README.md section 3.3
    // W(f, c, p, q) multiplied xp(n, c, i*S + p, j*S + q) in every output (n, f, i, j)
    for (std::size_t f = 0; f < s.F; ++f) {
        for (std::size_t c = 0; c < s.C; ++c) {
            for (std::size_t p = 0; p < s.KH; ++p) {
                for (std::size_t q = 0; q < s.KW; ++q) {
                    real sum = 0;
                    for (std::size_t n = 0; n < s.N; ++n) {
                        for (std::size_t i = 0; i < s.Ho; ++i) {
                            for (std::size_t j = 0; j < s.Wo; ++j) {
                                sum += dout(n, f, i, j) * xp(n, c, i * s.stride + p, j * s.stride + q);
                            }
                        }
                    }
                    grads.dW(f, c, p, q) = sum;
                }
            }
        }
    }
    // TODO(ch05) end

    // TODO(ch05) begin: conv2d_backward_naive part 3: dx -- read README.md sections 3.4 to 3.7
    // 1. Dilate and pad dout: dd is zero except dd(n, f, KH-1 + i*S, KW-1 + j*S) = dout(n, f, i, j).
    //    Size Hp + KH - 1 by Wp + KW - 1, so that every dxp(h, w) below has its full window.
    Tensor<4> dd = xt::zeros<real>({s.N, s.F, s.Hp + s.KH - 1, s.Wp + s.KW - 1});
    for (std::size_t n = 0; n < s.N; ++n) {
        for (std::size_t f = 0; f < s.F; ++f) {
            for (std::size_t i = 0; i < s.Ho; ++i) {
                for (std::size_t j = 0; j < s.Wo; ++j) {
                    dd(n, f, s.KH - 1 + i * s.stride, s.KW - 1 + j * s.stride) = dout(n, f, i, j);
                }
            }
        }
    }
    // 2. Full correlation with the flipped kernel, summed over the filters: the gradient of the padded input.
    Tensor<4> dxp = xt::zeros<real>({s.N, s.C, s.Hp, s.Wp});
    for (std::size_t n = 0; n < s.N; ++n) {
        for (std::size_t c = 0; c < s.C; ++c) {
            for (std::size_t h = 0; h < s.Hp; ++h) {
                for (std::size_t w = 0; w < s.Wp; ++w) {
                    real sum = 0;
                    for (std::size_t f = 0; f < s.F; ++f) {
                        for (std::size_t p = 0; p < s.KH; ++p) {
                            for (std::size_t q = 0; q < s.KW; ++q) {
                                sum += dd(n, f, h + p, w + q) * W(f, c, s.KH - 1 - p, s.KW - 1 - q);
                            }
                        }
                    }
                    dxp(n, c, h, w) = sum;
                }
            }
        }
    }
    // 3. The border of xp was constant zeros, not x: crop it away. x(n, c, h, w) was xp(n, c, h + pad, w + pad).
    grads.dx = xt::view(dxp, xt::all(), xt::all(), xt::range(s.pad, s.pad + s.H), xt::range(s.pad, s.pad + s.W));
    // TODO(ch05) end
    return grads;
}
// [backward_naive]

}  // namespace course
