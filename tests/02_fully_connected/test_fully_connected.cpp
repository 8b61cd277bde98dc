// Chapter 2 tests: the fully connected layer.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <array>
#include <cmath>

#include "02_fully_connected/fully_connected.hpp"
#include "course/gradcheck.hpp"
#include "course/layer_check.hpp"
#include "course/random.hpp"

using namespace course;

namespace {

// The worked example of README.md section 4: N = 2 samples, D = 3 inputs, M = 2 outputs.
FullyConnected worked_example_layer() {
    Rng rng(0);
    FullyConnected fc(3, 2, rng, "fc");
    fc.W = Tensor<2>{{1.0, -1.0}, {0.0, 2.0}, {3.0, 1.0}};
    fc.b = Tensor<1>{0.5, -0.5};
    return fc;
}
const Tensor<2> worked_x = {{1.0, 2.0, 0.0}, {-1.0, 0.0, 1.0}};
const Tensor<2> worked_dout = {{1.0, -1.0}, {2.0, 0.5}};

}  // namespace

TEST_CASE("forward computes x W + b for the worked example", "[ch02]") {
    FullyConnected fc = worked_example_layer();
    CHECK(check_close("out", fc.forward(worked_x), Tensor<2>{{1.5, 2.5}, {2.5, 1.5}}));
}

TEST_CASE("backward reproduces the worked example by hand", "[ch02]") {
    FullyConnected fc = worked_example_layer();
    fc.forward(worked_x);
    const Tensor<2> dx = fc.backward(worked_dout);
    CHECK(check_close("dW", fc.dW, Tensor<2>{{-1.0, -1.5}, {2.0, -2.0}, {2.0, 0.5}}));
    CHECK(check_close("db (summed over the batch)", fc.db, Tensor<1>{3.0, -0.5}));
    CHECK(check_close("dx", dx, Tensor<2>{{2.0, -2.0, 2.0}, {1.5, 1.0, 6.5}}));
}

TEST_CASE("dx dW and db match numerical gradients for several shapes", "[ch02]") {
    // (N, D, M): one sample; D != M in both directions; a square layer; a larger batch
    const std::array<std::array<std::size_t, 3>, 6> shapes = {
        {{1, 3, 2}, {1, 1, 1}, {4, 5, 3}, {3, 2, 6}, {5, 4, 4}, {16, 10, 7}}};
    Rng rng(2);
    for (const auto& [N, D, M] : shapes) {
        INFO("N = " << N << ", D = " << D << ", M = " << M);
        FullyConnected fc(D, M, rng, "fc");
        fc.b = randn<1>({M}, rng);  // a bias of 0 would hide a db that is not summed
        Tensor<2> x = randn<2>({N, D}, rng);
        const Tensor<2> dout = randn<2>({N, M}, rng);  // a random upstream gradient

        fc.forward(x);
        const Tensor<2> dx = fc.backward(dout);
        const Tensor<2> dW = fc.dW;  // copies: the numerical checks below run forward again
        const Tensor<1> db = fc.db;

        auto forward = [&] { return fc.forward(x); };
        CHECK(check_gradient("dx", dx, numerical_gradient(forward, x, dout)));
        CHECK(check_gradient("dW", dW, numerical_gradient(forward, fc.W, dout)));
        CHECK(check_gradient("db", db, numerical_gradient(forward, fc.b, dout)));
    }
}

TEST_CASE("check_layer_gradients agrees on every parameter the layer lists", "[ch02]") {
    Rng rng(3);
    FullyConnected fc(6, 4, rng, "fc1");
    fc.b = randn<1>({4}, rng);
    Tensor<2> x = randn<2>({5, 6}, rng);
    const Tensor<2> dout = randn<2>({5, 4}, rng);
    for (const Comparison& c : check_layer_gradients(fc, x, dout)) CHECK(c);
}

TEST_CASE("backward overwrites the gradients instead of adding to them", "[ch02]") {
    FullyConnected fc = worked_example_layer();
    fc.forward(worked_x);
    fc.backward(worked_dout);
    const Tensor<2> first = fc.dW;
    fc.backward(worked_dout);  // the same batch again: the same gradient, not twice it
    CHECK(check_close("dW after a second backward", fc.dW, first));
}

