/// @file conv2d_im2col.hpp
/// @brief Chapter 5, part 2: the same convolution as conv2d_naive.hpp, computed as matrix products.
/// `im2col` copies every kernel window of the padded input into one column of a matrix; then the forward
/// pass is one matrix product (GEMM), and the backward pass two matrix products plus `col2im`.
///
/// **The column matrix** (README.md section 6). For a padded input xp of shape (N, C, Hp, Wp):
///
///     cols has C*KH*KW rows and N*Ho*Wo columns
///     row    r = (c * KH + p) * KW + q     one row per weight of a filter, in the order of W(f, c, p, q)
///     column k = (n * Ho + i) * Wo + j     one column per output position, in the order of out(n, ., i, j)
///     cols(r, k) = xp(n, c, i*stride + p, j*stride + q)
///
/// Why this layout:
/// - the rows follow W's own memory order, so W (F, C, KH, KW) read as a matrix W2 (F, C*KH*KW) is a plain
///   reshape, and so is dW2 back to dW: no weight is moved;
/// - one column per output of the whole batch makes the forward pass ONE product,
///   out2 = W2 cols: (F, C*KH*KW) x (C*KH*KW, N*Ho*Wo) = (F, N*Ho*Wo), and the backward pass exactly the
///   two products of chapter 2;
/// - the price is one reshuffle, (F, N*Ho*Wo) to (N, F, Ho, Wo), which moves each output number once
///   (`rows_to_batch`): C*KH*KW times less work than the product itself.
///
/// The other common layout, one column matrix per sample, gives out(n) directly in its place, but needs N
/// products per step. It can even be faster (for LeNet's conv1, 64 products of 57 KB column matrices took
/// 0.18 ms against 0.50 ms for one product of the batch's 3.7 MB matrix, which does not fit in the cache);
/// the course keeps the single product because it makes the algebra one line.
///
/// Shape letters as in conv2d_naive.hpp.
#pragma once

#include <algorithm>
#include <cstddef>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "05_conv2d/conv2d_naive.hpp"
#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

/// @brief W (F, C, KH, KW) as the matrix W2 (F, C*KH*KW): W2(f, (c*KH + p)*KW + q) = W(f, c, p, q).
///
/// The same numbers in the same order (row-major), seen with two indices instead of four.
inline Tensor<2> weights_as_matrix(const Tensor<4>& W) {
    Tensor<2> W2({W.shape(0), W.shape(1) * W.shape(2) * W.shape(3)});
    std::copy(W.begin(), W.end(), W2.begin());
    return W2;
}

/// @brief The inverse of `weights_as_matrix`: dW2 (F, C*KH*KW) back to dW (F, C, KH, KW).
inline Tensor<4> matrix_as_weights(const Tensor<2>& W2, const ConvSizes& s) {
    check_shape("matrix_as_weights", "W2", W2, {{"F", s.F}, {"C*KH*KW", s.C * s.KH * s.KW}});
    Tensor<4> W({s.F, s.C, s.KH, s.KW});
    std::copy(W2.begin(), W2.end(), W.begin());
    return W;
}

/// @brief out2 (F, N*Ho*Wo), as the forward product makes it, to the layer's layout out (N, F, Ho, Wo):
/// out(n, f, i, j) = out2(f, (n*Ho + i)*Wo + j).
inline Tensor<4> rows_to_batch(const Tensor<2>& out2, const ConvSizes& s) {
    check_shape("rows_to_batch", "out2", out2, {{"F", s.F}, {"N*Ho*Wo", s.N * s.Ho * s.Wo}});
    const std::size_t plane = s.Ho * s.Wo;  // one (Ho, Wo) image is contiguous on both sides
    Tensor<4> out({s.N, s.F, s.Ho, s.Wo});
    for (std::size_t f = 0; f < s.F; ++f) {
        for (std::size_t n = 0; n < s.N; ++n) {
            const real* from = out2.data() + f * s.N * plane + n * plane;
            std::copy(from, from + plane, out.data() + (n * s.F + f) * plane);
        }
    }
    return out;
}

