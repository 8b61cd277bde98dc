/// @file softmax_cross_entropy.hpp
/// @brief Chapter 4: the softmax of a batch of class scores, and the cross-entropy loss with its gradient,
/// both numerically stable.
///
/// Shape letters: N samples, K classes. `scores` (N, K) are the raw outputs of the last layer, one row per
/// sample (often called logits); `y` holds one label per sample, each in [0, K).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>

#include <xtensor/xtensor.hpp>

#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

/// @brief Throws `ShapeError` when `scores` has no classes (K = 0): no softmax or loss exists then.
///
/// @param where   the function that checks, for the message, for example "softmax"
/// @param scores  class scores, shape (N, K)
inline void check_scores(std::string_view where, const Tensor<2>& scores) {
    if (scores.shape(1) == 0) {
        throw ShapeError(std::string(where) + ": scores has shape " + shape_to_string(scores.shape()) +
                         " but must have at least one class (N, K >= 1)");
    }
}

/// @brief Throws unless `y` holds exactly one label per row of `scores`, each in [0, K), and the batch is
/// not empty.
///
/// @param where   the function that checks, for the message, for example "cross_entropy_loss"
/// @param scores  class scores, shape (N, K)
/// @param y       labels, N of them
/// @throws ShapeError when y.size() != N; ArgumentError when N = 0 or a label is K or more. The message
///         names the function, the sample and the bad label, for example
///         `cross_entropy_loss: label y[1] = 7 is out of range for K = 3 classes (labels must be in [0, 3))`
inline void check_labels(std::string_view where, const Tensor<2>& scores, const Labels& y) {
    const std::size_t N = scores.shape(0), K = scores.shape(1);
    if (y.size() != N) {
        throw ShapeError(std::string(where) + ": y has " + std::to_string(y.size()) +
                         " labels but scores has N = " + std::to_string(N) + " rows (one label per sample)");
    }
    if (N == 0) {
        throw ArgumentError(std::string(where) + ": the batch is empty (N = 0), so the mean loss is undefined");
    }
    for (std::size_t n = 0; n < N; ++n) {
        if (y[n] >= K) {
            throw ArgumentError(std::string(where) + ": label y[" + std::to_string(n) + "] = " + std::to_string(y[n]) +
                                " is out of range for K = " + std::to_string(K) + " classes (labels must be in [0, " +
                                std::to_string(K) + "))");
        }
    }
}

// [softmax]
/// @brief The softmax of every row: \f$ p_{nk} = e^{z_{nk}} / \sum_j e^{z_{nj}} \f$, computed with the row
/// maximum subtracted first, so that no `exp` overflows.
///
/// @param scores  class scores z, shape (N, K), any finite values (also 1000 or -1000)
/// @return        probabilities p, shape (N, K): every element in [0, 1], every row sums to 1
/// @throws ShapeError when K = 0
inline Tensor<2> softmax(const Tensor<2>& scores) {
    check_scores("softmax", scores);
    // TODO(ch04) begin: softmax -- read README.md section 2
    course::todo("ch04", "softmax", "read README.md section 2");
    // TODO(ch04) end
}
// [softmax]

/// @brief What `cross_entropy_loss` returns: the loss of the batch and its gradient.
struct LossAndGradient {
    real loss = 0;      ///< \f$ L = \frac{1}{N} \sum_n -\log p_{n, y_n} \f$, the mean over the batch
    Tensor<2> dscores;  ///< \f$ \partial L / \partial z \f$, shape (N, K)
};

// [cross_entropy_loss]
/// @brief The mean cross-entropy loss of a batch and its gradient with respect to the scores.
///
/// \f$ L = \frac{1}{N} \sum_n \left( \log \sum_k e^{z_{nk}} - z_{n, y_n} \right) \f$, with the log-sum-exp
/// computed stably (row maximum first), and
/// \f$ \partial L / \partial z_{nk} = (p_{nk} - [k = y_n]) / N \f$.
///
/// This is the network's loss layer: it starts every backward pass.
///
/// @param scores  class scores z, shape (N, K), any finite values
/// @param y       labels, N of them, each in [0, K)
/// @return        the loss (finite for any finite scores) and dscores, shape (N, K)
/// @throws ShapeError when y.size() != N or K = 0; ArgumentError when a label is K or more, or N = 0
inline LossAndGradient cross_entropy_loss(const Tensor<2>& scores, const Labels& y) {
    check_scores("cross_entropy_loss", scores);
    check_labels("cross_entropy_loss", scores, y);
    // TODO(ch04) begin: cross_entropy_loss -- read README.md section 4
    course::todo("ch04", "cross_entropy_loss", "read README.md section 4");
    // TODO(ch04) end
}
// [cross_entropy_loss]

}  // namespace course
