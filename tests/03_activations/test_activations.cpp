// Chapter 3 tests: the activation layers ReLU and Sigmoid, for rank 2 (features) and rank 4 (images).
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <array>
#include <cfenv>
#include <cmath>
#include <limits>

#include "03_activations/activations.hpp"
#include "course/gradcheck.hpp"
#include "course/random.hpp"

using namespace course;

namespace {

// The ReLU worked example of README.md section 6: N = 2, D = 3, with two inputs exactly at the kink.
const Tensor<2> relu_x = {{-2.0, 0.0, 3.0}, {1.5, -0.5, 0.0}};
const Tensor<2> relu_dout = {{0.5, -1.0, 2.0}, {-3.0, 4.0, 1.0}};

// The sigmoid worked example of README.md section 6: sigma(0) = 1/2, sigma(ln 3) = 3/4, sigma(-ln 3) = 1/4.
const double ln3 = std::log(3.0);
const Tensor<2> sigmoid_x = {{0.0, ln3, -ln3}};
const Tensor<2> sigmoid_dout = {{1.0, 2.0, -4.0}};

}  // namespace

// ------------------------------------------------------------------------------------------------------
// ReLU

TEST_CASE("relu forward keeps positive inputs and zeroes the others", "[ch03]") {
    ReLU<2> relu;
    CHECK(check_close("out", relu.forward(relu_x), Tensor<2>{{0.0, 0.0, 3.0}, {1.5, 0.0, 0.0}}));
}

TEST_CASE("relu backward reproduces the worked example by hand", "[ch03]") {
    ReLU<2> relu;
    relu.forward(relu_x);
    // dout passes where x > 0 (x = 3 and x = 1.5) and is blocked where x < 0 and where x = 0 exactly
    CHECK(check_close("dx", relu.backward(relu_dout), Tensor<2>{{0.0, 0.0, 2.0}, {-3.0, 0.0, 0.0}}));
}

TEST_CASE("relu backward gives 0 at exactly x = 0 and dout just above it", "[ch03]") {
    // The course's convention at the kink: gradient 0 at x = 0 (a mask x >= 0 would pass dout there).
    const double tiny = std::numeric_limits<double>::denorm_min();
    ReLU<2> relu;
    relu.forward(Tensor<2>{{0.0, -0.0, tiny, -tiny}});
    CHECK(check_close("dx at x = (0, -0, +tiny, -tiny)", relu.backward(Tensor<2>{{5.0, 6.0, 7.0, 8.0}}),
                      Tensor<2>{{0.0, 0.0, 7.0, 0.0}}, 0.0, 0.0));
}

TEST_CASE("relu gradients match numerical gradients away from the kink for rank 2 and rank 4", "[ch03]") {
    // rand_away_from_zero: every |x| >= 0.1, far from the kink compared with the step h = 1e-5; about half
    // of the inputs are negative, so a backward that passes dout everywhere fails. The upstream gradient
    // has random signs and sizes 0.5 to 1.5, so that no element of dx drowns in rounding noise.
    const std::array<std::array<std::size_t, 2>, 3> shapes2 = {{{1, 5}, {3, 4}, {8, 10}}};
    const std::array<std::array<std::size_t, 4>, 3> shapes4 = {{{1, 1, 3, 3}, {2, 3, 4, 5}, {4, 6, 6, 6}}};
    Rng rng(31);
    for (const auto& [N, D] : shapes2) {
        INFO("rank 2: N = " << N << ", D = " << D);
        ReLU<2> relu("relu_fc");
        Tensor<2> x = rand_away_from_zero<2>({N, D}, rng, 0.1, 2.0);
        const Tensor<2> dout = rand_away_from_zero<2>({N, D}, rng, 0.5, 1.5);
        relu.forward(x);
        const Tensor<2> dx = relu.backward(dout);
        CHECK(check_gradient("dx of ReLU<2>", dx, numerical_gradient([&] { return relu.forward(x); }, x, dout)));
    }
    for (const auto& shape : shapes4) {
        INFO("rank 4: (N, C, H, W) = " << shape_to_string(shape));
        ReLU<4> relu("relu_conv");
        Tensor<4> x = rand_away_from_zero<4>(shape, rng, 0.1, 2.0);
        const Tensor<4> dout = rand_away_from_zero<4>(shape, rng, 0.5, 1.5);
        relu.forward(x);
        const Tensor<4> dx = relu.backward(dout);
        CHECK(check_gradient("dx of ReLU<4>", dx, numerical_gradient([&] { return relu.forward(x); }, x, dout)));
    }
}

