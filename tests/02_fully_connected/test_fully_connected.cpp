// Chapter 2 tests: the fully connected layer.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

#include "02_fully_connected/fully_connected.hpp"
#include "course/gradcheck.hpp"
#include "course/layer_check.hpp"
#include "course/random.hpp"
#include "support/layer_checks.hpp"

using namespace course;
using namespace course_test;

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

// The step of the central differences. The layer is linear in x, in W and in b, and for a linear function
// (f(v + h) - f(v - h)) / 2h is the derivative exactly, for every h: only rounding is left, about 1e-16 |g| / h,
// so a large step is the accurate choice. With the default step of 1e-5, an element of db that is small by
// cancellation (5.8e-4, a sum of 16 random dout values) came out with a relative error of 3.7e-7 on Debian 13
// (Catch2 3, g++ 14, OpenBLAS 0.3.29), 2026-12-02.
constexpr double linear_step = 1.0;

// A layer with D = 4 inputs and M = 2 outputs, and a batch of N = 3 for it: no two of N, D and M are equal.
FullyConnected three_by_four_layer() {
    Rng rng(0);
    FullyConnected fc(4, 2, rng, "fc");
    fc.W = Tensor<2>{{1.0, -2.0}, {0.5, 0.0}, {-1.0, 3.0}, {2.0, 7.0}};
    fc.b = Tensor<1>{0.5, -4.0};
    return fc;
}
const Tensor<2> x_3x4 = {{1.0, 0.0, -2.0, 3.0}, {2.0, -1.0, 1.0, 0.5}, {-1.0, 2.0, 0.5, 9.0}};
const Tensor<2> dout_3x2 = {{1.0, -0.5}, {2.0, 1.0}, {-1.5, 6.0}};
const Tensor<2> dout_3x2_second = {{-2.0, 1.0}, {0.5, 3.0}, {1.0, -5.0}};

// The forward and backward results of a fully connected layer, by plain loops over the index formulas.
struct ByLoops {
    Tensor<2> out, dW;
    Tensor<1> db;
    Tensor<2> dx;
};
ByLoops by_loops(const FullyConnected& fc, const Tensor<2>& x, const Tensor<2>& dout) {
    const std::size_t N = x.shape(0), D = x.shape(1), M = fc.W.shape(1);
    ByLoops r{xt::zeros<double>({N, M}), xt::zeros<double>({D, M}), xt::zeros<double>({M}), xt::zeros<double>({N, D})};
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t m = 0; m < M; ++m) {
            r.out(n, m) = fc.b(m);
            r.db(m) += dout(n, m);  // db_m = sum_n dout_nm
            for (std::size_t d = 0; d < D; ++d) {
                r.out(n, m) += x(n, d) * fc.W(d, m);
                r.dW(d, m) += x(n, d) * dout(n, m);     // dW_dm = sum_n x_nd dout_nm
                r.dx(n, d) += dout(n, m) * fc.W(d, m);  // dx_nd = sum_m dout_nm W_dm
            }
        }
    }
    return r;
}

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
    const auto [N, D, M] = GENERATE(table<std::size_t, std::size_t, std::size_t>({
        {1, 3, 2},
        {1, 1, 1},
        {4, 5, 3},
        {3, 2, 6},
        {5, 4, 4},
        {16, 10, 7},
    }));
    INFO("N = " << N << ", D = " << D << ", M = " << M);
    Rng rng(2);
    FullyConnected fc(D, M, rng, "fc");
    fc.b = randn<1>({M}, rng);  // a bias of 0 would hide a db that is not summed
    Tensor<2> x = randn<2>({N, D}, rng);
    const Tensor<2> dout = randn<2>({N, M}, rng);  // a random upstream gradient

    fc.forward(x);
    const Tensor<2> dx = fc.backward(dout);
    const Tensor<2> dW = fc.dW;  // copies: the numerical checks below run forward again
    const Tensor<1> db = fc.db;

    auto forward = [&] {
        return fc.forward(x);
    };
    CHECK(check_gradient("dx", dx, numerical_gradient(forward, x, dout, linear_step)));
    CHECK(check_gradient("dW", dW, numerical_gradient(forward, fc.W, dout, linear_step)));
    CHECK(check_gradient("db", db, numerical_gradient(forward, fc.b, dout, linear_step)));
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
    const Tensor<2> first_dW = fc.dW;
    const Tensor<1> first_db = fc.db;
    fc.backward(worked_dout);  // the same batch again: the same gradients, not twice them
    CHECK(check_close("dW after a second backward (not twice the first)", fc.dW, first_dW));
    CHECK(check_close("db after a second backward (not twice the first)", fc.db, first_db));
}

