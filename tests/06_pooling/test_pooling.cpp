// Chapter 6 tests: max pooling.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <sstream>
#include <vector>

#include <xtensor/xview.hpp>

#include "06_pooling/pooling.hpp"
#include "course/gradcheck.hpp"
#include "course/layer_check.hpp"
#include "course/random.hpp"
#include "support/layer_checks.hpp"

using namespace course;
using namespace course_test;
using Catch::Matchers::Message;
using Catch::Matchers::MessageMatches;
using Catch::Matchers::StartsWith;

namespace {

// Wraps one H x W image into a tensor of shape (1, 1, H, W).
Tensor<4> image(const Tensor<2>& pixels) {
    Tensor<4> t({1, 1, pixels.shape(0), pixels.shape(1)});
    xt::view(t, 0, 0, xt::all(), xt::all()) = pixels;
    return t;
}

// A random permutation of equally spaced values gap apart, centered at 0. Any two values differ by at
// least `gap` (0.01 by default, 1000 times the step h = 1e-5 of the gradient check), so no nudge of +-h
// can change which input wins a window: the pooled function is smooth around x (README.md section 7).
Tensor<4> distinct_values(const std::array<std::size_t, 4>& shape, Rng& rng, double gap = 0.01) {
    Tensor<4> x(shape);
    std::vector<std::size_t> order(x.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng.engine());
    const double middle = 0.5 * static_cast<double>(x.size() - 1);
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = (static_cast<double>(order[k]) - middle) * gap;
    return x;
}

// The maximum of every window, computed with xt::view and xt::amax: an oracle independent of the loops.
Tensor<4> max_of_every_window(const Tensor<4>& x, std::size_t K, std::size_t S) {
    const std::size_t N = x.shape(0), C = x.shape(1);
    const std::size_t Ho = (x.shape(2) - K) / S + 1, Wo = (x.shape(3) - K) / S + 1;
    Tensor<4> out({N, C, Ho, Wo});
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < Ho; ++i)
                for (std::size_t j = 0; j < Wo; ++j)
                    out(n, c, i, j) =
                        xt::amax(xt::view(x, n, c, xt::range(i * S, i * S + K), xt::range(j * S, j * S + K)))();
    return out;
}

// The worked example of README.md sections 3 and 5: a 4 x 4 image, 2 x 2 windows, stride 2.
const Tensor<2> worked_x = {{5.0, 1.0, 2.0, 0.0}, {4.0, -1.0, 3.0, 6.0}, {0.0, 2.0, -3.0, 9.0}, {7.0, 1.0, 2.0, 8.0}};
const Tensor<2> worked_out = {{5.0, 6.0}, {7.0, 9.0}};
const Tensor<2> worked_dout = {{1.0, -2.0}, {3.0, 0.5}};
const Tensor<2> worked_dx = {{1.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, -2.0}, {0.0, 0.0, 0.0, 0.5}, {3.0, 0.0, 0.0, 0.0}};

// The overlapping example of README.md section 5: a 3 x 3 image, 2 x 2 windows, stride 1.
const Tensor<2> overlap_x = {{1.0, 2.0, 0.0}, {3.0, 9.0, 4.0}, {5.0, 6.0, 10.0}};
const Tensor<2> overlap_out = {{9.0, 9.0}, {9.0, 10.0}};
const Tensor<2> overlap_dout = {{1.0, 2.0}, {3.0, 4.0}};
const Tensor<2> overlap_dx = {{0.0, 0.0, 0.0}, {0.0, 6.0, 0.0}, {0.0, 0.0, 4.0}};

}  // namespace

TEST_CASE("MaxPool2D(2) means 2x2 windows with stride 2 and no parameters", "[ch06][given]") {
    SECTION("the window size alone: the stride is the window size, the name is the default") {
        MaxPool2D pool(2);
        CHECK(pool.kernel_size() == 2);
        CHECK(pool.stride() == 2);
        CHECK(pool.name() == "pool");
        CHECK(pool.kind() == "MaxPool2D");
        CHECK(pool.params_and_grads().empty());
    }
    SECTION("the window size and a name") {
        MaxPool2D named(3, "pool1");
        CHECK(named.kernel_size() == 3);
        CHECK(named.stride() == 3);
        CHECK(named.name() == "pool1");
    }
    SECTION("the window size, a smaller stride and a name") {
        MaxPool2D overlapping(3, 2, "pool2");
        CHECK(overlapping.kernel_size() == 3);
        CHECK(overlapping.stride() == 2);
        CHECK(overlapping.name() == "pool2");
    }
}