TEST_CASE("relu backward uses the input of the latest forward", "[ch03]") {
    ReLU<2> relu;
    relu.forward(-relu_x);  // the opposite signs: the mask would be wrong almost everywhere
    relu.forward(relu_x);
    CHECK(check_close("dx", relu.backward(relu_dout), Tensor<2>{{0.0, 0.0, 2.0}, {-3.0, 0.0, 0.0}}));
}

TEST_CASE("relu dout of the wrong shape names the layer and both shapes", "[ch03]") {
    ReLU<2> relu("relu1");
    relu.forward(relu_x);
    const Tensor<2> dout_bad = xt::ones<double>({3, 2});
    CHECK_THROWS_AS(relu.backward(dout_bad), ShapeError);
    CHECK_THROWS_WITH(relu.backward(dout_bad),
                      "ReLU 'relu1' backward: dout has shape (3, 2) but must have the shape of x, (2, 3)");
}

// ------------------------------------------------------------------------------------------------------
// Sigmoid

TEST_CASE("sigmoid gives exact values at known points", "[ch03]") {
    CHECK(sigmoid(0.0) == 0.5);
    CHECK(sigmoid(ln3) == Catch::Approx(0.75).epsilon(1e-15));
    CHECK(sigmoid(-ln3) == Catch::Approx(0.25).epsilon(1e-15));
    CHECK(sigmoid(2.0) == Catch::Approx(0.88079707797788231).epsilon(1e-15));  // 1 / (1 + e^-2)
    // Far out on the negative side the value is tiny but must keep its relative precision:
    // sigma(-40) = e^-40 / (1 + e^-40) = 4.248354255291589e-18, where 1 - sigma(40) would give 0.
    CHECK(sigmoid(-40.0) == Catch::Approx(4.248354255291589e-18).epsilon(1e-14));
    CHECK(sigmoid(40.0) == Catch::Approx(1.0).epsilon(1e-15));
    // symmetry: sigma(x) + sigma(-x) = 1
    for (double x : {0.3, 1.7, 5.0}) {
        INFO("x = " << x);
        CHECK(sigmoid(x) + sigmoid(-x) == Catch::Approx(1.0).epsilon(1e-15));
    }
}

TEST_CASE("sigmoid stays finite at plus and minus 1000", "[ch03]") {
    CHECK(sigmoid(1000.0) == 1.0);
    CHECK(sigmoid(-1000.0) == 0.0);
    Sigmoid<2> layer;
    const Tensor<2> out = layer.forward(Tensor<2>{{1000.0, -1000.0, 750.0, -750.0}});
    // sigma(-750) = e^-750 underflows to 0 in double: 0 is the correctly rounded value
    CHECK(check_close("out", out, Tensor<2>{{1.0, 0.0, 1.0, 0.0}}, 0.0, 0.0));
    const Tensor<2> dx = layer.backward(Tensor<2>{{1.0, 1.0, 1.0, 1.0}});
    CHECK(check_close("dx (the sigmoid is flat out there)", dx, Tensor<2>{{0.0, 0.0, 0.0, 0.0}}, 0.0, 0.0));
}

TEST_CASE("sigmoid never overflows even at plus and minus 1000", "[ch03]") {
    // The naive 1 / (1 + exp(-x)) gives the right 0 at x = -1000 only because exp(1000) overflows to
    // infinity and 1 / inf = 0; the processor records that overflow in its floating-point flags. The
    // stable form only takes exp of numbers <= 0, so neither the overflow nor the invalid (NaN) flag rises.
    Sigmoid<2> layer;
    const Tensor<2> x = {{1000.0, -1000.0, 100.0, -100.0, 710.0, -710.0}};
    std::feclearexcept(FE_ALL_EXCEPT);
    const Tensor<2> out = layer.forward(x);
    const bool overflow = std::fetestexcept(FE_OVERFLOW) != 0;
    const bool invalid = std::fetestexcept(FE_INVALID) != 0;
    INFO("out = (" << out(0, 0) << ", " << out(0, 1) << ", " << out(0, 2) << ", " << out(0, 3) << ", " << out(0, 4)
                   << ", " << out(0, 5) << ") for x = (1000, -1000, 100, -100, 710, -710)");
    CHECK_FALSE(overflow);  // exp was given a large positive number
    CHECK_FALSE(invalid);   // something like inf / inf was computed
    for (std::size_t i = 0; i < out.size(); ++i) CHECK(std::isfinite(out.data()[i]));
}

