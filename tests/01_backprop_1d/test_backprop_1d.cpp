// Chapter 1 tests: backpropagation by hand, scalar and batched.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <cstddef>

#include "01_backprop_1d/backprop_1d.hpp"
#include "course/gradcheck.hpp"
#include "course/random.hpp"
#include "support/layer_checks.hpp"

using namespace course;
using course_test::check_shape_error;

namespace {

// The worked example of README.md section 6: N = 2 samples, D = 2 features, M = 3 outputs.
struct WorkedExample {
    Tensor<2> X = {{1.0, 2.0}, {0.0, -1.0}};
    Tensor<2> W = {{1.0, 0.0, 2.0}, {-1.0, 1.0, 0.0}};
    Tensor<1> b = {0.5, 0.0, -1.0};
    Tensor<2> T = {{0.0, 1.0, 1.0}, {1.0, 0.0, 0.0}};
};

}  // namespace

TEST_CASE("the loss node gives dL/dy = 2 (y - t) at hand-computed points", "[ch01]") {
    CHECK(squared_loss_backward(7.0, 10.0) == Catch::Approx(-6.0));
    CHECK(squared_loss_backward(10.0, 10.0) == Catch::Approx(0.0).margin(1e-15));
    CHECK(squared_loss_backward(-1.5, 0.5) == Catch::Approx(-4.0));
}

TEST_CASE("the linear node multiplies dy by its local derivatives", "[ch01]") {
    // y = w x + b with x = 2 and w = 3: dy/dx = w = 3, dy/dw = x = 2, dy/db = 1
    const LinearScalarGrads g = linear_scalar_backward(-6.0, 2.0, 3.0);
    CHECK(g.dx == Catch::Approx(-18.0));
    CHECK(g.dw == Catch::Approx(-12.0));
    CHECK(g.db == Catch::Approx(-6.0));
}

TEST_CASE("the scalar graph reproduces the worked example of section 3", "[ch01]") {
    // x = 2, w = 3, b = 1, t = 10: y = 7, L = 9, dL/dy = -6, so dx = -18, dw = -12, db = -6
    const LinearScalarGrads g = scalar_graph_gradients(2.0, 3.0, 1.0, 10.0);
    CHECK(g.dx == Catch::Approx(-18.0));
    CHECK(g.dw == Catch::Approx(-12.0));
    CHECK(g.db == Catch::Approx(-6.0));
}

TEST_CASE("scalar gradients match central differences at random points", "[ch01]") {
    Rng rng(101);
    for (int trial = 0; trial < 20; ++trial) {
        double x = rng.uniform(-3, 3), w = rng.uniform(-3, 3), b = rng.uniform(-3, 3);
        const double t = rng.uniform(-3, 3);
        auto loss = [&] {
            return squared_loss(linear_scalar_forward(x, w, b), t);
        };
        const LinearScalarGrads g = scalar_graph_gradients(x, w, b, t);
        INFO("trial " << trial << ": x = " << x << ", w = " << w << ", b = " << b << ", t = " << t);
        CHECK(check_gradient("dL/dx", Tensor<1>{g.dx}, Tensor<1>{numerical_derivative(loss, x)}));
        CHECK(check_gradient("dL/dw", Tensor<1>{g.dw}, Tensor<1>{numerical_derivative(loss, w)}));
        CHECK(check_gradient("dL/db", Tensor<1>{g.db}, Tensor<1>{numerical_derivative(loss, b)}));
    }
}

TEST_CASE("the graph with a fork reproduces the worked example of section 4", "[ch01]") {
    // x = 4, w = 3, b = -5, t = 25: y = 7, z = 21, L = 16, dz = -8. Along the edge into the multiply node,
    // dz * y = -56; along the edge into the linear node, dy * x = (dz * w) * x = -96. They add: -152.
    // No value hides a mistake: forgetting one edge gives -56 or -96, subtracting gives 40, x in place of
    // y gives -32 for the multiply node, and without the factor 2 every gradient is half as large.
    CHECK(shared_weight_loss(4.0, 3.0, -5.0, 25.0) == Catch::Approx(16.0));
    const SharedWeightGrads g = shared_weight_gradients(4.0, 3.0, -5.0, 25.0);
    CHECK(g.dw_multiply == Catch::Approx(-56.0));
    CHECK(g.dw_linear == Catch::Approx(-96.0));
    CHECK(g.dw == Catch::Approx(-152.0));
    CHECK(g.dx == Catch::Approx(-72.0));
    CHECK(g.db == Catch::Approx(-24.0));
}