TEST_CASE("output_size is (H - KH) / S + 1 rounded down", "[ch06][given]") {
    CHECK(MaxPool2D(2).output_size(24) == 12);  // LeNet's pool1: conv1 makes 24 x 24 maps
    CHECK(MaxPool2D(2).output_size(28) == 14);
    CHECK(MaxPool2D(2).output_size(5) == 2);     // the last row or column is not pooled
    CHECK(MaxPool2D(2, 1).output_size(3) == 2);  // overlapping windows
    CHECK(MaxPool2D(3, 2).output_size(7) == 3);  // 7 = 3 + 2 * 2: every row is reached
    CHECK(MaxPool2D(3, 2).output_size(6) == 2);  // row 5 is not reached
    CHECK(MaxPool2D(4).output_size(4) == 1);     // one window covers everything
    CHECK(MaxPool2D(1, 2).output_size(5) == 3);  // 1 x 1 windows with stride 2: subsampling
}

TEST_CASE("a window size or stride of zero or a window too large for the cache is a clear error", "[ch06][given]") {
    SECTION("a window size of zero") {
        CHECK_THROWS_AS(MaxPool2D(0), ArgumentError);
        CHECK_THROWS_MATCHES(MaxPool2D(0, "pool1"), ArgumentError,
                             Message("MaxPool2D 'pool1' constructor: kernel_size must be at least 1, not 0"));
    }
    SECTION("a stride of zero") {
        CHECK_THROWS_AS(MaxPool2D(2, 0), ArgumentError);
        CHECK_THROWS_MATCHES(MaxPool2D(2, 0, "pool1"), ArgumentError,
                             Message("MaxPool2D 'pool1' constructor: stride must be at least 1, not 0"));
    }
    SECTION("a window larger than max_kernel_size") {
        CHECK_NOTHROW(MaxPool2D(MaxPool2D::max_kernel_size));
        CHECK_THROWS_AS(MaxPool2D(MaxPool2D::max_kernel_size + 1), ArgumentError);
        CHECK_THROWS_MATCHES(
            MaxPool2D(17, 1, "pool1"), ArgumentError,
            MessageMatches(StartsWith("MaxPool2D 'pool1' constructor: kernel_size is 17 but must be at most 16")));
    }
}

TEST_CASE("an input smaller than the window names the layer and the sizes", "[ch06][given]") {
    MaxPool2D pool(3, 1, "pool1");
    const Tensor<4> too_short = xt::ones<double>({2, 1, 2, 5});
    check_shape_error([&] { return pool.forward(too_short); },
                      "MaxPool2D 'pool1' forward: x has shape (2, 1, 2, 5) but its height H and width W must be "
                      "at least kernel_size = 3, the size of the window");
    const Tensor<4> too_narrow = xt::ones<double>({1, 1, 4, 1});
    CHECK_THROWS_AS(pool.forward(too_narrow), ShapeError);
}

TEST_CASE("backward before forward is a clear error", "[ch06][given]") {
    MaxPool2D pool(2, "pool1");
    const Tensor<4> dout = xt::ones<double>({1, 1, 2, 2});
    check_backward_before_forward(pool, dout, "MaxPool2D 'pool1'");
}

TEST_CASE("forward takes the max of each window of the worked example", "[ch06]") {
    MaxPool2D pool(2);
    CHECK(check_close("out", pool.forward(image(worked_x)), image(worked_out)));
}

TEST_CASE("backward sends each dout element to the winner of its window in the worked example", "[ch06]") {
    MaxPool2D pool(2);
    pool.forward(image(worked_x));
    // Each winner sits at a different place in its window (p * KW + q = 0, 3, 2, 1), so swapped p and q,
    // a window origin without the stride or a gradient spread over the window all show here.
    CHECK(check_close("dx", pool.backward(image(worked_dout)), image(worked_dx)));
}