TEST_CASE("sigmoid backward reproduces the worked example by hand", "[ch03]") {
    Sigmoid<2> layer;
    CHECK(check_close("out", layer.forward(sigmoid_x), Tensor<2>{{0.5, 0.75, 0.25}}));
    // out (1 - out) = (0.25, 0.1875, 0.1875), times dout = (1, 2, -4)
    CHECK(check_close("dx", layer.backward(sigmoid_dout), Tensor<2>{{0.25, 0.375, -0.75}}));
}

TEST_CASE("sigmoid gradients match numerical gradients for rank 2 and rank 4", "[ch03]") {
    // Inputs in [-4, 4], where the slope out (1 - out) is at least 0.017, and upstream gradients of size
    // 0.5 to 1.5 with random signs: no element of dx is so tiny that the rounding noise of the central
    // differences (about 1e-11) would dominate its relative error.
    const std::array<std::array<std::size_t, 2>, 3> shapes2 = {{{1, 5}, {3, 4}, {8, 10}}};
    const std::array<std::array<std::size_t, 4>, 2> shapes4 = {{{1, 1, 2, 2}, {2, 3, 4, 5}}};
    Rng rng(33);
    for (const auto& [N, D] : shapes2) {
        INFO("rank 2: N = " << N << ", D = " << D);
        Sigmoid<2> layer("sigmoid_fc");
        Tensor<2> x = rand_uniform<2>({N, D}, rng, -4.0, 4.0);
        const Tensor<2> dout = rand_away_from_zero<2>({N, D}, rng, 0.5, 1.5);
        layer.forward(x);
        const Tensor<2> dx = layer.backward(dout);
        CHECK(check_gradient("dx of Sigmoid<2>", dx, numerical_gradient([&] { return layer.forward(x); }, x, dout)));
    }
    for (const auto& shape : shapes4) {
        INFO("rank 4: (N, C, H, W) = " << shape_to_string(shape));
        Sigmoid<4> layer("sigmoid_conv");
        Tensor<4> x = rand_uniform<4>(shape, rng, -4.0, 4.0);
        const Tensor<4> dout = rand_away_from_zero<4>(shape, rng, 0.5, 1.5);
        layer.forward(x);
        const Tensor<4> dx = layer.backward(dout);
        CHECK(check_gradient("dx of Sigmoid<4>", dx, numerical_gradient([&] { return layer.forward(x); }, x, dout)));
    }
}

TEST_CASE("sigmoid backward uses the output of the latest forward", "[ch03]") {
    Sigmoid<2> layer;
    layer.forward(Tensor<2>{{5.0, -5.0, 9.0}});
    layer.forward(sigmoid_x);
    CHECK(check_close("dx", layer.backward(sigmoid_dout), Tensor<2>{{0.25, 0.375, -0.75}}));
}

TEST_CASE("sigmoid dout of the wrong shape names the layer and both shapes", "[ch03]") {
    Sigmoid<4> layer("sigmoid1");
    layer.forward(xt::zeros<double>({1, 2, 3, 3}));
    const Tensor<4> dout_bad = xt::ones<double>({1, 2, 3, 4});
    CHECK_THROWS_AS(layer.backward(dout_bad), ShapeError);
    CHECK_THROWS_WITH(layer.backward(dout_bad), "Sigmoid 'sigmoid1' backward: dout has shape (1, 2, 3, 4) but must "
                                                "have the shape of out, (1, 2, 3, 3)");
}

// ------------------------------------------------------------------------------------------------------
// Given code: names, parameters, the order of calls

TEST_CASE("backward before forward is a clear error for both activations", "[ch03][given]") {
    ReLU<4> relu("relu1");
    CHECK_THROWS_AS(relu.backward(xt::ones<double>({1, 1, 2, 2})), ArgumentError);
    CHECK_THROWS_WITH(relu.backward(xt::ones<double>({1, 1, 2, 2})),
                      Catch::Matchers::StartsWith("ReLU 'relu1' backward: backward was called before forward"));
    Sigmoid<2> sigmoid_layer("sigmoid1");
    CHECK_THROWS_WITH(sigmoid_layer.backward(xt::ones<double>({1, 2})),
                      Catch::Matchers::StartsWith("Sigmoid 'sigmoid1' backward: backward was called before forward"));
}

TEST_CASE("activations have a kind and a name and no parameters", "[ch03][given]") {
    ReLU<2> relu("relu3");
    Sigmoid<4> sigmoid_layer("sigmoid2");
    CHECK(relu.kind() == "ReLU");
    CHECK(relu.name() == "relu3");
    CHECK(sigmoid_layer.kind() == "Sigmoid");
    CHECK(sigmoid_layer.name() == "sigmoid2");
    CHECK(relu.params_and_grads().empty());
    CHECK(sigmoid_layer.params_and_grads().empty());
    CHECK(ReLU<4>().name() == "relu");
}
