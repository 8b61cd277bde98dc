/// @file tensor.hpp
/// @brief The course's scalar type `real`, the tensor alias `Tensor<N>` and shape helpers.
///
/// Shape letters used everywhere in the course (code, derivations and tests):
///
/// | letter | meaning                        |
/// |--------|--------------------------------|
/// | N      | batch size (number of samples) |
/// | C      | channels                       |
/// | H x W  | image height x width           |
/// | F      | filters (output channels)      |
/// | KH x KW| kernel height x width          |
/// | D      | input features                 |
/// | M      | output features                |
/// | K      | classes                        |
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace course {

/// @brief The one scalar type of the course.
///
/// Every build target chooses it at compile time, so the learner's code never needs a template:
/// the tests are built with `COURSE_REAL_FLOAT` undefined (double precision, which gradient checks
/// need) and the training program with `COURSE_REAL_FLOAT` defined (float, which is faster).
#if defined(COURSE_REAL_FLOAT)
using real = float;
#else
using real = double;
#endif

/// @brief A dense row-major tensor of `N` dimensions holding `real` numbers.
///
/// `Tensor<2>` is a matrix (N, D); `Tensor<4>` is a batch of images (N, C, H, W).
/// The rank is fixed at compile time: indexing with `x(n, c, h, w)` is then fast (docs/toolchain.md).
template <std::size_t Rank>
using Tensor = xt::xtensor<real, Rank>;

/// @brief Class labels of a batch, one per sample, each in [0, K) for K classes.
using Labels = std::vector<std::size_t>;

/// @brief A shape as a list of extents, for messages and for tensors whose rank is only known at run time.
using Shape = std::vector<std::size_t>;

/// @brief Writes a shape as `(2, 3, 4)`.
template <class Extents>
std::string shape_to_string(const Extents& extents) {
    std::ostringstream out;
    out << '(';
    bool first = true;
    for (auto e : extents) {
        out << (first ? "" : ", ") << e;
        first = false;
    }
    out << ')';
    return out.str();
}

/// @brief Writes a flat position inside a tensor of shape `shape` as a multi-index `(n, c, h, w)`.
inline std::string index_to_string(std::size_t flat, const Shape& shape) {
    Shape index(shape.size());
    for (std::size_t axis = shape.size(); axis-- > 0;) {
        index[axis] = flat % shape[axis];
        flat /= shape[axis];
    }
    return shape_to_string(index);
}

/// @brief The shape of any xtensor expression as a `Shape`.
template <class E>
Shape shape_of(const E& e) {
    return Shape(e.shape().begin(), e.shape().end());
}

}  // namespace course