TEST_CASE("an input that wins several overlapping windows receives the sum of their gradients", "[ch06]") {
    MaxPool2D pool(2, 1);  // 2 x 2 windows, stride 1: the centre of the 3 x 3 image is in all four
    CHECK(check_close("out", pool.forward(image(overlap_x)), image(overlap_out)));
    // 9 wins three windows: dx = 1 + 2 + 3 = 6. Writing dx with = instead of += keeps only the last, 3.
    CHECK(check_close("dx", pool.backward(image(overlap_dout)), image(overlap_dx)));
}

TEST_CASE("at a tie the first maximum in row-major order wins the whole gradient", "[ch06]") {
    // Two windows: 7 appears three times in the first, 2 four times in the second.
    const Tensor<2> x = {{3.0, 7.0, 2.0, 2.0}, {7.0, 7.0, 2.0, 2.0}};
    const Tensor<2> dout = {{1.5, -2.0}};
    MaxPool2D pool(2);
    CHECK(check_close("out", pool.forward(image(x)), image(Tensor<2>{{7.0, 2.0}})));
    // Only (0, 1) and (0, 2) receive anything: not every maximal element, not every element of the window,
    // and not the last maximum (a scan with >= instead of >).
    const Tensor<2> expected = {{0.0, 1.5, -2.0, 0.0}, {0.0, 0.0, 0.0, 0.0}};
    CHECK(check_close("dx", pool.backward(image(dout)), image(expected)));
}

TEST_CASE("at a tie the numerical gradient splits the slope so gradient checks need distinct values", "[ch06]") {
    // README.md section 7: one window holding 3, 7, 7, 7. Nudging any 7 up by h raises the output by h,
    // nudging it down changes nothing (another 7 is still there), so the central difference measures a
    // slope of 1/2 for each of the three, while the true rule sends the whole gradient to one of them.
    Tensor<4> x = image(Tensor<2>{{3.0, 7.0}, {7.0, 7.0}});
    const Tensor<4> dout = image(Tensor<2>{{2.0}});
    MaxPool2D pool(2);
    pool.forward(x);
    const Tensor<4> dx = pool.backward(dout);
    const Tensor<4> dx_num = numerical_gradient([&] { return pool.forward(x); }, x, dout);
    CHECK(check_close("dx at the tie", dx, image(Tensor<2>{{0.0, 2.0}, {0.0, 0.0}})));
    CHECK(check_close("numerical dx at the tie", dx_num, image(Tensor<2>{{0.0, 1.0}, {1.0, 1.0}}), 1e-6, 1e-6));
    CHECK_FALSE(check_gradient("dx at the tie", dx, dx_num));
}

TEST_CASE("forward matches the max of every window for several shapes", "[ch06]") {
    using S_t = std::size_t;
    const auto [N, C, H, W, K, S] = GENERATE(table<S_t, S_t, S_t, S_t, S_t, S_t>({
        // {N, C, H, W, K, S}
        {1, 1, 4, 4, 2, 2},
        {2, 3, 6, 6, 2, 2},
        {2, 2, 7, 7, 3, 2},
        {1, 2, 5, 6, 2, 1},
        {3, 1, 5, 5, 2, 2},
        {2, 2, 9, 6, 3, 3},
        {1, 2, 7, 7, 2, 3},
    }));
    INFO("N = " << N << ", C = " << C << ", H = " << H << ", W = " << W << ", K = " << K << ", S = " << S);
    Rng rng(61);
    const Tensor<4> x = randn<4>({N, C, H, W}, rng);
    MaxPool2D pool(K, S);
    CHECK(check_close("out", pool.forward(x), max_of_every_window(x, K, S)));
}