/// @brief The inverse of `rows_to_batch`: dout (N, F, Ho, Wo) to dout2 (F, N*Ho*Wo).
inline Tensor<2> batch_to_rows(const Tensor<4>& dout) {
    const std::size_t N = dout.shape(0), F = dout.shape(1), plane = dout.shape(2) * dout.shape(3);
    Tensor<2> dout2({F, N * plane});
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t f = 0; f < F; ++f) {
            const real* from = dout.data() + (n * F + f) * plane;
            std::copy(from, from + plane, dout2.data() + f * N * plane + n * plane);
        }
    }
    return dout2;
}

// [im2col]
/// @brief Copies every kernel window of the padded input into one column: the column matrix.
///
/// cols(r, k) = xp(n, c, i*S + p, j*S + q) with r = (c*KH + p)*KW + q and k = (n*Ho + i)*Wo + j.
/// A pixel that lies in several windows is copied into several columns.
///
/// @param xp  the zero-padded input, shape (N, C, Hp, Wp) (`zero_pad(x, pad)`)
/// @param s   the sizes of the convolution (`conv_sizes()`)
/// @return    cols, shape (C*KH*KW, N*Ho*Wo)
/// @throws ArgumentError when the sizes in s do not fit together; ShapeError when xp is not (N, C, Hp, Wp)
inline Tensor<2> im2col(const Tensor<4>& xp, const ConvSizes& s) {
    check_conv_sizes("im2col", s);
    check_shape("im2col", "xp", xp, {{"N", s.N}, {"C", s.C}, {"Hp", s.Hp}, {"Wp", s.Wp}});
    Tensor<2> cols = xt::zeros<real>({s.C * s.KH * s.KW, s.N * s.Ho * s.Wo});
    // TODO(ch05) begin: im2col -- read README.md section 6
    course::todo("ch05", "im2col", "read README.md section 6");
    // TODO(ch05) end
    return cols;
}
// [im2col]

// [col2im]
/// @brief The backward pass of `im2col`: adds every entry of dcols back to the pixel it was copied from.
///
/// dxp(n, c, h, w) = the sum of dcols(r, k) over every (r, k) whose cols(r, k) was a copy of xp(n, c, h, w).
/// This is the adjoint of im2col, not its inverse: col2im(im2col(xp)) multiplies every pixel by the number
/// of windows that contain it.
///
/// @param dcols  the gradient of the column matrix, shape (C*KH*KW, N*Ho*Wo)
/// @param s      the sizes of the convolution
/// @return       dxp, the gradient of the padded input, shape (N, C, Hp, Wp)
/// @throws ArgumentError when the sizes in s do not fit together; ShapeError when dcols is not (C*KH*KW, N*Ho*Wo)
inline Tensor<4> col2im(const Tensor<2>& dcols, const ConvSizes& s) {
    check_conv_sizes("col2im", s);
    check_shape("col2im", "dcols", dcols, {{"C*KH*KW", s.C * s.KH * s.KW}, {"N*Ho*Wo", s.N * s.Ho * s.Wo}});
    Tensor<4> dxp = xt::zeros<real>({s.N, s.C, s.Hp, s.Wp});
    // TODO(ch05) begin: col2im -- read README.md section 7
    course::todo("ch05", "col2im", "read README.md section 7");
    // TODO(ch05) end
    return dxp;
}
// [col2im]

