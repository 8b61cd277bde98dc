/// @file correlate2d.hpp
/// @brief The plain 2-D convolution the learner wrote in the earlier module: one image, one channel, one
/// kernel, no stride, no padding. Given here in a tested form; chapter 5 starts from it.
///
/// What deep learning calls a "convolution" is, in the language of signal processing, a **correlation**:
/// the kernel is laid on the image as it is, not flipped. This function computes exactly that:
///
/// \f[ out_{i,j} = \sum_{p=0}^{KH-1} \sum_{q=0}^{KW-1} image_{i+p,\,j+q}\; kernel_{p,q} \f]
///
/// for every position where the kernel fits completely inside the image ("valid"), so the output has
/// (H - KH + 1) x (W - KW + 1) elements. Indices start at 0.
///
/// @code
/// const Tensor<2> image = {{1, 2, 0}, {0, 1, 3}, {2, 0, 1}};
/// const Tensor<2> kernel = {{1, 2}, {-1, 3}};
/// const Tensor<2> out = correlate2d_valid(image, kernel);   // {{8, 10}, {0, 10}}
/// @endcode
#pragma once

#include <cstddef>
#include <string>

#include <xtensor/xtensor.hpp>

#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

/// @brief The "valid" 2-D correlation of one image with one kernel.
///
/// @param image   shape (H, W)
/// @param kernel  shape (KH, KW), at least 1 x 1 and no larger than the image in either direction
/// @return        out, shape (H - KH + 1, W - KW + 1), with
///                \f$ out_{i,j} = \sum_{p,q} image_{i+p,\,j+q}\, kernel_{p,q} \f$
/// @throws ShapeError when the kernel is empty or does not fit inside the image
inline Tensor<2> correlate2d_valid(const Tensor<2>& image, const Tensor<2>& kernel) {
    const std::size_t H = image.shape(0), W = image.shape(1);
    const std::size_t KH = kernel.shape(0), KW = kernel.shape(1);
    if (KH == 0 || KW == 0 || KH > H || KW > W) {
        throw ShapeError("correlate2d_valid: kernel has shape " + shape_to_string(kernel.shape()) +
                         " but must be at least (1, 1) and fit inside the image, shape " +
                         shape_to_string(image.shape()));
    }
    Tensor<2> out = xt::zeros<real>({H - KH + 1, W - KW + 1});
    for (std::size_t i = 0; i < H - KH + 1; ++i) {
        for (std::size_t j = 0; j < W - KW + 1; ++j) {
            real sum = 0;
            for (std::size_t p = 0; p < KH; ++p) {
                for (std::size_t q = 0; q < KW; ++q) sum += image(i + p, j + q) * kernel(p, q);
            }
            out(i, j) = sum;
        }
    }
    return out;
}

}  // namespace course