TEST_CASE("dx matches numerical gradients for overlapping and non-overlapping windows", "[ch06]") {
    using S_t = std::size_t;
    const auto [N, C, H, W, K, S] = GENERATE(table<S_t, S_t, S_t, S_t, S_t, S_t>({
        // {N, C, H, W, K, S}
        {1, 1, 4, 4, 2, 2},  // non-overlapping 2 x 2 windows, stride 2
        {2, 3, 6, 6, 2, 2},  // a batch and channels
        {2, 2, 7, 7, 3, 2},  // overlapping 3 / 2
        {2, 2, 6, 6, 3, 2},  // overlapping 3 / 2 with an unreached row and column
        {1, 2, 5, 5, 2, 1},  // overlapping 2 / 1
        {3, 2, 5, 5, 2, 2},  // odd sizes: row 4 and column 4 unreached
        {2, 1, 6, 9, 3, 3},  // a rectangular input
        {1, 3, 7, 4, 2, 1},  // a rectangular input, overlapping
        {2, 2, 7, 8, 2, 3},  // a stride larger than the window
        {2, 3, 4, 4, 4, 4},  // one window for all
    }));
    std::ostringstream config;
    config << "dx for N=" << N << " C=" << C << " H=" << H << " W=" << W << " K=" << K << " S=" << S;
    INFO(config.str());
    Rng rng(62);
    MaxPool2D pool(K, S);
    Tensor<4> x = distinct_values({N, C, H, W}, rng);
    const std::size_t Ho = (H - K) / S + 1, Wo = (W - K) / S + 1;
    const Tensor<4> dout = randn<4>({N, C, Ho, Wo}, rng);  // a random upstream gradient

    pool.forward(x);
    const Tensor<4> dx = pool.backward(dout);
    const Tensor<4> dx_num = numerical_gradient([&] { return pool.forward(x); }, x, dout);
    CHECK(check_gradient(config.str(), dx, dx_num));
}

TEST_CASE("check_layer_gradients finds dx right and no parameters", "[ch06]") {
    Rng rng(63);
    MaxPool2D pool(3, 2, "pool1");
    Tensor<4> x = distinct_values({2, 3, 9, 7}, rng);
    const Tensor<4> dout = randn<4>({2, 3, 4, 3}, rng);
    const std::vector<Comparison> results = check_layer_gradients(pool, x, dout);
    REQUIRE(results.size() == 1);  // dx only: pooling has no parameters
    CHECK(results[0]);
}

TEST_CASE("rows and columns that no window reaches get gradient zero", "[ch06]") {
    // 5 x 5 input, 2 x 2 windows, stride 2: a 2 x 2 output; row 4 and column 4 are never pooled. They hold
    // the largest values, so pooling them by mistake would change the output.
    const Tensor<2> x = {{1.0, 2.0, 3.0, 4.0, 90.0},
                         {5.0, 6.0, 8.0, 7.0, 91.0},
                         {9.0, 12.0, 10.0, 11.0, 92.0},
                         {14.0, 13.0, 16.0, 15.0, 93.0},
                         {94.0, 95.0, 96.0, 97.0, 98.0}};
    MaxPool2D pool(2);
    const Tensor<4> out = pool.forward(image(x));
    CHECK(out.shape(2) == 2);
    CHECK(out.shape(3) == 2);
    CHECK(check_close("out", out, image(Tensor<2>{{6.0, 8.0}, {14.0, 16.0}})));
    const Tensor<4> dx = pool.backward(image(Tensor<2>{{1.0, 2.0}, {3.0, 4.0}}));
    const Tensor<2> expected = {{0.0, 0.0, 0.0, 0.0, 0.0},
                                {0.0, 1.0, 2.0, 0.0, 0.0},
                                {0.0, 0.0, 0.0, 0.0, 0.0},
                                {3.0, 0.0, 4.0, 0.0, 0.0},
                                {0.0, 0.0, 0.0, 0.0, 0.0}};
    CHECK(check_close("dx", dx, image(expected), 0.0, 0.0));
}

