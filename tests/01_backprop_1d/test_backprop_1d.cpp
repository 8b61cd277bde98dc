// Chapter 1 tests: backpropagation by hand, scalar and batched.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <array>
#include <tuple>

#include "01_backprop_1d/backprop_1d.hpp"
#include "course/gradcheck.hpp"
#include "course/random.hpp"

using namespace course;

namespace {

// The worked example of README.md section 5: N = 2 samples, D = 2 features, M = 3 outputs.
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
        auto loss = [&] { return squared_loss(linear_scalar_forward(x, w, b), t); };
        const LinearScalarGrads g = scalar_graph_gradients(x, w, b, t);
        INFO("trial " << trial << ": x = " << x << ", w = " << w << ", b = " << b << ", t = " << t);
        CHECK(check_gradient("dL/dx", Tensor<1>{g.dx}, Tensor<1>{numerical_derivative(loss, x)}));
        CHECK(check_gradient("dL/dw", Tensor<1>{g.dw}, Tensor<1>{numerical_derivative(loss, w)}));
        CHECK(check_gradient("dL/db", Tensor<1>{g.db}, Tensor<1>{numerical_derivative(loss, b)}));
    }
}

TEST_CASE("linear_forward computes X W + b for the worked example", "[ch01]") {
    const WorkedExample ex;
    const Tensor<2> expected = {{-0.5, 2.0, 1.0}, {1.5, -1.0, -1.0}};
    CHECK(check_close("Y = X W + b", linear_forward(ex.X, ex.W, ex.b), expected));
    CHECK(squared_loss(linear_forward(ex.X, ex.W, ex.b), ex.T) == Catch::Approx(3.5));
}

TEST_CASE("the batched gradients reproduce the worked example of section 5", "[ch01]") {
    const WorkedExample ex;
    const Tensor<2> Y = linear_forward(ex.X, ex.W, ex.b);
    const Tensor<2> dY = squared_loss_backward(Y, ex.T);
    CHECK(check_close("dY", dY, Tensor<2>{{-1.0, 2.0, 0.0}, {1.0, -2.0, -2.0}}));
    const LinearGrads g = linear_backward(dY, ex.X, ex.W);
    CHECK(check_close("dW", g.dW, Tensor<2>{{-1.0, 2.0, 0.0}, {-3.0, 6.0, 2.0}}));
    CHECK(check_close("db", g.db, Tensor<1>{0.0, 0.0, -2.0}));
    CHECK(check_close("dX", g.dX, Tensor<2>{{-1.0, 3.0}, {-3.0, -3.0}}));
}

TEST_CASE("batched gradients match numerical gradients for several shapes", "[ch01]") {
    // (N, D, M): one sample; D != M so that a transposed dW cannot pass; square; larger batch
    const std::array<std::array<std::size_t, 3>, 5> shapes = {{{1, 1, 1}, {1, 3, 2}, {4, 3, 5}, {3, 4, 4}, {8, 6, 2}}};
    Rng rng(7);
    for (const auto& [N, D, M] : shapes) {
        INFO("N = " << N << ", D = " << D << ", M = " << M);
        Tensor<2> X = randn<2>({N, D}, rng);
        Tensor<2> W = randn<2>({D, M}, rng);
        Tensor<1> b = randn<1>({M}, rng);
        const Tensor<2> T = randn<2>({N, M}, rng);
        auto loss = [&] { return squared_loss(linear_forward(X, W, b), T); };

        const Tensor<2> dY = squared_loss_backward(linear_forward(X, W, b), T);
        const LinearGrads g = linear_backward(dY, X, W);
        CHECK(check_gradient("dX", g.dX, numerical_gradient(loss, X)));
        CHECK(check_gradient("dW", g.dW, numerical_gradient(loss, W)));
        CHECK(check_gradient("db", g.db, numerical_gradient(loss, b)));

        // The loss node on its own: dY against the numerical gradient of L with respect to Y.
        Tensor<2> Y = linear_forward(X, W, b);
        CHECK(check_gradient("dY", squared_loss_backward(Y, T), numerical_gradient([&] { return squared_loss(Y, T); }, Y)));
    }
}

TEST_CASE("shapes that do not fit give an error naming the function and both shapes", "[ch01][given]") {
    const Tensor<2> X = xt::ones<double>({2, 3});
    const Tensor<2> W = xt::ones<double>({4, 5});
    const Tensor<1> b = xt::ones<double>({5});
    CHECK_THROWS_AS(linear_forward(X, W, b), ShapeError);
    CHECK_THROWS_WITH(linear_forward(X, W, b), Catch::Matchers::ContainsSubstring("linear_forward: W has shape (4, 5) but must be (D=3, M)"));
    const Tensor<2> W_ok = xt::ones<double>({3, 5});
    const Tensor<1> b_bad = xt::ones<double>({4});
    CHECK_THROWS_WITH(linear_forward(X, W_ok, b_bad), Catch::Matchers::ContainsSubstring("b has shape (4) but must be (M=5)"));
    const Tensor<2> dY_bad = xt::ones<double>({3, 5});
    CHECK_THROWS_WITH(linear_backward(dY_bad, X, W_ok), Catch::Matchers::ContainsSubstring("dY has shape (3, 5) but must be (N=2, M=5)"));
    CHECK_THROWS_WITH(squared_loss_backward(X, W_ok), Catch::Matchers::ContainsSubstring("T has shape (3, 5) but must have the shape of Y, (2, 3)"));
}

TEST_CASE("an empty batch is refused by the batched linear node", "[ch01][given]") {
    const Tensor<2> X = xt::zeros<double>({0, 3});
    const Tensor<2> W = xt::ones<double>({3, 2});
    const Tensor<1> b = xt::ones<double>({2});
    CHECK_THROWS_AS(linear_forward(X, W, b), ShapeError);
    CHECK_THROWS_WITH(linear_forward(X, W, b),
                      "linear_forward: X has shape (0, 3) but must be (N>=1, D): a batch holds at least one sample");
    const Tensor<2> dY = xt::zeros<double>({0, 2});
    CHECK_THROWS_WITH(linear_backward(dY, X, W), Catch::Matchers::StartsWith("linear_backward: X has shape (0, 3) but must be (N>=1, D)"));
}
