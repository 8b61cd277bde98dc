/// @file backprop_1d.hpp
/// @brief Chapter 1: backpropagation by hand. First the scalar graph y = w x + b, L = (y - t)^2; then a
/// graph with a fork, where one weight w is used by two nodes; then the first graph for a whole batch,
/// Y = X W + b.
///
/// Each node of the graph has a forward function (inputs to output) and a backward function (the
/// gradient of the loss with respect to the output, `dy`, to the gradients with respect to the inputs).
/// The backward functions are the exercises; `scalar_graph_gradients()` shows how they chain.
///
/// Shape letters: N samples, D input features, M output features.
#pragma once

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>

#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

// ---------------------------------------------------------------------------------------------------
// Part 1: one sample, one feature. The graph is  x, w, b --(linear)--> y --(squared loss with t)--> L
// ---------------------------------------------------------------------------------------------------

/// @brief Forward pass of the linear node: \f$ y = w x + b \f$.
inline real linear_scalar_forward(real x, real w, real b) {
    return w * x + b;
}

/// @brief Forward pass of the loss node: \f$ L = (y - t)^2 \f$, where t is the target.
inline real squared_loss(real y, real t) {
    return (y - t) * (y - t);
}

/// @brief Backward pass of the loss node: \f$ \partial L / \partial y \f$ for \f$ L = (y - t)^2 \f$.
///
/// @param y  the prediction the forward pass produced
/// @param t  the target
/// @return   dy, the gradient of L with respect to y
inline real squared_loss_backward(real y, real t) {
    // TODO(ch01) begin: squared_loss_backward -- read README.md section 3
    // forward was: L = (y - t)^2, so dL/dy = 2 (y - t)
    return 2 * (y - t);
    // TODO(ch01) end
}

/// @brief The gradients of the loss with respect to the three inputs of the linear node.
struct LinearScalarGrads {
    real dx;  ///< \f$ \partial L / \partial x \f$
    real dw;  ///< \f$ \partial L / \partial w \f$
    real db;  ///< \f$ \partial L / \partial b \f$
};

/// @brief Backward pass of the linear node \f$ y = w x + b \f$: upstream gradient times local derivative.
///
/// @param dy  the upstream gradient \f$ \partial L / \partial y \f$
/// @param x   the input the forward pass saw
/// @param w   the weight the forward pass saw
/// @return    dx, dw and db by the chain rule
inline LinearScalarGrads linear_scalar_backward(real dy, real x, real w) {
    // TODO(ch01) begin: linear_scalar_backward -- read README.md section 3
    // forward was: y = w * x + b; the local derivatives are dy/dx = w, dy/dw = x, dy/db = 1
    return LinearScalarGrads{dy * w, dy * x, dy};
    // TODO(ch01) end
}

/// @brief The whole scalar graph, forward and backward: what every later chapter does for bigger nodes.
///
/// @return the gradients of \f$ L = (w x + b - t)^2 \f$ with respect to x, w and b
inline LinearScalarGrads scalar_graph_gradients(real x, real w, real b, real t) {
    const real y = linear_scalar_forward(x, w, b);  // forward, from the input to the loss
    const real dy = squared_loss_backward(y, t);    // backward starts at the loss ...
    return linear_scalar_backward(dy, x, w);        // ... and flows back to every input
}

// ---------------------------------------------------------------------------------------------------
// Part 2: a fork. The weight w is used twice: by the linear node y = w x + b and by the multiply node z = w y;
// L = (z - t)^2. The value w has two outgoing edges, so two gradients come back to it, and they add.
// ---------------------------------------------------------------------------------------------------

/// @brief Forward pass of the whole graph with a fork: \f$ L = (w\,(w x + b) - t)^2 \f$.
///
/// @return the loss L, for the numerical gradient check
inline real shared_weight_loss(real x, real w, real b, real t) {
    const real y = linear_scalar_forward(x, w, b);  // the linear node
    const real z = w * y;                           // the multiply node
    return squared_loss(z, t);
}

/// @brief The gradients of the graph with a fork, and the two parts of dw that meet at the fork.
struct SharedWeightGrads {
    real dx;           ///< \f$ \partial L / \partial x \f$
    real dw;           ///< \f$ \partial L / \partial w \f$: the sum of the two parts below
    real db;           ///< \f$ \partial L / \partial b \f$
    real dw_linear;    ///< the part of dw along the edge from w into the linear node: dy * x
    real dw_multiply;  ///< the part of dw along the edge from w into the multiply node: dz * y
};

/// @brief Forward and backward pass of the graph y = w x + b, z = w y, L = (z - t)^2.
///
/// Backward visits the nodes in the reverse of the forward order: loss, multiply, linear. Each node
/// returns its own gradients; the caller adds the two gradients of w, because w feeds both nodes.
///
/// @param x  the input
/// @param w  the weight, used by the linear node and by the multiply node
/// @param b  the bias of the linear node
/// @param t  the target
/// @return   dx, dw and db, and the two parts dw_linear and dw_multiply with dw = dw_linear + dw_multiply
inline SharedWeightGrads shared_weight_gradients(real x, real w, real b, real t) {
    // TODO(ch01) begin: shared_weight_gradients -- read README.md section 4
    // forward, node by node; keep y, because the multiply node's backward needs it
    const real y = linear_scalar_forward(x, w, b);  // linear node: y = w x + b
    const real z = w * y;                           // multiply node: z = w y
    // backward, in the reverse order: the loss, then the multiply node, then the linear node
    const real dz = squared_loss_backward(z, t);
    SharedWeightGrads grads{};
    grads.dw_multiply = dz * y;  // forward was z = w * y: dz/dw = y (its input, not x) ...
    const real dy = dz * w;      // ... and dz/dy = w
    const LinearScalarGrads g = linear_scalar_backward(dy, x, w);  // the linear node, upstream gradient dy
    grads.dx = g.dx;
    grads.db = g.db;
    grads.dw_linear = g.dw;
    grads.dw = grads.dw_linear + grads.dw_multiply;  // the fork: w feeds both nodes, so the two gradients add
    return grads;
    // TODO(ch01) end
}