TEST_CASE("every sample and channel sends its gradient within its own plane", "[ch06]") {
    // N = 2, C = 3, a 4 x 4 plane each, 2 x 2 windows. In plane (n, c) the winner of window (i, j) sits at
    // position (3n + c + i + 2j) % 4 of the window, so every plane has its own pattern of winners.
    const std::size_t N = 2, C = 3, H = 4, W = 4, K = 2;
    Tensor<4> x = xt::zeros<double>({N, C, H, W});
    Tensor<4> dout({N, C, 2, 2});
    Tensor<4> expected = xt::zeros<double>({N, C, H, W});
    double small = 0.0;
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < 2; ++i)
                for (std::size_t j = 0; j < 2; ++j) {
                    const std::size_t at = (3 * n + c + i + 2 * j) % 4;
                    for (std::size_t pos = 0; pos < 4; ++pos) {
                        small += 0.01;
                        x(n, c, i * K + pos / K, j * K + pos % K) = pos == at ? 10.0 + small : small;
                    }
                    dout(n, c, i, j) = 1.0 + static_cast<double>(((n * C + c) * 2 + i) * 2 + j);
                    expected(n, c, i * K + at / K, j * K + at % K) = dout(n, c, i, j);
                }
    MaxPool2D pool(K);
    pool.forward(x);
    CHECK(check_close("dx", pool.backward(dout), expected));
}

TEST_CASE("backward uses the winners of the latest forward", "[ch06]") {
    MaxPool2D pool(2);
    pool.forward(image(xt::eval(-worked_x)));  // other winners
    pool.forward(image(worked_x));             // the cache must now hold these
    const Tensor<4> first = pool.backward(image(worked_dout));
    CHECK(check_close("dx", first, image(worked_dx)));
    CHECK(check_close("dx of a second backward", pool.backward(image(worked_dout)), first));
}

TEST_CASE("a dout of the wrong shape names the layer and both shapes", "[ch06]") {
    MaxPool2D pool(2, "pool1");
    const Tensor<4> x = xt::ones<double>({2, 3, 4, 4});
    const Tensor<4> dout_bad = xt::ones<double>({2, 3, 4, 4});
    check_wrong_dout_shape(pool, x, dout_bad,
                           "MaxPool2D 'pool1' backward: dout has shape (2, 3, 4, 4) but must be "
                           "(N=2, C=3, Ho=2, Wo=2)");
}

TEST_CASE("output_size refuses a size smaller than the window", "[ch06][given]") {
    MaxPool2D pool(3, 1, "pool1");
    CHECK(pool.output_size(3) == 1);
    CHECK_THROWS_MATCHES(
        pool.output_size(2), ArgumentError,
        Message("MaxPool2D 'pool1' output_size: size is 2 but must be at least kernel_size = 3, or no window fits"));
}

namespace {

// dx of max pooling computed here, independently of the layer: for every window, the first largest element
// in row-major order gets dout. For inputs without ties and without NaN.
Tensor<4> dx_of_every_window(const Tensor<4>& x, const Tensor<4>& dout, std::size_t K, std::size_t S) {
    Tensor<4> dx = xt::zeros<double>(x.shape());
    for (std::size_t n = 0; n < dout.shape(0); ++n)
        for (std::size_t c = 0; c < dout.shape(1); ++c)
            for (std::size_t i = 0; i < dout.shape(2); ++i)
                for (std::size_t j = 0; j < dout.shape(3); ++j) {
                    std::size_t best_h = i * S, best_w = j * S;
                    for (std::size_t h = i * S; h < i * S + K; ++h)
                        for (std::size_t w = j * S; w < j * S + K; ++w)
                            if (x(n, c, h, w) > x(n, c, best_h, best_w)) {
                                best_h = h;
                                best_w = w;
                            }
                    dx(n, c, best_h, best_w) += dout(n, c, i, j);
                }
    return dx;
}

// Forward and backward of `pool` on x with a random dout, both compared with the oracles above.
void check_pool_against_oracle(MaxPool2D& pool, const Tensor<4>& x, Rng& rng) {
    const std::size_t K = pool.kernel_size(), S = pool.stride();
    const Tensor<4> expected_out = max_of_every_window(x, K, S);
    const Tensor<4> out = pool.forward(x);
    REQUIRE(shape_of(out) == shape_of(expected_out));
    CHECK(check_close("out", out, expected_out, 0.0, 0.0));
    const Tensor<4> dout =
        randn<4>({expected_out.shape(0), expected_out.shape(1), expected_out.shape(2), expected_out.shape(3)}, rng);
    CHECK(check_close("dx", pool.backward(dout), dx_of_every_window(x, dout, K, S), 0.0, 0.0));
}

}  // namespace