TEST_CASE("every backward with a new dout gives the gradients of that dout only", "[ch02]") {
    // N = 3, D = 4, M = 2: no shape is square, so a transposed gradient cannot pass, and N = 3 tells a sum
    // over the batch from a mean. The largest numbers are in the last row and column (a loop one short
    // misses them). Two backward calls with different dout: dW, db and dx must each be those of the second
    // dout, not the sum of both and not the first.
    FullyConnected fc = three_by_four_layer();
    fc.forward(x_3x4);
    for (const int call : {1, 2}) {
        const Tensor<2>& dout = call == 1 ? dout_3x2 : dout_3x2_second;
        const Tensor<2> dx = fc.backward(dout);
        const ByLoops want = by_loops(fc, x_3x4, dout);
        INFO("backward call " << call << " after one forward, each with another dout");
        CHECK(check_close("dW = x^T dout (overwritten, not added to)", fc.dW, want.dW));
        CHECK(check_close("db = sum over the batch of dout (overwritten, not added to)", fc.db, want.db));
        CHECK(check_close("dx = dout W^T", dx, want.dx));
    }
}

TEST_CASE("a batch of 4 and then a last smaller batch of 3 give the gradients of each batch", "[ch02]") {
    // The last batch of an epoch is smaller. Nothing from the batch of 4 (its input, its size, its
    // gradients) may be used for the batch of 3.
    Rng rng(8);
    FullyConnected fc(4, 2, rng, "fc");
    fc.b = Tensor<1>{0.25, -0.75};
    for (const std::size_t N : {std::size_t{4}, std::size_t{3}}) {
        INFO("batch of N = " << N);
        const Tensor<2> x = randn<2>({N, 4}, rng);
        const Tensor<2> dout = randn<2>({N, 2}, rng);
        const ByLoops want = by_loops(fc, x, dout);
        CHECK(check_close("out", fc.forward(x), want.out));
        const Tensor<2> dx = fc.backward(dout);
        CHECK(check_close("dW", fc.dW, want.dW));
        CHECK(check_close("db", fc.db, want.db));
        CHECK(check_close("dx", dx, want.dx));
    }
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
    const Tensor<2> dout_bad = xt::ones<double>({2, 3});
    check_wrong_dout_shape(fc, worked_x, dout_bad,
                           "FullyConnected 'fc' backward: dout has shape (2, 3) but must be (N=2, M=2)");
}

TEST_CASE("an input of the wrong shape names the layer and both shapes", "[ch02][given]") {
    Rng rng(4);
    FullyConnected fc(3, 2, rng, "fc1");
    const Tensor<2> x_bad = xt::ones<double>({4, 5});
    check_shape_error([&] { return fc.forward(x_bad); },
                      "FullyConnected 'fc1' forward: x has shape (4, 5) but must be (N, D=3)");
}

TEST_CASE("backward before forward is a clear error", "[ch02][given]") {
    Rng rng(5);
    FullyConnected fc(3, 2, rng, "fc1");
    check_backward_before_forward(fc, Tensor<2>(xt::ones<double>({1, 2})), "FullyConnected 'fc1'");
}

TEST_CASE("params_and_grads names W and b and shares their memory", "[ch02][given]") {
    Rng rng(6);
    FullyConnected fc(3, 2, rng, "fc1");
    std::vector<ParamRef> params = fc.params_and_grads();
    REQUIRE(params.size() == 2);
    SECTION("the names and shapes are those of W and b") {
        CHECK(params[0].name == "fc1.W");
        CHECK(params[0].shape == Shape{3, 2});
        CHECK(params[1].name == "fc1.b");
        CHECK(params[1].shape == Shape{2});
    }
    SECTION("a write to a value changes the layer's W") {
        params[0].value[5] = 42.0;  // the last element of W, (2, 1)
        CHECK(fc.W(2, 1) == 42.0);
    }
    SECTION("the gradients are the layer's dW and db") {
        CHECK(params[0].grad.data() == fc.dW.data());
        CHECK(params[1].grad.data() == fc.db.data());
    }
}

TEST_CASE("weights start with standard deviation sqrt(2 / D) and a zero bias", "[ch02][given]") {
    Rng rng(7);
    const std::size_t D = 400, M = 300;
    FullyConnected fc(D, M, rng);
    SECTION("W has mean 0 and standard deviation sqrt(2 / D), b is 0") {
        const double mean = xt::mean(fc.W)();
        const double stddev = xt::stddev(fc.W)();
        CHECK(std::abs(mean) < 0.01 * std::sqrt(2.0 / D) * 10);
        CHECK(stddev == Catch::Approx(std::sqrt(2.0 / D)).epsilon(0.02));
        CHECK(xt::amax(xt::abs(fc.b))() == 0.0);
    }
    SECTION("the same seed gives the same W") {
        Rng same(7);
        FullyConnected again(D, M, same);
        CHECK(check_close("the same seed gives the same W", again.W, fc.W, 0.0, 0.0));
    }
    SECTION("a layer without inputs is refused") {
        CHECK_THROWS_AS(FullyConnected(0, 3, rng), ArgumentError);
    }
}

TEST_CASE("an empty batch names the layer and the shape it needs", "[ch02][given]") {
    Rng rng(6);
    FullyConnected fc(3, 2, rng, "fc1");
    const Tensor<2> empty = xt::zeros<double>({0, 3});
    check_shape_error([&] { return fc.forward(empty); },
                      "FullyConnected 'fc1' forward: x has shape (0, 3) but must be (N>=1, D=3): "
                      "a batch holds at least one sample");
}
