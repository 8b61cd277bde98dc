/// @file matmul.hpp
/// @brief `matmul`: the matrix product with its shapes checked first. xtensor's own `xt::linalg::dot` throws
/// only "Dot: shape mismatch." when the inner sizes differ, without the function, the operands or their shapes.
#pragma once

#include <string>
#include <string_view>

#include <xtensor-blas/xlinalg.hpp>

#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

/// @brief The matrix product \f$ a\,b \f$ of a (R, K) and a (K, C) matrix: shape (R, C).
///
/// @param a      the left operand, shape (R, K); any 2-D xtensor expression, for example a transposed view
/// @param b      the right operand, shape (K, C)
/// @param where  who multiplies what, for the message, for example "FullyConnected 'fc1' backward: dout W^T"
/// @throws ShapeError when an operand is not a matrix or the inner sizes differ. Message example:
/// @code{.txt}
/// FullyConnected 'fc1' backward: dout W^T: cannot multiply (4, 3) by (5, 2): the inner sizes 3 and 5 differ
/// @endcode
template <class A, class B>
Tensor<2> matmul(const A& a, const B& b, std::string_view where) {
    const std::string operands =
        std::string(where) + ": cannot multiply " + shape_to_string(a.shape()) + " by " + shape_to_string(b.shape());
    if (a.dimension() != 2 || b.dimension() != 2) throw ShapeError(operands + ": both must be matrices (2 axes)");
    if (a.shape()[1] != b.shape()[0]) {
        throw ShapeError(operands + ": the inner sizes " + std::to_string(a.shape()[1]) + " and " +
                         std::to_string(b.shape()[0]) + " differ");
    }
    return xt::linalg::dot(a, b);
}

}  // namespace course