// [forward_gemm]
/// @brief Forward pass from the column matrix: one matrix product, plus the bias.
///
/// out2 = W2 cols + b, that is out2(f, k) = b(f) + sum_r W2(f, r) cols(r, k), then out = rows_to_batch(out2).
///
/// @param cols  the column matrix of the input, shape (C*KH*KW, N*Ho*Wo) (`im2col`)
/// @param W     weights, shape (F, C, KH, KW)
/// @param b     bias, shape (F)
/// @param s     the sizes of the convolution
/// @return      out, shape (N, F, Ho, Wo): the same numbers as `conv2d_forward_naive`
inline Tensor<4> conv2d_forward_gemm(const Tensor<2>& cols, const Tensor<4>& W, const Tensor<1>& b,
                                     const ConvSizes& s) {
    check_shape("conv2d_forward_gemm", "cols", cols, {{"C*KH*KW", s.C * s.KH * s.KW}, {"N*Ho*Wo", s.N * s.Ho * s.Wo}});
    check_shape("conv2d_forward_gemm", "W", W, {{"F", s.F}, {"C", s.C}, {"KH", s.KH}, {"KW", s.KW}});
    check_shape("conv2d_forward_gemm", "b", b, {{"F", s.F}});
    // TODO(ch05) begin: conv2d_forward_gemm -- read README.md section 6
    course::todo("ch05", "conv2d_forward_gemm", "read README.md section 6");
    // TODO(ch05) end
}
// [forward_gemm]

// [backward_gemm]
/// @brief Backward pass from the column matrix: two matrix products, a sum and `col2im`.
///
/// With dout2 = batch_to_rows(dout), shape (F, N*Ho*Wo), and W2 = weights_as_matrix(W):
/// dW2 = dout2 cols^T, db(f) = sum_k dout2(f, k), dcols = W2^T dout2, dx = crop(col2im(dcols)).
///
/// @param dout  upstream gradient, shape (N, F, Ho, Wo)
/// @param cols  the column matrix the forward pass used, shape (C*KH*KW, N*Ho*Wo)
/// @param W     the weights of the forward pass, shape (F, C, KH, KW)
/// @param s     the sizes of the convolution
/// @return      dx (N, C, H, W), dW (F, C, KH, KW) and db (F): the same numbers as `conv2d_backward_naive`
inline ConvGrads conv2d_backward_gemm(const Tensor<4>& dout, const Tensor<2>& cols, const Tensor<4>& W,
                                      const ConvSizes& s) {
    check_shape("conv2d_backward_gemm", "dout", dout, {{"N", s.N}, {"F", s.F}, {"Ho", s.Ho}, {"Wo", s.Wo}});
    check_shape("conv2d_backward_gemm", "cols", cols, {{"C*KH*KW", s.C * s.KH * s.KW}, {"N*Ho*Wo", s.N * s.Ho * s.Wo}});
    check_shape("conv2d_backward_gemm", "W", W, {{"F", s.F}, {"C", s.C}, {"KH", s.KH}, {"KW", s.KW}});
    // forward was: out2 = W2 cols + b, with out2 = batch_to_rows(out) and W2 = weights_as_matrix(W)
    // TODO(ch05) begin: conv2d_backward_gemm -- read README.md section 7
    course::todo("ch05", "conv2d_backward_gemm", "read README.md section 7");
    // TODO(ch05) end
}
// [backward_gemm]

/// @brief Forward pass with im2col, with the signature of `conv2d_forward_naive`.
inline Tensor<4> conv2d_forward_im2col(const Tensor<4>& x, const Tensor<4>& W, const Tensor<1>& b, int stride = 1,
                                       int pad = 0) {
    const ConvSizes s = conv_sizes("conv2d_forward_im2col", x, W, stride, pad);
    check_shape("conv2d_forward_im2col", "b", b, {{"F", s.F}});
    return conv2d_forward_gemm(im2col(zero_pad(x, s.pad), s), W, b, s);
}

/// @brief Backward pass with im2col, with the signature of `conv2d_backward_naive`. It rebuilds the column
/// matrix from x; the layer `Conv2D` keeps the one of its forward pass instead.
inline ConvGrads conv2d_backward_im2col(const Tensor<4>& dout, const Tensor<4>& x, const Tensor<4>& W, int stride = 1,
                                        int pad = 0) {
    const ConvSizes s = conv_sizes("conv2d_backward_im2col", x, W, stride, pad);
    return conv2d_backward_gemm(dout, im2col(zero_pad(x, s.pad), s), W, s);
}

}  // namespace course
