// Chapter 3 tests: the activation layers ReLU and Sigmoid, for rank 2 (features) and rank 4 (images).
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
//
// It is compiled twice: test_ch03 with real = double runs every case; test_ch03_float with real = float (what
// the training program uses) runs only the cases tagged [float], at the end of the file. Those are written on
// `real`. The gradient checks need double (course/gradcheck.hpp says why), so that part of the file is not
// compiled in float.
#include "support/catch.hpp"

#include <array>
#include <cfenv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "03_activations/activations.hpp"
#include "course/random.hpp"
#include "support/exact_checks.hpp"
#include "support/layer_checks.hpp"
#if !defined(COURSE_REAL_FLOAT)
#include "course/gradcheck.hpp"
#endif

using namespace course;
using namespace course_test;

namespace {
// The rank of an activation layer's input: 2 after a fully connected layer (N, D), 4 after a convolution
// (N, C, H, W).
template <class Activation>
constexpr std::size_t rank_of = Activation::Input::rank;
}  // namespace

#if !defined(COURSE_REAL_FLOAT)
namespace {

// The ReLU worked example of README.md section 6: N = 2, D = 3, with two inputs exactly at the kink.
const Tensor<2> relu_x = {{-2.0, 0.0, 3.0}, {1.5, -0.5, 0.0}};
const Tensor<2> relu_dout = {{0.5, -1.0, 2.0}, {-3.0, 4.0, 1.0}};

// The sigmoid worked example of README.md section 6: sigma(0) = 1/2, sigma(ln 3) = 3/4, sigma(-ln 3) = 1/4.
const double ln3 = std::log(3.0);
const Tensor<2> sigmoid_x = {{0.0, ln3, -ln3}};
const Tensor<2> sigmoid_dout = {{1.0, 2.0, -4.0}};

template <std::size_t Rank>
using Shapes = std::vector<std::array<std::size_t, Rank>>;

// The shapes of the gradient checks, per layer: (N, D) for rank 2, (N, C, H, W) for rank 4.
template <class Activation>
Shapes<rank_of<Activation>> gradient_shapes();
template <>
Shapes<2> gradient_shapes<ReLU<2>>() {
    return {{1, 5}, {3, 4}, {8, 10}};
}
template <>
Shapes<4> gradient_shapes<ReLU<4>>() {
    return {{1, 1, 3, 3}, {2, 3, 4, 5}, {4, 6, 6, 6}};
}
template <>
Shapes<2> gradient_shapes<Sigmoid<2>>() {
    return {{1, 5}, {3, 4}, {8, 10}};
}
template <>
Shapes<4> gradient_shapes<Sigmoid<4>>() {
    return {{1, 1, 2, 2}, {2, 3, 4, 5}};
}

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

TEMPLATE_TEST_CASE("relu gradients match numerical gradients away from the kink for inputs of either rank", "[ch03]",
                   ReLU<2>, ReLU<4>) {
    // rand_away_from_zero: every |x| >= 0.1, far from the kink compared with the step h = 1e-5; about half
    // of the inputs are negative, so a backward that passes dout everywhere fails. The upstream gradient
    // has random signs and sizes 0.5 to 1.5, so that no element of dx drowns in rounding noise.
    constexpr std::size_t Rank = rank_of<TestType>;
    const std::array<std::size_t, Rank> shape = GENERATE(from_range(gradient_shapes<TestType>()));
    INFO("rank " << Rank << ": shape " << shape_to_string(shape));
    Rng rng(31);
    TestType relu(Rank == 2 ? "relu_fc" : "relu_conv");
    Tensor<Rank> x = rand_away_from_zero<Rank>(shape, rng, 0.1, 2.0);
    const Tensor<Rank> dout = rand_away_from_zero<Rank>(shape, rng, 0.5, 1.5);
    relu.forward(x);
    const Tensor<Rank> dx = relu.backward(dout);
    CHECK(check_gradient("dx of ReLU<" + std::to_string(Rank) + ">", dx,
                         numerical_gradient([&] { return relu.forward(x); }, x, dout)));
}

TEST_CASE("relu backward uses the input of the latest forward", "[ch03]") {
    ReLU<2> relu;
    relu.forward(-relu_x);  // the opposite signs: the mask would be wrong almost everywhere
    relu.forward(relu_x);
    CHECK(check_close("dx", relu.backward(relu_dout), Tensor<2>{{0.0, 0.0, 2.0}, {-3.0, 0.0, 0.0}}));
}

TEST_CASE("relu dout of the wrong shape names the layer and both shapes", "[ch03]") {
    ReLU<2> relu("relu1");
    const Tensor<2> dout_bad = xt::ones<double>({3, 2});
    check_wrong_dout_shape(relu, relu_x, dout_bad,
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

TEST_CASE("sigmoid backward reproduces the worked example by hand", "[ch03]") {
    Sigmoid<2> layer;
    CHECK(check_close("out", layer.forward(sigmoid_x), Tensor<2>{{0.5, 0.75, 0.25}}));
    // out (1 - out) = (0.25, 0.1875, 0.1875), times dout = (1, 2, -4)
    CHECK(check_close("dx", layer.backward(sigmoid_dout), Tensor<2>{{0.25, 0.375, -0.75}}));
}

TEMPLATE_TEST_CASE("sigmoid gradients match numerical gradients for inputs of either rank", "[ch03]", Sigmoid<2>,
                   Sigmoid<4>) {
    // Inputs in [-4, 4], where the slope out (1 - out) is at least 0.017, and upstream gradients of size
    // 0.5 to 1.5 with random signs: no element of dx is so tiny that the rounding noise of the central
    // differences (about 1e-11) would dominate its relative error.
    constexpr std::size_t Rank = rank_of<TestType>;
    const std::array<std::size_t, Rank> shape = GENERATE(from_range(gradient_shapes<TestType>()));
    INFO("rank " << Rank << ": shape " << shape_to_string(shape));
    Rng rng(33);
    TestType layer(Rank == 2 ? "sigmoid_fc" : "sigmoid_conv");
    Tensor<Rank> x = rand_uniform<Rank>(shape, rng, -4.0, 4.0);
    const Tensor<Rank> dout = rand_away_from_zero<Rank>(shape, rng, 0.5, 1.5);
    layer.forward(x);
    const Tensor<Rank> dx = layer.backward(dout);
    CHECK(check_gradient("dx of Sigmoid<" + std::to_string(Rank) + ">", dx,
                         numerical_gradient([&] { return layer.forward(x); }, x, dout)));
}

TEST_CASE("sigmoid backward uses the output of the latest forward", "[ch03]") {
    Sigmoid<2> layer;
    layer.forward(Tensor<2>{{5.0, -5.0, 9.0}});
    layer.forward(sigmoid_x);
    CHECK(check_close("dx", layer.backward(sigmoid_dout), Tensor<2>{{0.25, 0.375, -0.75}}));
}

TEST_CASE("sigmoid dout of the wrong shape names the layer and both shapes", "[ch03]") {
    Sigmoid<4> layer("sigmoid1");
    const Tensor<4> x = xt::zeros<double>({1, 2, 3, 3});
    const Tensor<4> dout_bad = xt::ones<double>({1, 2, 3, 4});
    check_wrong_dout_shape(layer, x, dout_bad,
                           "Sigmoid 'sigmoid1' backward: dout has shape (1, 2, 3, 4) but must "
                           "have the shape of out, (1, 2, 3, 3)");
}

// ------------------------------------------------------------------------------------------------------
// Given code: names, parameters, the order of calls

TEST_CASE("backward before forward is a clear error for both activations", "[ch03][given]") {
    SECTION("ReLU") {
        ReLU<4> relu("relu1");
        check_backward_before_forward(relu, Tensor<4>(xt::ones<double>({1, 1, 2, 2})), "ReLU 'relu1'");
    }
    SECTION("Sigmoid") {
        Sigmoid<2> sigmoid_layer("sigmoid1");
        check_backward_before_forward(sigmoid_layer, Tensor<2>(xt::ones<double>({1, 2})), "Sigmoid 'sigmoid1'");
    }
}

TEST_CASE("activations have a kind and a name and no parameters", "[ch03][given]") {
    ReLU<2> relu("relu3");
    Sigmoid<4> sigmoid_layer("sigmoid2");
    SECTION("the kind is the class") {
        CHECK(relu.kind() == "ReLU");
        CHECK(sigmoid_layer.kind() == "Sigmoid");
    }
    SECTION("the name is the one given, or the default") {
        CHECK(relu.name() == "relu3");
        CHECK(sigmoid_layer.name() == "sigmoid2");
        CHECK(ReLU<4>().name() == "relu");
    }
    SECTION("there are no parameters") {
        CHECK(relu.params_and_grads().empty());
        CHECK(sigmoid_layer.params_and_grads().empty());
    }
}
#endif  // !defined(COURSE_REAL_FLOAT)

// ------------------------------------------------------------------------------------------------------
// In float as well as in double ([float]): what the training program computes. These cases are written on
// `real`, and each value is compared with one computed in long double.

namespace {

// A correct result is within a few units in the last place of `real` of the exact value: relative 1e-5 in
// float (about 80 units of 1.2e-7), 1e-13 in double. The absolute part, 4 times the smallest subnormal of
// `real`, is for exact values below the normal range (float: below 1.2e-38), which keep fewer digits.
constexpr long double rtol = std::is_same_v<real, float> ? 1e-5L : 1e-13L;
constexpr long double atol = 4 * static_cast<long double>(std::numeric_limits<real>::denorm_min());

// sigma(x) computed in long double, from the form that is stable for each sign.
long double exact_sigmoid(long double x) {
    if (x >= 0) return 1 / (1 + std::exp(-x));
    const long double e = std::exp(x);
    return e / (1 + e);
}

// The first element of `actual` that is not within this file's rtol and atol of `expected`, or "".
template <class A>
std::string first_far_element(const A& actual, const std::vector<long double>& expected) {
    return course_test::first_far_element(actual, expected, rtol, atol);
}

// Inputs of a batch of N with the features of `Rank`: (N, 5) or (N, 2, 3, 3).
template <std::size_t Rank>
std::array<std::size_t, Rank> batch_shape(std::size_t N) {
    if constexpr (Rank == 2) {
        return {N, 5};
    } else {
        return {N, 2, 3, 3};
    }
}

// What an activation must return, from the input x (the same order as x.data()).
template <class Activation>
std::vector<long double> exact_forward(const Tensor<rank_of<Activation>>& x) {
    std::vector<long double> out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const long double v = x.data()[i];
        if constexpr (std::is_same_v<Activation, ReLU<rank_of<Activation>>>) {
            out[i] = v > 0 ? v : 0;
        } else {
            out[i] = exact_sigmoid(v);
        }
    }
    return out;
}

// What backward must return, from the input x of the last forward and dout.
template <class Activation>
std::vector<long double> exact_backward(const Tensor<rank_of<Activation>>& x, const Tensor<rank_of<Activation>>& dout) {
    std::vector<long double> dx(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const long double v = x.data()[i];
        const long double d = dout.data()[i];
        if constexpr (std::is_same_v<Activation, ReLU<rank_of<Activation>>>) {
            dx[i] = v > 0 ? d : 0;
        } else {
            const long double s = exact_sigmoid(v);
            dx[i] = d * s * (1 - s);
        }
    }
    return dx;
}

}  // namespace

// The floating-point flags after a computation: FE_OVERFLOW rises when exp gets a large positive number (the
// textbook 1 / (1 + exp(-x)) for x far below 0), FE_INVALID when something like inf / inf is computed.
static void check_no_overflow(bool overflow, bool invalid) {
    if (overflow) {
        FAIL_CHECK(
            "exp overflowed (the floating-point overflow flag rose): your sigmoid computes exp of a large "
            "positive number. Take exp of -|x| only: branch on the sign of x (README.md, the stable sigmoid).");
    }
    if (invalid) FAIL_CHECK("an invalid operation such as inf / inf or inf - inf happened (the invalid flag rose).");
}

TEST_CASE("sigmoid is exact also where 1 / (1 + exp(-x)) overflows in float", "[ch03][float]") {
    // exp(-x) overflows in float for x < -88.72 (and in double for x < -709.78). Between -103.9 and -88.72 the
    // exact sigma(x) is still above 0 in float, so a 0 there is wrong; further out it rounds to 0 in float, and
    // only the overflow flag shows the overflow. The last values are on the other side, where exp(-x) is tiny.
    const double x_value =
        GENERATE(-1000.0, -750.0, -710.0, -200.0, -104.0, -103.0, -100.0, -95.0, -90.0, -89.0, -88.8, -88.5, -88.0,
                 -87.0, -50.0, -40.0, -1.0, 0.0, 1.0, 40.0, 89.0, 100.0, 710.0, 1000.0);
    const real x = static_cast<real>(x_value);
    INFO("x = " << x_value << ", real is " << (std::is_same_v<real, float> ? "float" : "double"));
    std::feclearexcept(FE_ALL_EXCEPT);
    const real s = sigmoid(x);
    const bool overflow = std::fetestexcept(FE_OVERFLOW) != 0;
    const bool invalid = std::fetestexcept(FE_INVALID) != 0;
    INFO("sigmoid(x) = " << s << ", exact " << static_cast<double>(exact_sigmoid(x)));
    check_no_overflow(overflow, invalid);
    const std::string far = first_far_element(std::vector<real>{s}, {exact_sigmoid(x)});
    INFO(far);
    CHECK(far.empty());
}

TEST_CASE("the sigmoid layer gives exactly 1 and 0 at plus and minus 1000, with no overflow", "[ch03][float]") {
    // The naive 1 / (1 + exp(-x)) gives the right 0 at x = -1000 only because exp(1000) overflows to infinity
    // and 1 / inf = 0; the processor records that overflow in its floating-point flags. The stable form only
    // takes exp of numbers <= 0, so neither the overflow nor the invalid (NaN) flag rises. -1000 is last on
    // purpose: a loop that stops one element early leaves it out.
    Sigmoid<2> layer;
    const Tensor<2> x = {{1000, 100, -100, 710, -710, -750, 750, -1000}};
    std::feclearexcept(FE_ALL_EXCEPT);
    const Tensor<2> out = layer.forward(x);
    const bool overflow = std::fetestexcept(FE_OVERFLOW) != 0;
    const bool invalid = std::fetestexcept(FE_INVALID) != 0;
    check_no_overflow(overflow, invalid);
    const std::string far = first_far_element(out, exact_forward<Sigmoid<2>>(x));
    INFO("forward: " << far);
    CHECK(far.empty());
    CHECK(out(0, 0) == real(1));
    CHECK(out(0, 7) == real(0));
    // The sigmoid is flat out there: dx = dout out (1 - out) is exactly 0 at +-1000, +-750 and 710 (sigma(-710)
    // is a subnormal 4.5e-309 in double, not 0).
    const Tensor<2> dout = {{1, 1, 1, 1, 1, 1, 1, 1}};
    const Tensor<2> dx = layer.backward(dout);
    for (std::size_t i : {0, 3, 5, 6, 7}) {
        INFO("dx at x = " << x.data()[i]);
        CHECK(dx.data()[i] == real(0));
    }
}

TEST_CASE("sigmoid of plus infinity is 1, of minus infinity 0, and of NaN NaN", "[ch03][float]") {
    const real inf = std::numeric_limits<real>::infinity();
    const real nan = std::numeric_limits<real>::quiet_NaN();
    CHECK(sigmoid(inf) == real(1));
    CHECK(sigmoid(-inf) == real(0));
    INFO("sigmoid(NaN) = " << sigmoid(nan) << ": a NaN must stay visible, not become a number");
    CHECK(std::isnan(sigmoid(nan)));
    Sigmoid<2> layer;
    const Tensor<2> out = layer.forward(Tensor<2>{{inf, nan, -inf}});
    CHECK(out(0, 0) == real(1));
    CHECK(std::isnan(out(0, 1)));
    CHECK(out(0, 2) == real(0));
}

TEST_CASE("relu keeps NaN and plus infinity, zeroes minus infinity, and passes no gradient at NaN", "[ch03][float]") {
    // As PyTorch: relu(NaN) is NaN, so a broken value upstream stays visible (max(0, x) can return 0 for it).
    // The gradient flows only where x > 0: not at NaN, not at -inf, but at +inf.
    const real inf = std::numeric_limits<real>::infinity();
    const real nan = std::numeric_limits<real>::quiet_NaN();
    ReLU<2> relu;
    const Tensor<2> out = relu.forward(Tensor<2>{{-1, inf, -inf, 0, 2, nan}});
    INFO("relu(-1, inf, -inf, 0, 2, NaN) = (" << out(0, 0) << ", " << out(0, 1) << ", " << out(0, 2) << ", "
                                              << out(0, 3) << ", " << out(0, 4) << ", " << out(0, 5) << ")");
    CHECK(out(0, 0) == real(0));
    CHECK(out(0, 1) == inf);
    CHECK(out(0, 2) == real(0));
    CHECK(out(0, 3) == real(0));
    CHECK(out(0, 4) == real(2));
    CHECK(std::isnan(out(0, 5)));  // NaN is last: a loop one short would also miss it
    const Tensor<2> dx = relu.backward(Tensor<2>{{1, 2, 3, 4, 5, 6}});
    INFO("dx = (" << dx(0, 0) << ", " << dx(0, 1) << ", " << dx(0, 2) << ", " << dx(0, 3) << ", " << dx(0, 4) << ", "
                  << dx(0, 5) << ")");
    CHECK(dx(0, 0) == real(0));
    CHECK(dx(0, 1) == real(2));  // +inf > 0: dout passes
    CHECK(dx(0, 2) == real(0));
    CHECK(dx(0, 3) == real(0));
    CHECK(dx(0, 4) == real(5));
    CHECK(dx(0, 5) == real(0));  // NaN > 0 is false: no gradient, and no NaN in dx
}

TEMPLATE_TEST_CASE("an activation handles a batch of 4, then a last smaller batch of 3, and a new dout each time",
                   "[ch03][float]", ReLU<2>, ReLU<4>, Sigmoid<2>, Sigmoid<4>) {
    // The last batch of an epoch is smaller. Nothing that forward or backward computed for the batch of 4 may
    // be used for the batch of 3, and two backward calls with different dout give two different results (dx
    // is computed, never added up). The last input of each batch is extreme (-95, where exp(95) overflows in
    // float; 3.5 for ReLU, which must pass), so that a loop that stops one element early fails.
    constexpr std::size_t Rank = rank_of<TestType>;
    constexpr bool is_relu = std::is_same_v<TestType, ReLU<Rank>>;
    Rng rng(35);
    TestType layer;
    for (const std::size_t N : {std::size_t{4}, std::size_t{3}}) {
        INFO("batch of N = " << N << ", rank " << Rank);
        Tensor<Rank> x = rand_away_from_zero<Rank>(batch_shape<Rank>(N), rng, 0.1, 4.0);
        x.data()[x.size() - 1] = is_relu ? real(3.5) : real(-95);
        const Tensor<Rank> out = layer.forward(x);
        const std::string far_out = first_far_element(out, exact_forward<TestType>(x));
        INFO("forward: " << far_out);
        CHECK(far_out.empty());
        for (int call = 1; call <= 2; ++call) {
            INFO("backward call " << call << " after this forward");
            const Tensor<Rank> dout = rand_away_from_zero<Rank>(batch_shape<Rank>(N), rng, 0.5, 1.5);
            const Tensor<Rank> dx = layer.backward(dout);
            const std::string far_dx = first_far_element(dx, exact_backward<TestType>(x, dout));
            INFO("dx: " << far_dx);
            CHECK(far_dx.empty());
        }
    }
}