TEST_CASE("the maximum is found in every position of the window, also the last row and column", "[ch06]") {
    // 3 x 3 windows, stride 3, on a 6 x 9 input (2 x 3 windows): in window (i, j) of plane (n, c) the largest
    // value sits at position (shift + n + c + i + j) % 9. Over the nine shifts every window, also the last
    // one, has its maximum at every position, also in its last row and last column. A scan that stops one
    // row or column early (p < KH - 1) misses it.
    const std::size_t shift = GENERATE(range(std::size_t{0}, std::size_t{9}));
    INFO("shift " << shift);
    const std::size_t N = 2, C = 2, K = 3, Ho = 2, Wo = 3;
    Tensor<4> x({N, C, Ho * K, Wo * K});
    Tensor<4> dout({N, C, Ho, Wo});
    Tensor<4> expected_out({N, C, Ho, Wo});
    Tensor<4> expected_dx = xt::zeros<double>(x.shape());
    double small = 0.0;
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < Ho; ++i)
                for (std::size_t j = 0; j < Wo; ++j) {
                    const std::size_t at = (shift + n + c + i + j) % (K * K);
                    for (std::size_t pos = 0; pos < K * K; ++pos) {
                        small += 0.01;
                        x(n, c, i * K + pos / K, j * K + pos % K) = pos == at ? 10.0 + small : -small;
                    }
                    expected_out(n, c, i, j) = x(n, c, i * K + at / K, j * K + at % K);
                    dout(n, c, i, j) = 1.0 + static_cast<double>(((n * C + c) * Ho + i) * Wo + j);
                    expected_dx(n, c, i * K + at / K, j * K + at % K) = dout(n, c, i, j);
                }
    MaxPool2D pool(K);
    CHECK(check_close("out", pool.forward(x), expected_out, 0.0, 0.0));
    CHECK(check_close("dx", pool.backward(dout), expected_dx, 0.0, 0.0));
}

TEST_CASE("a window that holds a NaN anywhere gives NaN and its gradient goes to the NaN", "[ch06]") {
    // README.md section 7: as in PyTorch, NaN wins its window wherever it is. A scan with v > best alone keeps a
    // NaN only when it is the window's first element (every comparison with NaN is false).
    const std::size_t at = GENERATE(range(std::size_t{0}, std::size_t{9}));  // the NaN's position in its window
    const bool last_window = GENERATE(false, true);
    INFO("the NaN is at position " << at << " of the " << (last_window ? "last" : "first") << " window");
    // A 1 x 1 x 6 x 6 image, 3 x 3 windows, stride 3: four windows of distinct values.
    Rng rng(64);
    Tensor<4> x = distinct_values({1, 1, 6, 6}, rng);
    const std::size_t top = last_window ? 3 : 0, left = last_window ? 3 : 0;
    x(0, 0, top + at / 3, left + at % 3) = std::nan("");
    MaxPool2D pool(3);
    const Tensor<4> out = pool.forward(x);
    const std::size_t i = top / 3, j = left / 3;
    CHECK(std::isnan(out(0, 0, i, j)));
    // The other windows hold no NaN and keep their maximum.
    Tensor<4> clean = x;
    clean(0, 0, top + at / 3, left + at % 3) = -1e9;
    const Tensor<4> clean_out = max_of_every_window(clean, 3, 3);
    for (std::size_t a = 0; a < 2; ++a)
        for (std::size_t b = 0; b < 2; ++b)
            if (a != i || b != j) CHECK(out(0, 0, a, b) == clean_out(0, 0, a, b));
    // backward: the NaN's window sends its gradient to the NaN's position, and only there.
    const Tensor<4> dout = image(Tensor<2>{{1.0, 2.0}, {3.0, 4.0}});
    const Tensor<4> dx = pool.backward(dout);
    Tensor<4> expected = dx_of_every_window(clean, dout, 3, 3);
    xt::view(expected, 0, 0, xt::range(top, top + 3), xt::range(left, left + 3)) = 0.0;
    expected(0, 0, top + at / 3, left + at % 3) = dout(0, 0, i, j);
    CHECK(check_close("dx", dx, expected, 0.0, 0.0));
}