TEST_CASE("backward uses the input of the latest forward", "[ch02]") {
    FullyConnected fc = worked_example_layer();
    fc.forward(xt::ones<double>({2, 3}));
    fc.forward(worked_x);  // the cache must now hold worked_x
    fc.backward(worked_dout);
    CHECK(check_close("dW", fc.dW, Tensor<2>{{-1.0, -1.5}, {2.0, -2.0}, {2.0, 0.5}}));
}

TEST_CASE("forward leaves its input unchanged", "[ch02]") {
    FullyConnected fc = worked_example_layer();
    const Tensor<2> x = worked_x;
    fc.forward(x);
    CHECK(check_close("x after forward", x, worked_x, 0.0, 0.0));
}

TEST_CASE("a dout of the wrong shape names the layer and both shapes", "[ch02]") {
    FullyConnected fc = worked_example_layer();
    fc.forward(worked_x);
    const Tensor<2> dout_bad = xt::ones<double>({2, 3});
    CHECK_THROWS_AS(fc.backward(dout_bad), ShapeError);
    CHECK_THROWS_WITH(fc.backward(dout_bad),
                      "FullyConnected 'fc' backward: dout has shape (2, 3) but must be (N=2, M=2)");
}

TEST_CASE("an input of the wrong shape names the layer and both shapes", "[ch02][given]") {
    Rng rng(4);
    FullyConnected fc(3, 2, rng, "fc1");
    const Tensor<2> x_bad = xt::ones<double>({4, 5});
    CHECK_THROWS_AS(fc.forward(x_bad), ShapeError);
    CHECK_THROWS_WITH(fc.forward(x_bad), "FullyConnected 'fc1' forward: x has shape (4, 5) but must be (N, D=3)");
}

TEST_CASE("backward before forward is a clear error", "[ch02][given]") {
    Rng rng(5);
    FullyConnected fc(3, 2, rng, "fc1");
    CHECK_THROWS_AS(fc.backward(xt::ones<double>({1, 2})), ArgumentError);
    CHECK_THROWS_WITH(fc.backward(xt::ones<double>({1, 2})),
                      Catch::Matchers::StartsWith("FullyConnected 'fc1' backward: backward was called before forward"));
}

TEST_CASE("params_and_grads names W and b and shares their memory", "[ch02][given]") {
    Rng rng(6);
    FullyConnected fc(3, 2, rng, "fc1");
    std::vector<ParamRef> params = fc.params_and_grads();
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "fc1.W");
    CHECK(params[0].shape == Shape{3, 2});
    CHECK(params[1].name == "fc1.b");
    CHECK(params[1].shape == Shape{2});
    params[0].value[5] = 42.0;  // the last element of W, (2, 1)
    CHECK(fc.W(2, 1) == 42.0);
    CHECK(params[0].grad.data() == fc.dW.data());
    CHECK(params[1].grad.data() == fc.db.data());
}

TEST_CASE("weights start with standard deviation sqrt(2 / D) and a zero bias", "[ch02][given]") {
    Rng rng(7);
    const std::size_t D = 400, M = 300;
    FullyConnected fc(D, M, rng);
    const double mean = xt::mean(fc.W)();
    const double stddev = xt::stddev(fc.W)();
    CHECK(std::abs(mean) < 0.01 * std::sqrt(2.0 / D) * 10);
    CHECK(stddev == Catch::Approx(std::sqrt(2.0 / D)).epsilon(0.02));
    CHECK(xt::amax(xt::abs(fc.b))() == 0.0);
    Rng same(7);
    FullyConnected again(D, M, same);
    CHECK(check_close("the same seed gives the same W", again.W, fc.W, 0.0, 0.0));
    CHECK_THROWS_AS(FullyConnected(0, 3, rng), ArgumentError);
}

TEST_CASE("an empty batch names the layer and the shape it needs", "[ch02][given]") {
    Rng rng(6);
    FullyConnected fc(3, 2, rng, "fc1");
    const Tensor<2> empty = xt::zeros<double>({0, 3});
    CHECK_THROWS_AS(fc.forward(empty), ShapeError);
    CHECK_THROWS_WITH(fc.forward(empty), "FullyConnected 'fc1' forward: x has shape (0, 3) but must be (N>=1, D=3): "
                                         "a batch holds at least one sample");
}