TEST_CASE("a weight used twice gets the sum of the gradients of its two uses", "[ch01]") {
    // Untie the weight: the linear node uses w1 and the multiply node w2. The numerical gradient with respect
    // to w1 is the part of dw along the edge into the linear node; the one with respect to w2 is the part
    // along the edge into the multiply node. With w1 = w2 = w the graph is the original one, and dw is the
    // sum of the two parts.
    Rng rng(202);
    for (int trial = 0; trial < 20; ++trial) {
        double x = rng.uniform(-3, 3), w = rng.uniform(-3, 3), b = rng.uniform(-3, 3);
        const double t = rng.uniform(-3, 3);
        double w1 = w, w2 = w;
        auto untied_loss = [&] {
            return squared_loss(w2 * linear_scalar_forward(x, w1, b), t);
        };
        auto loss = [&] {
            return shared_weight_loss(x, w, b, t);
        };
        const SharedWeightGrads g = shared_weight_gradients(x, w, b, t);
        INFO("trial " << trial << ": x = " << x << ", w = " << w << ", b = " << b << ", t = " << t);
        CHECK(check_gradient("dw_linear (the edge into the linear node)", Tensor<1>{g.dw_linear},
                             Tensor<1>{numerical_derivative(untied_loss, w1)}));
        CHECK(check_gradient("dw_multiply (the edge into the multiply node)", Tensor<1>{g.dw_multiply},
                             Tensor<1>{numerical_derivative(untied_loss, w2)}));
        CHECK(check_gradient("dL/dw", Tensor<1>{g.dw}, Tensor<1>{numerical_derivative(loss, w)}));
        CHECK(check_gradient("dL/dx", Tensor<1>{g.dx}, Tensor<1>{numerical_derivative(loss, x)}));
        CHECK(check_gradient("dL/db", Tensor<1>{g.db}, Tensor<1>{numerical_derivative(loss, b)}));
    }
}

TEST_CASE("linear_forward computes X W + b for the worked example", "[ch01]") {
    const WorkedExample ex;
    const Tensor<2> expected = {{-0.5, 2.0, 1.0}, {1.5, -1.0, -1.0}};
    CHECK(check_close("Y = X W + b", linear_forward(ex.X, ex.W, ex.b), expected));
    CHECK(squared_loss(linear_forward(ex.X, ex.W, ex.b), ex.T) == Catch::Approx(3.5));
}

TEST_CASE("the batched gradients reproduce the worked example of section 6", "[ch01]") {
    const WorkedExample ex;
    const Tensor<2> Y = linear_forward(ex.X, ex.W, ex.b);
    const Tensor<2> dY = squared_loss_backward(Y, ex.T);
    CHECK(check_close("dY", dY, Tensor<2>{{-1.0, 2.0, 0.0}, {1.0, -2.0, -2.0}}));
    const LinearGrads g = linear_backward(dY, ex.X, ex.W);
    CHECK(check_close("dW", g.dW, Tensor<2>{{-1.0, 2.0, 0.0}, {-3.0, 6.0, 2.0}}));
    CHECK(check_close("db", g.db, Tensor<1>{0.0, 0.0, -2.0}));
    CHECK(check_close("dX", g.dX, Tensor<2>{{-1.0, 3.0}, {-3.0, -3.0}}));
}

TEST_CASE("the batched node with N = 3, D = 4 and M = 2 matches the index formulas", "[ch01]") {
    // No two of N, D and M are equal, so a transposed result cannot have the right shape, and N = 3 tells a
    // sum over the batch from a mean (with N = 2, a gradient divided by N equals one that forgot the factor 2).
    // The largest numbers are in the last row and column: a loop that stops one short misses them. Two calls
    // with different dY: each result is that of its own dY.
    const Tensor<2> X = {{1.0, 0.0, -2.0, 3.0}, {2.0, -1.0, 1.0, 0.5}, {-1.0, 2.0, 0.5, 9.0}};
    const Tensor<2> W = {{1.0, -2.0}, {0.5, 0.0}, {-1.0, 3.0}, {2.0, 7.0}};
    const Tensor<1> b = {0.5, -4.0};
    const Tensor<2> T = {{1.0, 2.0}, {-1.0, 0.0}, {3.0, 8.0}};
    const std::size_t N = 3, D = 4, M = 2;

    const Tensor<2> Y = linear_forward(X, W, b);
    Tensor<2> Y_want = xt::zeros<double>({N, M});
    Tensor<2> dY_want = xt::zeros<double>({N, M});
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t m = 0; m < M; ++m) {
            Y_want(n, m) = b(m);
            for (std::size_t d = 0; d < D; ++d) Y_want(n, m) += X(n, d) * W(d, m);
            dY_want(n, m) = 2 * (Y_want(n, m) - T(n, m));  // the loss is a sum, not a mean: no 1 / N
        }
    }
    CHECK(check_close("Y = X W + b", Y, Y_want));
    CHECK(check_close("dY = 2 (Y - T), not divided by N", squared_loss_backward(Y, T), dY_want));

    const Tensor<2> dY_second = {{-2.0, 1.0}, {0.5, 3.0}, {1.0, -5.0}};
    for (const int call : {1, 2}) {
        const Tensor<2>& dY = call == 1 ? dY_want : dY_second;
        Tensor<2> dX_want = xt::zeros<double>({N, D});
        Tensor<2> dW_want = xt::zeros<double>({D, M});
        Tensor<1> db_want = xt::zeros<double>({M});
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t m = 0; m < M; ++m) {
                db_want(m) += dY(n, m);  // db_m = sum_n dY_nm
                for (std::size_t d = 0; d < D; ++d) {
                    dW_want(d, m) += X(n, d) * dY(n, m);  // dW_dm = sum_n X_nd dY_nm
                    dX_want(n, d) += dY(n, m) * W(d, m);  // dX_nd = sum_m dY_nm W_dm
                }
            }
        }
        INFO("call " << call << " of linear_backward, each with another dY");
        const LinearGrads g = linear_backward(dY, X, W);
        CHECK(check_close("dX = dY W^T", g.dX, dX_want));
        CHECK(check_close("dW = X^T dY", g.dW, dW_want));
        CHECK(check_close("db = sum over the batch of dY (not the mean)", g.db, db_want));
    }
}