TEST_CASE("a second forward with another batch size and image size gives the right gradients", "[ch06]") {
    // Sizes kept from the first call (N, H, W, Ho or Wo) give wrong results or read out of range the second time.
    const std::size_t K = GENERATE(2, 3);
    const std::size_t S = GENERATE(1, 2);
    INFO("K = " << K << ", S = " << S);
    Rng rng(65);
    MaxPool2D pool(K, S);
    {
        INFO("first call: N = 4, C = 2, 8 x 8");
        check_pool_against_oracle(pool, distinct_values({4, 2, 8, 8}, rng), rng);
    }
    {
        INFO("second call: N = 3, C = 3, 7 x 11");
        check_pool_against_oracle(pool, distinct_values({3, 3, 7, 11}, rng), rng);
    }
    {
        INFO("third call: N = 5, C = 1, 12 x 6");
        check_pool_against_oracle(pool, distinct_values({5, 1, 12, 6}, rng), rng);
    }
}

TEST_CASE("pooling is right at LeNet's sizes and larger, where small index types overflow", "[ch06]") {
    // A winner stored as h * W + w of the whole image does not fit in one byte for a 24 x 24 image, and a flat
    // index into the whole batch (LeNet's pool1 at batch 64: 64 x 6 x 24 x 24 = 221184) does not fit in two
    // bytes: the layer must stay exact at realistic sizes.
    using S_t = std::size_t;
    const auto [N, C, H, W, K, S] = GENERATE(table<S_t, S_t, S_t, S_t, S_t, S_t>({
        {64, 6, 24, 24, 2, 2},    // LeNet's pool1 on a batch of 64
        {64, 6, 28, 28, 2, 2},    // a little larger
        {64, 1, 100, 100, 2, 2},  // large images
        {2, 2, 100, 60, 3, 2},    // large and rectangular, overlapping
        {3, 2, 40, 36, 16, 8},    // the largest window: positions up to 255
    }));
    INFO("N = " << N << ", C = " << C << ", H = " << H << ", W = " << W << ", K = " << K << ", S = " << S);
    Rng rng(66);
    MaxPool2D pool(K, S);
    check_pool_against_oracle(pool, distinct_values({N, C, H, W}, rng, 1e-3), rng);
}

TEST_CASE("the largest window finds a maximum in its last position", "[ch06]") {
    // 16 x 16 windows: the last position is p * KW + q = 255, the largest number in one byte. A position kept in
    // a signed char (at most 127) sends the gradient to the wrong place.
    const std::size_t K = MaxPool2D::max_kernel_size;
    const std::size_t p = GENERATE(std::size_t{15}, std::size_t{0}, std::size_t{8});
    const std::size_t q = GENERATE(std::size_t{15}, std::size_t{0}, std::size_t{7});
    INFO("the maximum is at (" << p << ", " << q << ") of the window");
    Tensor<4> x({1, 1, K, 2 * K});
    for (std::size_t h = 0; h < K; ++h)
        for (std::size_t w = 0; w < 2 * K; ++w) x(0, 0, h, w) = -static_cast<double>(h * 2 * K + w);
    x(0, 0, p, q) = 5.0;
    x(0, 0, p, K + q) = 7.0;
    MaxPool2D pool(K);
    CHECK(check_close("out", pool.forward(x), image(Tensor<2>{{5.0, 7.0}}), 0.0, 0.0));
    Tensor<4> expected = xt::zeros<double>(x.shape());
    expected(0, 0, p, q) = 1.0;
    expected(0, 0, p, K + q) = -2.0;
    CHECK(check_close("dx", pool.backward(image(Tensor<2>{{1.0, -2.0}})), expected, 0.0, 0.0));
}

TEST_CASE("backward returns a new dx each call and does not add to the last one", "[ch06]") {
    MaxPool2D pool(2, 1);
    pool.forward(image(overlap_x));
    const Tensor<4> first = pool.backward(image(overlap_dout));
    const Tensor<4> second = pool.backward(image(overlap_dout));
    CHECK(check_close("dx of the first backward", first, image(overlap_dx), 0.0, 0.0));
    CHECK(check_close("dx of a second backward (it must not add to the first)", second, image(overlap_dx), 0.0, 0.0));
}