// ---------------------------------------------------------------------------------------------------
// Part 3: a batch. X (N, D), W (D, M), b (M), targets T (N, M); Y = X W + b; L = sum of (Y - T)^2
// ---------------------------------------------------------------------------------------------------

/// @brief Forward pass of the batched linear node: \f$ Y_{nm} = \sum_d X_{nd} W_{dm} + b_m \f$.
///
/// @param X  inputs, shape (N, D): one sample per row
/// @param W  weights, shape (D, M)
/// @param b  bias, shape (M): the same bias is added to every row
/// @return   Y, shape (N, M)
/// @throws ShapeError when the shapes do not fit together, or X holds no sample (N = 0)
inline Tensor<2> linear_forward(const Tensor<2>& X, const Tensor<2>& W, const Tensor<1>& b) {
    check_batch("linear_forward", "X", X, {{"N"}, {"D"}});
    check_shape("linear_forward", "W", W, {{"D", X.shape(1)}, {"M"}});
    check_shape("linear_forward", "b", b, {{"M", W.shape(1)}});
    // TODO(ch01) begin: linear_forward -- read README.md section 5
    // xt::linalg::dot is the matrix product; adding b (M) to an (N, M) matrix adds it to every row
    return xt::linalg::dot(X, W) + b;
    // TODO(ch01) end
}

/// @brief The batched squared loss: \f$ L = \sum_{n,m} (Y_{nm} - T_{nm})^2 \f$.
///
/// @param Y  predictions, shape (N, M)
/// @param T  targets, shape (N, M)
inline real squared_loss(const Tensor<2>& Y, const Tensor<2>& T) {
    check_same_shape("squared_loss", "T", T, "Y", Y);
    real loss = 0;
    for (std::size_t i = 0; i < Y.size(); ++i) {
        const real e = Y.data()[i] - T.data()[i];
        loss += e * e;
    }
    return loss;
}

/// @brief Backward pass of the batched squared loss: \f$ dY_{nm} = \partial L / \partial Y_{nm} \f$.
///
/// @param Y  predictions, shape (N, M)
/// @param T  targets, shape (N, M)
/// @return   dY, shape (N, M)
inline Tensor<2> squared_loss_backward(const Tensor<2>& Y, const Tensor<2>& T) {
    check_same_shape("squared_loss_backward", "T", T, "Y", Y);
    // TODO(ch01) begin: squared_loss_backward (batch) -- read README.md section 5
    // each Y_nm appears in exactly one term of the sum, so dL/dY_nm = 2 (Y_nm - T_nm)
    return 2 * (Y - T);
    // TODO(ch01) end
}

/// @brief The gradients of the loss with respect to the inputs of the batched linear node.
struct LinearGrads {
    Tensor<2> dX;  ///< shape (N, D): \f$ \partial L / \partial X \f$
    Tensor<2> dW;  ///< shape (D, M): \f$ \partial L / \partial W \f$
    Tensor<1> db;  ///< shape (M):    \f$ \partial L / \partial b \f$
};

// [linear_backward] (the book shows the lines between these markers: book/README.md, snippets)
/// @brief Backward pass of the batched linear node \f$ Y = X W + b \f$.
///
/// @param dY  upstream gradient \f$ \partial L / \partial Y \f$, shape (N, M)
/// @param X   the inputs the forward pass saw, shape (N, D)
/// @param W   the weights the forward pass saw, shape (D, M)
/// @return    dX (N, D), dW (D, M) and db (M)
/// @throws ShapeError when the shapes do not fit together, or X holds no sample (N = 0)
inline LinearGrads linear_backward(const Tensor<2>& dY, const Tensor<2>& X, const Tensor<2>& W) {
    check_batch("linear_backward", "X", X, {{"N"}, {"D"}});
    check_shape("linear_backward", "W", W, {{"D", X.shape(1)}, {"M"}});
    check_shape("linear_backward", "dY", dY, {{"N", X.shape(0)}, {"M", W.shape(1)}});
    // TODO(ch01) begin: linear_backward -- read README.md section 5
    // forward was: Y_nm = sum_d X_nd W_dm + b_m
    //   dW_dm = sum_n X_nd dY_nm   -> X^T dY
    //   db_m  = sum_n dY_nm        -> b was added to every row, so its gradient sums over the rows
    //   dX_nd = sum_m dY_nm W_dm   -> dY W^T
    LinearGrads grads;
    grads.dW = xt::linalg::dot(xt::transpose(X), dY);
    grads.db = xt::sum(dY, {0});
    grads.dX = xt::linalg::dot(dY, xt::transpose(W));
    return grads;
    // TODO(ch01) end
}
// [linear_backward]

}  // namespace course