TEST_CASE("batched gradients match numerical gradients for several shapes", "[ch01]") {
    // (N, D, M): one sample; D != M so that a transposed dW cannot pass; square; larger batch
    const auto [N, D, M] = GENERATE(table<std::size_t, std::size_t, std::size_t>({
        {1, 1, 1},
        {1, 3, 2},
        {4, 3, 5},
        {3, 4, 4},
        {8, 6, 2},
    }));
    INFO("N = " << N << ", D = " << D << ", M = " << M);
    Rng rng(7);
    Tensor<2> X = randn<2>({N, D}, rng);
    Tensor<2> W = randn<2>({D, M}, rng);
    Tensor<1> b = randn<1>({M}, rng);
    const Tensor<2> T = randn<2>({N, M}, rng);
    auto loss = [&] {
        return squared_loss(linear_forward(X, W, b), T);
    };

    const Tensor<2> dY = squared_loss_backward(linear_forward(X, W, b), T);
    const LinearGrads g = linear_backward(dY, X, W);
    CHECK(check_gradient("dX", g.dX, numerical_gradient(loss, X)));
    CHECK(check_gradient("dW", g.dW, numerical_gradient(loss, W)));
    CHECK(check_gradient("db", g.db, numerical_gradient(loss, b)));

    // The loss node on its own: dY against the numerical gradient of L with respect to Y.
    Tensor<2> Y = linear_forward(X, W, b);
    CHECK(check_gradient("dY", squared_loss_backward(Y, T), numerical_gradient([&] { return squared_loss(Y, T); }, Y)));
}

TEST_CASE("shapes that do not fit give an error naming the function and both shapes", "[ch01][given]") {
    using Catch::Matchers::ContainsSubstring;
    const Tensor<2> X = xt::ones<double>({2, 3});
    const Tensor<2> W_ok = xt::ones<double>({3, 5});
    SECTION("a W whose rows are not the features of X") {
        const Tensor<2> W = xt::ones<double>({4, 5});
        const Tensor<1> b = xt::ones<double>({5});
        check_shape_error([&] { return linear_forward(X, W, b); },
                          ContainsSubstring("linear_forward: W has shape (4, 5) but must be (D=3, M)"));
    }
    SECTION("a b that is not one bias per output") {
        const Tensor<1> b_bad = xt::ones<double>({4});
        check_shape_error([&] { return linear_forward(X, W_ok, b_bad); },
                          ContainsSubstring("b has shape (4) but must be (M=5)"));
    }
    SECTION("a dY that is not one row per sample and one column per output") {
        const Tensor<2> dY_bad = xt::ones<double>({3, 5});
        check_shape_error([&] { return linear_backward(dY_bad, X, W_ok); },
                          ContainsSubstring("dY has shape (3, 5) but must be (N=2, M=5)"));
    }
    SECTION("targets T of another shape than Y") {
        check_shape_error([&] { return squared_loss_backward(X, W_ok); },
                          ContainsSubstring("T has shape (3, 5) but must have the shape of Y, (2, 3)"));
    }
}

TEST_CASE("an empty batch is refused by the batched linear node", "[ch01][given]") {
    const Tensor<2> X = xt::zeros<double>({0, 3});
    const Tensor<2> W = xt::ones<double>({3, 2});
    const Tensor<1> b = xt::ones<double>({2});
    check_shape_error([&] { return linear_forward(X, W, b); },
                      "linear_forward: X has shape (0, 3) but must be (N>=1, D): a batch holds at least one sample");
    const Tensor<2> dY = xt::zeros<double>({0, 2});
    check_shape_error([&] { return linear_backward(dY, X, W); },
                      Catch::Matchers::StartsWith("linear_backward: X has shape (0, 3) but must be (N>=1, D)"));
}
