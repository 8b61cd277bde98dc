// Chapter 5 tests: the convolution layer, as naive loops and as im2col with matrix products.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "05_conv2d/conv2d.hpp"
#include "05_conv2d/conv2d_im2col.hpp"
#include "05_conv2d/conv2d_naive.hpp"
#include "course/correlate2d.hpp"
#include "course/gradcheck.hpp"
#include "course/layer_check.hpp"
#include "course/random.hpp"
#include "support/layer_checks.hpp"

using namespace course;
using namespace course_test;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::Message;
using Catch::Matchers::MessageMatches;

namespace {

// The worked example of README.md section 4: one sample, one channel, one filter, a 3 x 3 input and a
// 2 x 2 kernel. The same x, W and b serve the three cases: stride 1; stride 2; stride 2 with padding 1.
const Tensor<4> worked_x = {{{{1, 2, 0}, {0, 1, 3}, {2, 0, 1}}}};  // (1, 1, 3, 3)
const Tensor<4> worked_W = {{{{1, 2}, {-1, 3}}}};                  // (1, 1, 2, 2)
const Tensor<1> worked_b = {1};

// One convolution to test: the batch, the channels, the filters, the input size, the kernel, stride, padding.
struct Config {
    std::size_t N, C, F, H, W, K;
    int stride, pad;
};

std::string describe(const Config& g) {
    std::ostringstream out;
    out << "N=" << g.N << " C=" << g.C << " F=" << g.F << " H=" << g.H << " W=" << g.W << " K=" << g.K
        << " stride=" << g.stride << " pad=" << g.pad;
    return out.str();
}

// The output size along one axis, written here independently of the code under test.
// The name of an algorithm, for INFO.
const char* algorithm_name(ConvAlgorithm algorithm) {
    return algorithm == ConvAlgorithm::naive ? "naive" : "im2col";
}

std::size_t out_size(std::size_t size, std::size_t K, int stride, int pad) {
    return (size + 2 * static_cast<std::size_t>(pad) - K) / static_cast<std::size_t>(stride) + 1;
}

// The step of the central differences. The convolution is linear in x, in W and in b (double one of them
// and out - b doubles), and for a linear function (f(v + h) - f(v - h)) / 2h is the derivative exactly, for
// every h: there is no truncation error to keep small. What is left is rounding, about 1e-16 |g| / h, so a
// large step is the accurate choice. With the default step of 1e-5, elements of dx that are small because
// of cancellation (1e-4 in a sum of terms of size 1) came out with relative errors of 1e-6.
constexpr double linear_step = 1.0;

// Random x, W, b and an upstream gradient dout for one configuration. A non-zero bias, so that a db that
// is not summed correctly cannot hide.
struct Problem {
    Tensor<4> x, W;
    Tensor<1> b;
    Tensor<4> dout;
};

Problem random_problem(const Config& g, Rng& rng) {
    Problem pr;
    pr.x = randn<4>({g.N, g.C, g.H, g.W}, rng);
    pr.W = randn<4>({g.F, g.C, g.K, g.K}, rng);
    pr.b = randn<1>({g.F}, rng);
    pr.dout = randn<4>({g.N, g.F, out_size(g.H, g.K, g.stride, g.pad), out_size(g.W, g.K, g.stride, g.pad)}, rng);
    return pr;
}

// dx, dW and db of the naive backward pass against central differences of the naive forward pass.
void check_naive_gradients(const Config& g, Rng& rng) {
    INFO(describe(g));
    Problem pr = random_problem(g, rng);
    const ConvGrads grads = conv2d_backward_naive(pr.dout, pr.x, pr.W, g.stride, g.pad);
    auto forward = [&] {
        return conv2d_forward_naive(pr.x, pr.W, pr.b, g.stride, g.pad);
    };
    CHECK(check_gradient("naive dx", grads.dx, numerical_gradient(forward, pr.x, pr.dout, linear_step)));
    CHECK(check_gradient("naive dW", grads.dW, numerical_gradient(forward, pr.W, pr.dout, linear_step)));
    CHECK(check_gradient("naive db", grads.db, numerical_gradient(forward, pr.b, pr.dout, linear_step)));
}

// One channel of one sample as a matrix, for correlate2d_valid.
Tensor<2> plane(const Tensor<4>& t, std::size_t a, std::size_t c) {
    return xt::view(t, a, c, xt::all(), xt::all());
}

// The kernel turned by 180 degrees: flipped(p, q) = k(KH-1-p, KW-1-q).
Tensor<2> flipped(const Tensor<2>& k) {
    const std::size_t KH = k.shape(0), KW = k.shape(1);
    Tensor<2> out({KH, KW});
    for (std::size_t p = 0; p < KH; ++p) {
        for (std::size_t q = 0; q < KW; ++q) out(p, q) = k(KH - 1 - p, KW - 1 - q);
    }
    return out;
}

// README.md section 3.5: dout with stride - 1 zeros between neighbours ("dilated"), placed at (top, left) in a
// zero matrix of rows x cols.
Tensor<2> dilate_into(const Tensor<2>& d, std::size_t stride, std::size_t top, std::size_t left, std::size_t rows,
                      std::size_t cols) {
    Tensor<2> out = xt::zeros<double>({rows, cols});
    for (std::size_t i = 0; i < d.shape(0); ++i) {
        for (std::size_t j = 0; j < d.shape(1); ++j) out(top + i * stride, left + j * stride) = d(i, j);
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// The worked example of README.md section 4, by hand
// ---------------------------------------------------------------------------------------------------

TEST_CASE("the naive forward reproduces the worked example with stride 1", "[ch05]") {
    // out(i, j) = b + x(i, j) W(0, 0) + x(i, j+1) W(0, 1) + x(i+1, j) W(1, 0) + x(i+1, j+1) W(1, 1)
    CHECK(
        check_close("out", conv2d_forward_naive(worked_x, worked_W, worked_b, 1, 0), Tensor<4>{{{{9, 11}, {1, 11}}}}));
}

TEST_CASE("the naive backward reproduces the worked example with stride 1", "[ch05]") {
    const Tensor<4> dout = {{{{1, -1}, {2, 1}}}};
    const ConvGrads grads = conv2d_backward_naive(dout, worked_x, worked_W, 1, 0);
    CHECK(check_close("db (the sum of dout)", grads.db, Tensor<1>{3}));
    CHECK(check_close("dW (x correlated with dout)", grads.dW, Tensor<4>{{{{0, 7}, {3, -1}}}}));
    // With the kernel not flipped, dx would be {{3, -4, 1}, {8, 0, -2}, {4, 4, 1}}.
    CHECK(check_close("dx (dout fully correlated with the flipped W)", grads.dx,
                      Tensor<4>{{{{1, 1, -2}, {1, 9, -1}, {-2, 5, 3}}}}));
}

TEST_CASE("the worked example with stride 2 ignores the last row and column and gives them zero gradient", "[ch05]") {
    // (3 - 2) / 2 + 1 = 1 output: the kernel sits at the top left only; row 2 and column 2 are never read.
    CHECK(check_close("out", conv2d_forward_naive(worked_x, worked_W, worked_b, 2, 0), Tensor<4>{{{{9}}}}));
    const Tensor<4> dout = {{{{2}}}};
    const ConvGrads grads = conv2d_backward_naive(dout, worked_x, worked_W, 2, 0);
    CHECK(check_close("db", grads.db, Tensor<1>{2}));
    CHECK(check_close("dW", grads.dW, Tensor<4>{{{{2, 4}, {0, 2}}}}));
    CHECK(check_close("dx", grads.dx, Tensor<4>{{{{2, 4, 0}, {-2, 6, 0}, {0, 0, 0}}}}));
}

TEST_CASE("the worked example with stride 2 and padding 1 crops the padding from dx", "[ch05]") {
    // The padded input is 5 x 5; (5 - 2) / 2 + 1 = 2 outputs per axis; the four windows do not overlap.
    CHECK(
        check_close("out", conv2d_forward_naive(worked_x, worked_W, worked_b, 2, 1), Tensor<4>{{{{4, -1}, {7, 11}}}}));
    const Tensor<4> dout = {{{{1, -1}, {2, 1}}}};
    const ConvGrads grads = conv2d_backward_naive(dout, worked_x, worked_W, 2, 1);
    CHECK(check_close("db", grads.db, Tensor<1>{3}));
    CHECK(check_close("dW", grads.dW, Tensor<4>{{{{1, 3}, {-2, 6}}}}));
    // dxp (5 x 5) is {{1, 2, -1, -2, 0}, {-1, 3, 1, -3, 0}, {2, 4, 1, 2, 0}, {-2, 6, -1, 3, 0}, {0, 0, 0, 0, 0}};
    // dx is its middle 3 x 3.
    CHECK(check_close("dx", grads.dx, Tensor<4>{{{{3, 1, -3}, {4, 1, 2}, {6, -1, 3}}}}));
}

TEST_CASE("im2col builds the column matrix of the worked example", "[ch05]") {
    const ConvSizes s = conv_sizes("test", worked_x, worked_W, 1, 0);
    // row r = (p, q) of the kernel, column k = (i, j) of the output: cols(r, k) = x(i + p, j + q)
    const Tensor<2> expected = {{1, 2, 0, 1}, {2, 0, 1, 3}, {0, 1, 2, 0}, {1, 3, 0, 1}};
    CHECK(check_close("cols", im2col(zero_pad(worked_x, 0), s), expected));
}

TEST_CASE("Conv2D reproduces the worked example with both algorithms", "[ch05]") {
    const ConvAlgorithm algorithm = GENERATE(ConvAlgorithm::naive, ConvAlgorithm::im2col);
    INFO(algorithm_name(algorithm));
    Rng rng(0);
    Conv2D conv(1, 1, 2, rng, 2, 1, "conv");
    conv.W = worked_W;
    conv.b = worked_b;
    conv.algorithm = algorithm;
    CHECK(check_close("out", conv.forward(worked_x), Tensor<4>{{{{4, -1}, {7, 11}}}}));
    const Tensor<4> dx = conv.backward(Tensor<4>{{{{1, -1}, {2, 1}}}});
    CHECK(check_close("db", conv.db, Tensor<1>{3}));
    CHECK(check_close("dW", conv.dW, Tensor<4>{{{{1, 3}, {-2, 6}}}}));
    CHECK(check_close("dx", dx, Tensor<4>{{{{3, 1, -3}, {4, 1, 2}, {6, -1, 3}}}}));
}

// ---------------------------------------------------------------------------------------------------
// The naive version against central differences
// ---------------------------------------------------------------------------------------------------

TEST_CASE("naive gradients match numerical ones for every batch, channel, stride and padding in the table", "[ch05]") {
    const Config g = GENERATE(values<Config>({
        // {N, C, F, H, W, K, stride, pad}
        // stride 1 and no padding
        {2, 1, 2, 5, 5, 3, 1, 0},
        {2, 3, 2, 6, 6, 3, 1, 0},
        {1, 3, 2, 7, 7, 5, 1, 0},
        {3, 1, 2, 5, 5, 5, 1, 0},
        // padding 1 and 2
        {2, 1, 2, 5, 5, 3, 1, 1},
        {2, 3, 2, 4, 4, 3, 1, 2},
        {1, 3, 2, 5, 5, 5, 1, 2},
        {2, 1, 2, 3, 3, 5, 1, 1},
        // stride 2 and 3
        {2, 1, 2, 7, 7, 3, 2, 0},
        {2, 3, 2, 7, 7, 3, 2, 1},
        {1, 3, 2, 9, 9, 5, 2, 2},
        {1, 2, 2, 10, 10, 3, 3, 1},
        // rectangular inputs where the stride does not fit: an axis where (H + 2 pad - K) is not a multiple of
        // the stride
        {2, 3, 2, 6, 9, 3, 2, 0},
        {2, 1, 2, 8, 5, 3, 2, 1},
        {1, 3, 2, 6, 11, 5, 2, 1},
        {2, 3, 2, 4, 9, 3, 1, 2},
    }));
    Rng rng(51);
    check_naive_gradients(g, rng);
}

TEST_CASE("input rows and columns the stride does not reach get a zero gradient", "[ch05]") {
    // H = 6, W = 8, K = 3, stride 2: Ho = (6 - 3) / 2 + 1 = 2 reads rows 0 to 4, so row 5 is never read;
    // Wo = (8 - 3) / 2 + 1 = 3 reads columns 0 to 6, so column 7 is never read.
    const Config g{2, 2, 3, 6, 8, 3, 2, 0};
    Rng rng(55);
    const Problem pr = random_problem(g, rng);
    Tensor<4> changed = pr.x;  // the same input with other numbers in row 5 and column 7
    xt::view(changed, xt::all(), xt::all(), 5, xt::all()) = 100.0;
    xt::view(changed, xt::all(), xt::all(), xt::all(), 7) = -100.0;
    const Tensor<4> out = conv2d_forward_naive(pr.x, pr.W, pr.b, g.stride, g.pad);
    CHECK(check_close("out with other numbers in the unread row and column",
                      conv2d_forward_naive(changed, pr.W, pr.b, g.stride, g.pad), out));
    const ConvGrads grads = conv2d_backward_naive(pr.dout, pr.x, pr.W, g.stride, g.pad);
    const Tensor<3> row5 = xt::view(grads.dx, xt::all(), xt::all(), 5, xt::all());
    const Tensor<3> col7 = xt::view(grads.dx, xt::all(), xt::all(), xt::all(), 7);
    CHECK(check_close("dx in row 5", row5, xt::zeros<double>(row5.shape()), 0.0, 0.0));
    CHECK(check_close("dx in column 7", col7, xt::zeros<double>(col7.shape()), 0.0, 0.0));
    // and every pixel that is read does get a gradient
    CHECK(xt::amin(xt::abs(xt::view(grads.dx, xt::all(), xt::all(), xt::range(0, 5), xt::range(0, 7))))() > 0.0);
}

TEST_CASE("the naive passes equal the correlations of the README built from correlate2d_valid", "[ch05]") {
    // README.md section 3: out is a strided correlation of xp with W; dW a correlation of xp with the dilated
    // dout; dx the crop of a full correlation of the dilated dout with the flipped kernel.
    const Config g = GENERATE(values<Config>({{2, 2, 2, 5, 6, 3, 1, 0}, {2, 2, 3, 6, 7, 3, 2, 1}}));
    INFO(describe(g));
    Rng rng(56);
    const Problem pr = random_problem(g, rng);
    const std::size_t S = static_cast<std::size_t>(g.stride), pad = static_cast<std::size_t>(g.pad);
    const std::size_t Hp = g.H + 2 * pad, Wp = g.W + 2 * pad, Ho = pr.dout.shape(2), Wo = pr.dout.shape(3);
    const Tensor<4> xp = zero_pad(pr.x, pad);

    Tensor<4> out = xt::zeros<double>(pr.dout.shape());
    Tensor<4> dW = xt::zeros<double>(pr.W.shape());
    Tensor<4> dx = xt::zeros<double>(pr.x.shape());
    for (std::size_t n = 0; n < g.N; ++n) {
        for (std::size_t f = 0; f < g.F; ++f) {
            // dout(n, f) dilated: (Ho - 1) S + 1 rows; and dilated, then padded by K - 1 for the full correlation
            const Tensor<2> dilated = dilate_into(plane(pr.dout, n, f), S, 0, 0, (Ho - 1) * S + 1, (Wo - 1) * S + 1);
            const Tensor<2> dd = dilate_into(plane(pr.dout, n, f), S, g.K - 1, g.K - 1, Hp + g.K - 1, Wp + g.K - 1);
            for (std::size_t c = 0; c < g.C; ++c) {
                const Tensor<2> every = correlate2d_valid(plane(xp, n, c), plane(pr.W, f, c));
                xt::view(out, n, f, xt::all(), xt::all()) +=
                    xt::view(every, xt::range(0, (Ho - 1) * S + 1, S), xt::range(0, (Wo - 1) * S + 1, S));
                const Tensor<2> dW_nfc = correlate2d_valid(plane(xp, n, c), dilated);
                xt::view(dW, f, c, xt::all(), xt::all()) += xt::view(dW_nfc, xt::range(0, g.K), xt::range(0, g.K));
                const Tensor<2> dxp = correlate2d_valid(dd, flipped(plane(pr.W, f, c)));  // (Hp, Wp)
                xt::view(dx, n, c, xt::all(), xt::all()) +=
                    xt::view(dxp, xt::range(pad, pad + g.H), xt::range(pad, pad + g.W));
            }
            xt::view(out, n, f, xt::all(), xt::all()) += pr.b(f);
        }
    }
    CHECK(check_close("out", conv2d_forward_naive(pr.x, pr.W, pr.b, g.stride, g.pad), out));
    const ConvGrads grads = conv2d_backward_naive(pr.dout, pr.x, pr.W, g.stride, g.pad);
    CHECK(check_close("dW", grads.dW, dW));
    CHECK(check_close("dx", grads.dx, dx));
}

// ---------------------------------------------------------------------------------------------------
// im2col and col2im
// ---------------------------------------------------------------------------------------------------

TEST_CASE("im2col puts the rows in the order of W and the columns in the order of out", "[ch05]") {
    // Two samples, two channels, a 2 x 3 kernel, stride 2, padding 1: every index of the layout matters.
    Rng rng(61);
    const Tensor<4> x = randn<4>({2, 2, 4, 5}, rng);
    const Tensor<4> W = randn<4>({3, 2, 2, 3}, rng);
    const ConvSizes s = conv_sizes("test", x, W, 2, 1);
    const Tensor<4> xp = zero_pad(x, 1);
    const Tensor<2> cols = im2col(xp, s);
    REQUIRE(shape_of(cols) == Shape{std::size_t{2} * 2 * 3, 2 * s.Ho * s.Wo});
    Tensor<2> expected = xt::zeros<double>(cols.shape());
    for (std::size_t r = 0; r < cols.shape(0); ++r) {
        const std::size_t c = r / (std::size_t{2} * 3), p = (r / 3) % 2, q = r % 3;  // r = (c KH + p) KW + q
        for (std::size_t k = 0; k < cols.shape(1); ++k) {
            const std::size_t n = k / (s.Ho * s.Wo), i = (k / s.Wo) % s.Ho, j = k % s.Wo;  // k = (n Ho + i) Wo + j
            expected(r, k) = xp(n, c, 2 * i + p, 2 * j + q);
        }
    }
    CHECK(check_close("cols", cols, expected));
}

TEST_CASE("col2im of ones counts the windows that contain each pixel", "[ch05]") {
    const ConvSizes stride1 = conv_sizes("test", worked_x, worked_W, 1, 0);
    CHECK(check_close("windows per pixel with stride 1", col2im(xt::ones<double>({4, 4}), stride1),
                      Tensor<4>{{{{1, 2, 1}, {2, 4, 2}, {1, 2, 1}}}}));
    const ConvSizes stride2 = conv_sizes("test", worked_x, worked_W, 2, 0);
    CHECK(check_close("windows per pixel with stride 2", col2im(xt::ones<double>({4, 1}), stride2),
                      Tensor<4>{{{{1, 1, 0}, {1, 1, 0}, {0, 0, 0}}}}));
    // With padding, col2im returns the gradient of the padded input, border included.
    const Tensor<4> x5 = xt::zeros<double>({1, 1, 5, 5});
    const Tensor<4> W3 = xt::zeros<double>({1, 1, 3, 3});
    const ConvSizes padded = conv_sizes("test", x5, W3, 2, 1);  // Hp = 7, Ho = (7 - 3) / 2 + 1 = 3
    const Tensor<4> counts = col2im(xt::ones<double>({9, 9}), padded);
    REQUIRE(shape_of(counts) == Shape{1, 1, 7, 7});
    const Tensor<1> row2 = xt::view(counts, 0, 0, 2, xt::all());  // where two window rows overlap
    CHECK(check_close("windows per pixel in row 2 of the padded input", row2, Tensor<1>{2, 2, 4, 2, 4, 2, 2}));
}

TEST_CASE("col2im is the adjoint of im2col", "[ch05]") {
    // For every xp and every Y: sum(im2col(xp) * Y) = sum(xp * col2im(Y)). This is what makes col2im the
    // backward pass of im2col (README.md section 7).
    const Config g = GENERATE(values<Config>({
        {2, 3, 1, 5, 5, 3, 1, 0},
        {2, 2, 1, 6, 7, 3, 2, 1},
        {1, 3, 1, 7, 5, 5, 2, 2},
        {3, 1, 1, 8, 8, 2, 3, 1},
    }));
    INFO(describe(g));
    Rng rng(62);
    const Tensor<4> x = randn<4>({g.N, g.C, g.H, g.W}, rng);
    const Tensor<4> W = xt::zeros<double>({std::size_t{1}, g.C, g.K, g.K});
    const ConvSizes s = conv_sizes("test", x, W, g.stride, g.pad);
    const Tensor<4> xp = randn<4>({g.N, g.C, s.Hp, s.Wp}, rng);
    const Tensor<2> Y = randn<2>({g.C * g.K * g.K, g.N * s.Ho * s.Wo}, rng);
    const double left = xt::sum(im2col(xp, s) * Y)();
    const double right = xt::sum(xp * col2im(Y, s))();
    CHECK(check_close("sum(im2col(xp) * Y) against sum(xp * col2im(Y))", Tensor<1>{left}, Tensor<1>{right}));
}

// ---------------------------------------------------------------------------------------------------
// im2col against the naive version, and against central differences
// ---------------------------------------------------------------------------------------------------

namespace {
// Random configurations: every combination of sizes the layer allows, within small limits.
std::vector<Config> random_configs(Rng& rng, std::size_t count) {
    std::vector<Config> configs;
    while (configs.size() < count) {
        Config g{1 + rng.index(3),
                 1 + rng.index(4),
                 1 + rng.index(4),
                 1 + rng.index(10),
                 1 + rng.index(10),
                 1 + rng.index(5),
                 static_cast<int>(1 + rng.index(3)),
                 static_cast<int>(rng.index(3))};
        if (g.K <= g.H + 2 * static_cast<std::size_t>(g.pad) && g.K <= g.W + 2 * static_cast<std::size_t>(g.pad)) {
            configs.push_back(g);
        }
    }
    return configs;
}
}  // namespace

TEST_CASE("im2col forward agrees with the naive forward on random configurations", "[ch05]") {
    Rng rng(71);
    for (const Config& g : random_configs(rng, 40)) {
        INFO(describe(g));
        const Problem pr = random_problem(g, rng);
        CHECK(check_close("out (im2col against naive)", conv2d_forward_im2col(pr.x, pr.W, pr.b, g.stride, g.pad),
                          conv2d_forward_naive(pr.x, pr.W, pr.b, g.stride, g.pad), 1e-10, 1e-12));
    }
}

TEST_CASE("im2col backward agrees with the naive backward on random configurations", "[ch05]") {
    Rng rng(72);
    for (const Config& g : random_configs(rng, 40)) {
        INFO(describe(g));
        const Problem pr = random_problem(g, rng);
        const ConvGrads fast = conv2d_backward_im2col(pr.dout, pr.x, pr.W, g.stride, g.pad);
        const ConvGrads naive = conv2d_backward_naive(pr.dout, pr.x, pr.W, g.stride, g.pad);
        // The relative error of the gradient checker, with a threshold of 1e-10 instead of 1e-7: both sides are
        // exact formulas, they differ only by the order of the additions.
        CHECK(check_gradient("dx: im2col against naive", fast.dx, naive.dx, 1e-10));
        CHECK(check_gradient("dW: im2col against naive", fast.dW, naive.dW, 1e-10));
        CHECK(check_gradient("db: im2col against naive", fast.db, naive.db, 1e-10));
    }
}

TEST_CASE("im2col gradients match numerical ones", "[ch05]") {
    const Config g = GENERATE(values<Config>({
        {2, 3, 2, 5, 5, 3, 1, 0},
        {2, 3, 2, 7, 6, 3, 2, 1},
        {1, 1, 2, 9, 8, 5, 2, 2},
    }));
    INFO(describe(g));
    Rng rng(73);
    Problem pr = random_problem(g, rng);
    const ConvGrads grads = conv2d_backward_im2col(pr.dout, pr.x, pr.W, g.stride, g.pad);
    auto forward = [&] {
        return conv2d_forward_im2col(pr.x, pr.W, pr.b, g.stride, g.pad);
    };
    CHECK(check_gradient("im2col dx", grads.dx, numerical_gradient(forward, pr.x, pr.dout, linear_step)));
    CHECK(check_gradient("im2col dW", grads.dW, numerical_gradient(forward, pr.W, pr.dout, linear_step)));
    CHECK(check_gradient("im2col db", grads.db, numerical_gradient(forward, pr.b, pr.dout, linear_step)));
}

// ---------------------------------------------------------------------------------------------------
// The layer Conv2D
// ---------------------------------------------------------------------------------------------------

TEST_CASE("Conv2D gradients match numerical ones with both algorithms", "[ch05]") {
    const ConvAlgorithm algorithm = GENERATE(ConvAlgorithm::naive, ConvAlgorithm::im2col);
    INFO(algorithm_name(algorithm));
    Rng rng(81);
    Conv2D conv(3, 2, 3, rng, 2, 1, "conv");
    conv.b = randn<1>({2}, rng);
    conv.algorithm = algorithm;
    Tensor<4> x = randn<4>({2, 3, 7, 6}, rng);
    const Tensor<4> dout = randn<4>({2, 2, 4, 3}, rng);  // Ho = (7 + 2 - 3) / 2 + 1 = 4, Wo = 3 (floor)
    for (const Comparison& c : check_layer_gradients(conv, x, dout, default_threshold, linear_step)) CHECK(c);
}

TEST_CASE("Conv2D backward overwrites the gradients instead of adding to them", "[ch05]") {
    Rng rng(82);
    Conv2D conv(2, 3, 3, rng, 1, 1, "conv");
    const Tensor<4> x = randn<4>({2, 2, 5, 5}, rng);
    const Tensor<4> dout = randn<4>({2, 3, 5, 5}, rng);
    conv.forward(x);
    conv.backward(dout);
    const Tensor<4> dW = conv.dW;
    const Tensor<1> db = conv.db;
    conv.backward(dout);  // the same batch again: the same gradient, not twice it
    CHECK(check_close("dW after a second backward", conv.dW, dW));
    CHECK(check_close("db after a second backward", conv.db, db));
}

TEST_CASE("Conv2D backward uses the input of the latest forward", "[ch05]") {
    const ConvAlgorithm algorithm = GENERATE(ConvAlgorithm::naive, ConvAlgorithm::im2col);
    INFO(algorithm_name(algorithm));
    Rng rng(0);
    Conv2D conv(1, 1, 2, rng, 1, 0, "conv");
    conv.W = worked_W;
    conv.algorithm = algorithm;
    conv.forward(xt::ones<double>({1, 1, 3, 3}));
    conv.forward(worked_x);  // the cache must now hold worked_x (and its column matrix)
    conv.backward(Tensor<4>{{{{1, -1}, {2, 1}}}});
    CHECK(check_close("dW", conv.dW, Tensor<4>{{{{0, 7}, {3, -1}}}}));
}

TEST_CASE("Conv2D backward follows the algorithm of its forward", "[ch05]") {
    Rng rng(83);
    Conv2D conv(2, 2, 3, rng, 2, 1, "conv");
    const Tensor<4> x = randn<4>({2, 2, 6, 6}, rng);
    const Tensor<4> dout = randn<4>({2, 2, 3, 3}, rng);
    conv.algorithm = ConvAlgorithm::naive;
    conv.forward(x);
    conv.algorithm = ConvAlgorithm::im2col;  // changed between forward and backward: no column matrix cached
    const Tensor<4> dx = conv.backward(dout);
    const ConvGrads expected = conv2d_backward_naive(dout, x, conv.W, 2, 1);
    CHECK(check_close("dx", dx, expected.dx));
    CHECK(check_close("dW", conv.dW, expected.dW));
}

TEST_CASE("a dout of the wrong shape names the layer and both shapes", "[ch05]") {
    Rng rng(84);
    Conv2D conv(1, 2, 3, rng, 1, 0, "conv1");
    const Tensor<4> x = xt::ones<double>({4, 1, 6, 6});
    const Tensor<4> dout_bad = xt::ones<double>({4, 2, 6, 6});  // the input's size, not the output's
    check_wrong_dout_shape(conv, x, dout_bad,
                           "Conv2D 'conv1' backward: dout has shape (4, 2, 6, 6) but must be (N=4, F=2, Ho=4, Wo=4)");
}

// ---------------------------------------------------------------------------------------------------
// Given code: argument checks, sizes, helpers, initialization
// ---------------------------------------------------------------------------------------------------

TEST_CASE("an input with the wrong number of channels names the layer and both shapes", "[ch05][given]") {
    Rng rng(91);
    Conv2D conv(3, 2, 3, rng, 1, 0, "conv1");
    const Tensor<4> x_bad = xt::ones<double>({2, 1, 8, 8});
    check_shape_error([&] { return conv.forward(x_bad); },
                      "Conv2D 'conv1' forward: x has shape (2, 1, 8, 8) but must be (N, C=3, H, W)");
    const Tensor<4> W = xt::ones<double>({2, 3, 3, 3});
    check_shape_error([&] { return conv2d_forward_naive(x_bad, W, xt::zeros<double>({2})); },
                      "conv2d_forward_naive: x has shape (2, 1, 8, 8) but must be (N, C=3, H, W)");
    CHECK_THROWS_AS(conv2d_backward_im2col(xt::ones<double>({2, 2, 6, 6}), x_bad, W), ShapeError);
}

TEST_CASE("a kernel larger than the padded input is a clear error", "[ch05][given]") {
    Rng rng(92);
    Conv2D conv(1, 2, 5, rng, 1, 0, "conv1");
    const Tensor<4> x = xt::ones<double>({1, 1, 4, 6});
    check_shape_error([&] { return conv.forward(x); },
                      "Conv2D 'conv1' forward: the kernel (KH=5, KW=5) is larger than the padded input "
                      "(H + 2 pad = 4, W + 2 pad = 6): x has shape (1, 1, 4, 6) and padding is 0");
    const Tensor<4> W = xt::ones<double>({2, 1, 5, 5});
    CHECK_THROWS_AS(conv2d_forward_naive(x, W, xt::zeros<double>({2}), 1, 0), ShapeError);
    // With padding 1 the padded input is 6 x 8, and the 5 x 5 kernel fits.
    CHECK_NOTHROW(conv_sizes("test", x, W, 1, 1));
}

TEST_CASE("a zero or negative stride or padding or size is a clear error", "[ch05][given]") {
    SECTION("the constructor of Conv2D names the layer and the argument") {
        const auto [in, out, kernel, stride, pad, message] = GENERATE(table<int, int, int, int, int, std::string>({
            {1, 2, 3, 0, 0, "Conv2D 'conv1' constructor: stride must be at least 1, not 0"},
            {1, 2, 3, -2, 0, "Conv2D 'conv1' constructor: stride must be at least 1, not -2"},
            {1, 2, 3, 1, -1, "Conv2D 'conv1' constructor: padding must be 0 or more, not -1"},
            {0, 2, 3, 1, 0, "Conv2D 'conv1' constructor: in_channels must be at least 1, not 0"},
            {1, -6, 3, 1, 0, "Conv2D 'conv1' constructor: out_channels must be at least 1, not -6"},
            {1, 2, 0, 1, 0, "Conv2D 'conv1' constructor: kernel_size must be at least 1, not 0"},
        }));
        Rng rng(93);
        CHECK_THROWS_MATCHES(Conv2D(in, out, kernel, rng, stride, pad, "conv1"), ArgumentError, Message(message));
    }
    SECTION("the convolution functions name the function") {
        const Tensor<4> x = xt::ones<double>({1, 1, 5, 5});
        const Tensor<4> W = xt::ones<double>({2, 1, 3, 3});
        const Tensor<1> b = xt::zeros<double>({2});
        CHECK_THROWS_MATCHES(conv2d_forward_naive(x, W, b, 0, 0), ArgumentError,
                             Message("conv2d_forward_naive: stride must be at least 1, not 0"));
        CHECK_THROWS_MATCHES(conv2d_forward_im2col(x, W, b, -1, 0), ArgumentError,
                             Message("conv2d_forward_im2col: stride must be at least 1, not -1"));
        CHECK_THROWS_MATCHES(conv2d_backward_naive(xt::ones<double>({1, 2, 3, 3}), x, W, 1, -1), ArgumentError,
                             Message("conv2d_backward_naive: padding must be 0 or more, not -1"));
    }
}

TEST_CASE("the output size rounds down when the stride does not fit", "[ch05][given]") {
    CHECK(conv_output_size(28, 5, 1, 0) == 24);  // LeNet's conv1
    CHECK(conv_output_size(12, 5, 1, 0) == 8);   // LeNet's conv2
    CHECK(conv_output_size(6, 3, 2, 0) == 2);    // (6 - 3) / 2 = 1.5 rounds down to 1: row 5 is not read
    CHECK(conv_output_size(7, 3, 2, 0) == 3);    // fits exactly
    CHECK(conv_output_size(5, 3, 1, 1) == 5);    // padding 1 keeps the size with a 3 x 3 kernel
    CHECK(conv_output_size(3, 2, 2, 1) == 2);    // the worked example with padding
    const Tensor<4> x = xt::zeros<double>({2, 3, 6, 9});
    const Tensor<4> W = xt::zeros<double>({4, 3, 3, 3});
    const ConvSizes s = conv_sizes("test", x, W, 2, 1);
    CHECK(s.Hp == 8);
    CHECK(s.Wp == 11);
    CHECK(s.Ho == 3);  // (8 - 3) / 2 + 1
    CHECK(s.Wo == 5);  // (11 - 3) / 2 + 1
    CHECK(s.N == 2);
    CHECK(s.F == 4);
}

TEST_CASE("zero_pad surrounds every image with zeros", "[ch05][given]") {
    const Tensor<4> xp = zero_pad(worked_x, 1);
    REQUIRE(shape_of(xp) == Shape{1, 1, 5, 5});
    CHECK(check_close(
        "xp", xp, Tensor<4>{{{{0, 0, 0, 0, 0}, {0, 1, 2, 0, 0}, {0, 0, 1, 3, 0}, {0, 2, 0, 1, 0}, {0, 0, 0, 0, 0}}}}));
    CHECK(check_close("zero_pad(x, 0) is x", zero_pad(worked_x, 0), worked_x));
}

TEST_CASE("the reshaping helpers of im2col are each other's inverse", "[ch05][given]") {
    Rng rng(94);
    const Tensor<4> W = randn<4>({4, 3, 2, 5}, rng);
    const Tensor<4> x = randn<4>({2, 3, 6, 7}, rng);
    const ConvSizes s = conv_sizes("test", x, W, 1, 0);
    const Tensor<2> W2 = weights_as_matrix(W);
    REQUIRE(shape_of(W2) == Shape{4, 30});
    CHECK(W2(2, (1 * 2 + 1) * 5 + 3) == W(2, 1, 1, 3));  // W2(f, (c KH + p) KW + q) = W(f, c, p, q)
    CHECK(check_close("matrix_as_weights(weights_as_matrix(W))", matrix_as_weights(W2, s), W, 0.0, 0.0));
    const Tensor<4> out = randn<4>({2, 4, s.Ho, s.Wo}, rng);
    const Tensor<2> out2 = batch_to_rows(out);
    REQUIRE(shape_of(out2) == Shape{4, std::size_t{2} * 5 * 3});
    CHECK(out2(3, (1 * s.Ho + 2) * s.Wo + 1) == out(1, 3, 2, 1));  // out2(f, (n Ho + i) Wo + j) = out(n, f, i, j)
    CHECK(check_close("rows_to_batch(batch_to_rows(out))", rows_to_batch(out2, s), out, 0.0, 0.0));
}

TEST_CASE("backward before forward is a clear error", "[ch05][given]") {
    Rng rng(95);
    Conv2D conv(1, 2, 3, rng, 1, 0, "conv1");
    check_backward_before_forward(conv, Tensor<4>(xt::ones<double>({1, 2, 3, 3})), "Conv2D 'conv1'");
}

TEST_CASE("params_and_grads names W and b and shares their memory", "[ch05][given]") {
    Rng rng(96);
    Conv2D conv(3, 4, 5, rng, 1, 0, "conv2");
    std::vector<ParamRef> params = conv.params_and_grads();
    REQUIRE(params.size() == 2);
    SECTION("the names and shapes are those of W and b") {
        CHECK(params[0].name == "conv2.W");
        CHECK(params[0].shape == Shape{4, 3, 5, 5});
        CHECK(params[1].name == "conv2.b");
        CHECK(params[1].shape == Shape{4});
    }
    SECTION("a write to a value changes the layer's W, and the gradients are the layer's dW and db") {
        params[0].value[4 * 3 * 5 * 5 - 1] = 42.0;  // the last element of W, (3, 2, 4, 4)
        CHECK(conv.W(3, 2, 4, 4) == 42.0);
        CHECK(params[0].grad.data() == conv.dW.data());
        CHECK(params[1].grad.data() == conv.db.data());
    }
    SECTION("the sizes and the algorithm are those of the constructor and the default") {
        CHECK(conv.in_channels() == 3);
        CHECK(conv.out_channels() == 4);
        CHECK(conv.kernel_size() == 5);
        CHECK(conv.algorithm == ConvAlgorithm::im2col);
    }
}

TEST_CASE("weights start with standard deviation sqrt(2 / (C KH KW)) and a zero bias", "[ch05][given]") {
    Rng rng(97);
    const int C = 8, F = 128, K = 5;
    Conv2D conv(C, F, K, rng);
    SECTION("W has mean 0 and standard deviation sqrt(2 / (C KH KW)), b is 0") {
        const double expected = std::sqrt(2.0 / (C * K * K));
        CHECK(std::abs(xt::mean(conv.W)()) < 0.05 * expected);
        CHECK(xt::stddev(conv.W)() == Catch::Approx(expected).epsilon(0.02));
        CHECK(xt::amax(xt::abs(conv.b))() == 0.0);
    }
    SECTION("the same seed gives the same W") {
        Rng same(97);
        Conv2D again(C, F, K, same);
        CHECK(check_close("the same seed gives the same W", again.W, conv.W, 0.0, 0.0));
    }
}

TEST_CASE("an empty batch or a bias of the wrong shape is refused before any convolution runs", "[ch05][given]") {
    Rng rng(31);
    Conv2D conv(1, 2, 3, rng, 1, 0, "conv1");
    const Tensor<4> empty = xt::zeros<double>({0, 1, 5, 5});
    check_shape_error([&] { return conv.forward(empty); },
                      "Conv2D 'conv1' forward: x has shape (0, 1, 5, 5) but must be (N>=1, C=1, H, W): a batch holds "
                      "at least one sample");
    CHECK_THROWS_AS(conv2d_forward_naive(empty, conv.W, conv.b), ShapeError);
    const Tensor<4> no_dout = xt::zeros<double>({0, 2, 3, 3});
    CHECK_THROWS_AS(conv2d_backward_im2col(no_dout, empty, conv.W), ShapeError);
    const Tensor<4> x = xt::ones<double>({1, 1, 5, 5});
    const Tensor<1> b_bad = xt::zeros<double>({3});
    check_shape_error([&] { return conv2d_forward_naive(x, conv.W, b_bad); },
                      "conv2d_forward_naive: b has shape (3) but must be (F=2)");
    check_shape_error([&] { return conv2d_forward_im2col(x, conv.W, b_bad); },
                      "conv2d_forward_im2col: b has shape (3) but must be (F=2)");
}

TEST_CASE("conv_output_size refuses a zero stride and a kernel larger than the padded input", "[ch05][given]") {
    CHECK(conv_output_size(6, 3, 2, 0) == 2);
    CHECK(conv_output_size(2, 4, 1, 1) == 1);
    CHECK_THROWS_AS(conv_output_size(6, 3, 0, 0), ArgumentError);
    CHECK_THROWS_AS(conv_output_size(4, 0, 1, 0), ArgumentError);
    CHECK_THROWS_MATCHES(conv_output_size(2, 5, 1, 1), ArgumentError,
                         Message("conv_output_size: needs stride >= 1 and 1 <= kernel <= size + 2 pad, "
                                 "but stride = 1, kernel = 5, size = 2, pad = 1"));
}

TEST_CASE("im2col and col2im refuse sizes that do not fit together", "[ch05][given]") {
    Rng rng(32);
    const Tensor<4> x = rand_uniform<4>({2, 1, 5, 5}, rng);
    const Tensor<4> W = rand_uniform<4>({3, 1, 3, 3}, rng);
    ConvSizes s = conv_sizes("test", x, W, 1, 0);
    s.Ho += 1;  // one output row too many: im2col would read below the image
    CHECK_THROWS_MATCHES(im2col(x, s), ArgumentError,
                         Message("im2col: the sizes s do not fit together: Ho x Wo is 4 x 3 but (Hp - KH) / stride + 1 "
                                 "x (Wp - KW) / stride + 1 is 3 x 3 (make s with conv_sizes())"));
    const Tensor<2> dcols = xt::zeros<double>({9, 2 * 4 * 3});
    CHECK_THROWS_AS(col2im(dcols, s), ArgumentError);
    ConvSizes padded = conv_sizes("test", x, W, 1, 0);
    padded.Hp = 7;  // as if padded, but pad is 0
    CHECK_THROWS_MATCHES(im2col(x, padded), ArgumentError,
                         MessageMatches(ContainsSubstring("Hp x Wp is 7 x 5 but H + 2 pad x W + 2 pad is 5 x 5")));
    ConvSizes still = conv_sizes("test", x, W, 1, 0);
    still.stride = 0;
    CHECK_THROWS_MATCHES(col2im(xt::zeros<double>({9, 18}), still), ArgumentError,
                         MessageMatches(ContainsSubstring("col2im: the sizes s do not fit together: stride is 0")));
}

// ---------------------------------------------------------------------------------------------------
// Kernels that are not square, inputs that are not square, the last row, column, channel and sample,
// a second call with other sizes, and realistic sizes
// ---------------------------------------------------------------------------------------------------

namespace {

// One convolution with its own kernel height and width: KH != KW catches one used where the other belongs.
struct RectConfig {
    std::size_t N, C, F, H, W, KH, KW;
    int stride, pad;
};

std::string describe(const RectConfig& g) {
    std::ostringstream out;
    out << "N=" << g.N << " C=" << g.C << " F=" << g.F << " H=" << g.H << " W=" << g.W << " KH=" << g.KH
        << " KW=" << g.KW << " stride=" << g.stride << " pad=" << g.pad;
    return out.str();
}

// The convolution and its gradients computed here in the simplest way, independent of the code under test:
// each output (n, f, i, j) adds x(n, c, i S + p - pad, j S + q - pad) W(f, c, p, q) over the pixels inside the
// image, and backward sends dout(n, f, i, j) back along the same products.
struct Oracle {
    Tensor<4> out;
    ConvGrads grads;
};

Oracle conv_oracle(const Tensor<4>& x, const Tensor<4>& W, const Tensor<1>& b, const Tensor<4>& dout, int stride,
                   int pad) {
    const std::size_t N = x.shape(0), C = x.shape(1), H = x.shape(2), Wd = x.shape(3);
    const std::size_t F = W.shape(0), KH = W.shape(2), KW = W.shape(3);
    const auto S = static_cast<std::ptrdiff_t>(stride), P = static_cast<std::ptrdiff_t>(pad);
    const std::size_t Ho = out_size(H, KH, stride, pad), Wo = out_size(Wd, KW, stride, pad);
    Oracle o{xt::zeros<double>({N, F, Ho, Wo}),
             {xt::zeros<double>(x.shape()), xt::zeros<double>(W.shape()), xt::zeros<double>({F})}};
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t i = 0; i < Ho; ++i)
                for (std::size_t j = 0; j < Wo; ++j) {
                    const double d = dout(n, f, i, j);
                    double sum = b(f);
                    o.grads.db(f) += d;
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t p = 0; p < KH; ++p)
                            for (std::size_t q = 0; q < KW; ++q) {
                                const std::ptrdiff_t h =
                                    static_cast<std::ptrdiff_t>(i) * S + static_cast<std::ptrdiff_t>(p) - P;
                                const std::ptrdiff_t w =
                                    static_cast<std::ptrdiff_t>(j) * S + static_cast<std::ptrdiff_t>(q) - P;
                                if (h < 0 || w < 0 || h >= static_cast<std::ptrdiff_t>(H) ||
                                    w >= static_cast<std::ptrdiff_t>(Wd)) {
                                    continue;  // a zero of the padding
                                }
                                const auto hu = static_cast<std::size_t>(h), wu = static_cast<std::size_t>(w);
                                sum += x(n, c, hu, wu) * W(f, c, p, q);
                                o.grads.dW(f, c, p, q) += d * x(n, c, hu, wu);
                                o.grads.dx(n, c, hu, wu) += d * W(f, c, p, q);
                            }
                    o.out(n, f, i, j) = sum;
                }
    return o;
}

Problem random_problem(const RectConfig& g, Rng& rng) {
    Problem pr;
    pr.x = randn<4>({g.N, g.C, g.H, g.W}, rng);
    pr.W = randn<4>({g.F, g.C, g.KH, g.KW}, rng);
    pr.b = randn<1>({g.F}, rng);
    pr.dout = randn<4>({g.N, g.F, out_size(g.H, g.KH, g.stride, g.pad), out_size(g.W, g.KW, g.stride, g.pad)}, rng);
    return pr;
}

// Every function of the chapter on one problem against the oracle: the naive and the im2col forward and
// backward, and the layer with both algorithms (through its W and b; the layer itself takes one kernel size).
void check_all_against_oracle(const RectConfig& g, const Problem& pr, double rtol = 1e-10) {
    INFO(describe(g));
    const Oracle o = conv_oracle(pr.x, pr.W, pr.b, pr.dout, g.stride, g.pad);
    CHECK(check_close("naive out", conv2d_forward_naive(pr.x, pr.W, pr.b, g.stride, g.pad), o.out, rtol, 1e-12));
    CHECK(check_close("im2col out", conv2d_forward_im2col(pr.x, pr.W, pr.b, g.stride, g.pad), o.out, rtol, 1e-12));
    const ConvGrads naive = conv2d_backward_naive(pr.dout, pr.x, pr.W, g.stride, g.pad);
    CHECK(check_close("naive dx", naive.dx, o.grads.dx, rtol, 1e-12));
    CHECK(check_close("naive dW", naive.dW, o.grads.dW, rtol, 1e-12));
    CHECK(check_close("naive db", naive.db, o.grads.db, rtol, 1e-12));
    const ConvGrads fast = conv2d_backward_im2col(pr.dout, pr.x, pr.W, g.stride, g.pad);
    CHECK(check_close("im2col dx", fast.dx, o.grads.dx, rtol, 1e-12));
    CHECK(check_close("im2col dW", fast.dW, o.grads.dW, rtol, 1e-12));
    CHECK(check_close("im2col db", fast.db, o.grads.db, rtol, 1e-12));
}

}  // namespace

TEST_CASE("kernels with KH != KW and inputs with H != W give the right outputs and gradients", "[ch05]") {
    // Every kernel in the other tests is square: a KH used where KW belongs (or Ho for Wo, H for W) shows only
    // here. Tall and wide kernels, tall and wide inputs, strides and paddings where Ho != Wo.
    const RectConfig g = GENERATE(values<RectConfig>({
        // {N, C, F, H, W, KH, KW, stride, pad}
        {2, 2, 3, 6, 8, 2, 3, 1, 0},
        {2, 2, 3, 8, 6, 3, 2, 1, 0},
        {1, 3, 2, 7, 9, 1, 4, 1, 0},
        {2, 1, 2, 9, 7, 4, 1, 1, 0},
        {2, 2, 2, 7, 10, 3, 5, 2, 0},
        {2, 2, 2, 10, 7, 5, 3, 2, 1},
        {3, 2, 2, 5, 11, 2, 4, 3, 2},
        {1, 2, 3, 4, 4, 2, 3, 1, 1},  // a square input, a wide kernel: Ho != Wo
        {2, 3, 2, 6, 5, 5, 2, 2, 2},
    }));
    Rng rng(101);
    check_all_against_oracle(g, random_problem(g, rng));
}

TEST_CASE("im2col and col2im keep their layouts with KH != KW", "[ch05]") {
    // A tall kernel (3 x 2) and a wide one (2 x 4), on an input with H != W: cols(r, k) = xp(n, c, i S + p,
    // j S + q) with r = (c KH + p) KW + q and k = (n Ho + i) Wo + j, and col2im its adjoint.
    const RectConfig g = GENERATE(values<RectConfig>({
        {2, 2, 1, 7, 5, 3, 2, 2, 1},
        {2, 3, 1, 5, 9, 2, 4, 1, 0},
        {1, 2, 1, 6, 6, 4, 1, 2, 2},
    }));
    INFO(describe(g));
    Rng rng(102);
    const Tensor<4> x = randn<4>({g.N, g.C, g.H, g.W}, rng);
    const Tensor<4> W = xt::zeros<double>({std::size_t{1}, g.C, g.KH, g.KW});
    const ConvSizes s = conv_sizes("test", x, W, g.stride, g.pad);
    const Tensor<4> xp = zero_pad(x, s.pad);
    const Tensor<2> cols = im2col(xp, s);
    REQUIRE(shape_of(cols) == Shape{g.C * g.KH * g.KW, g.N * s.Ho * s.Wo});
    Tensor<2> expected(cols.shape());
    for (std::size_t r = 0; r < cols.shape(0); ++r) {
        const std::size_t c = r / (g.KH * g.KW), p = (r / g.KW) % g.KH, q = r % g.KW;
        for (std::size_t k = 0; k < cols.shape(1); ++k) {
            const std::size_t n = k / (s.Ho * s.Wo), i = (k / s.Wo) % s.Ho, j = k % s.Wo;
            expected(r, k) = xp(n, c, i * s.stride + p, j * s.stride + q);
        }
    }
    CHECK(check_close("cols", cols, expected, 0.0, 0.0));
    // col2im: every entry of dcols goes back to the pixel it was copied from, added up.
    const Tensor<2> dcols = randn<2>({cols.shape(0), cols.shape(1)}, rng);
    Tensor<4> expected_dxp = xt::zeros<double>(xp.shape());
    for (std::size_t r = 0; r < cols.shape(0); ++r) {
        const std::size_t c = r / (g.KH * g.KW), p = (r / g.KW) % g.KH, q = r % g.KW;
        for (std::size_t k = 0; k < cols.shape(1); ++k) {
            const std::size_t n = k / (s.Ho * s.Wo), i = (k / s.Wo) % s.Ho, j = k % s.Wo;
            expected_dxp(n, c, i * s.stride + p, j * s.stride + q) += dcols(r, k);
        }
    }
    CHECK(check_close("dxp = col2im(dcols)", col2im(dcols, s), expected_dxp, 1e-12, 1e-14));
}

TEST_CASE("a value in the last row, column, channel or sample reaches the output and the gradients", "[ch05]") {
    // Sparse inputs: x is zero except one pixel, W zero except one tap, dout zero except one position, each in
    // its last row, column, channel or sample. A loop that stops one short loses exactly these.
    const int where = GENERATE(range(0, 6));
    const RectConfig g{3, 3, 2, 7, 8, 3, 2, 1, 0};  // Ho = 5, Wo = 7
    const std::size_t Ho = 5, Wo = 7;
    Rng rng(103);
    Problem pr = random_problem(g, rng);
    switch (where) {
        case 0:  // x: only the last pixel of the last channel of the last sample
            pr.x = xt::zeros<double>(pr.x.shape());
            pr.x(g.N - 1, g.C - 1, g.H - 1, g.W - 1) = 2.0;
            break;
        case 1:  // x: only the last row
            pr.x = xt::zeros<double>(pr.x.shape());
            xt::view(pr.x, xt::all(), xt::all(), g.H - 1, xt::all()) = 1.5;
            break;
        case 2:  // x: only the last column
            pr.x = xt::zeros<double>(pr.x.shape());
            xt::view(pr.x, xt::all(), xt::all(), xt::all(), g.W - 1) = -1.5;
            break;
        case 3:  // W: only the last tap of the last channel of the last filter
            pr.W = xt::zeros<double>(pr.W.shape());
            pr.W(g.F - 1, g.C - 1, g.KH - 1, g.KW - 1) = 3.0;
            break;
        case 4:  // dout: only the last position of the last filter of the last sample
            pr.dout = xt::zeros<double>(pr.dout.shape());
            pr.dout(g.N - 1, g.F - 1, Ho - 1, Wo - 1) = 1.0;
            break;
        default:  // dout: only the last row and the last column
            pr.dout = xt::zeros<double>(pr.dout.shape());
            xt::view(pr.dout, xt::all(), xt::all(), Ho - 1, xt::all()) = 0.5;
            xt::view(pr.dout, xt::all(), xt::all(), xt::all(), Wo - 1) = -0.5;
            break;
    }
    const char* names[] = {"x: the last pixel", "x: the last row",      "x: the last column",
                           "W: the last tap",   "dout: the last value", "dout: the last row and column"};
    INFO("nonzero only in " << names[where]);
    check_all_against_oracle(g, pr);
}

TEST_CASE("Conv2D called again with another batch size and image size gives that call's gradients", "[ch05]") {
    // State kept from the first call (sizes, a column matrix, an input) makes the second call wrong.
    const ConvAlgorithm algorithm = GENERATE(ConvAlgorithm::naive, ConvAlgorithm::im2col);
    INFO(algorithm_name(algorithm));
    Rng rng(104);
    Conv2D conv(2, 3, 3, rng, 2, 1, "conv");
    conv.b = randn<1>({3}, rng);
    conv.algorithm = algorithm;
    const std::array<std::array<std::size_t, 3>, 3> calls = {{{4, 8, 8}, {3, 7, 11}, {5, 10, 6}}};  // N, H, W
    for (const auto& [N, H, W] : calls) {
        INFO("N = " << N << ", H = " << H << ", W = " << W);
        const Tensor<4> x = randn<4>({N, 2, H, W}, rng);
        const Tensor<4> dout = randn<4>({N, 3, out_size(H, 3, 2, 1), out_size(W, 3, 2, 1)}, rng);
        const Oracle o = conv_oracle(x, conv.W, conv.b, dout, 2, 1);
        CHECK(check_close("out", conv.forward(x), o.out, 1e-10, 1e-12));
        const Tensor<4> dx = conv.backward(dout);
        CHECK(check_close("dx", dx, o.grads.dx, 1e-10, 1e-12));
        CHECK(check_close("dW (overwritten by each backward, not added to)", conv.dW, o.grads.dW, 1e-10, 1e-12));
        CHECK(check_close("db (overwritten by each backward, not added to)", conv.db, o.grads.db, 1e-10, 1e-12));
        // and a second backward of the same batch: the same numbers, not twice them
        CHECK(check_close("dx of a second backward", conv.backward(dout), dx, 1e-12, 1e-14));
        CHECK(check_close("dW after a second backward", conv.dW, o.grads.dW, 1e-10, 1e-12));
    }
}

TEST_CASE("the convolution is right at LeNet's sizes and larger ones", "[ch05]") {
    // A compact index (a column k = (n Ho + i) Wo + j or a pixel offset kept in a small integer type) is exact
    // on small inputs and wraps around on large ones: LeNet's conv1 on a batch of 64 has 64 x 24 x 24 = 36864
    // columns, 8 images of 100 x 100 have 8 x 98 x 98 = 76832, more than two bytes can count.
    const RectConfig g = GENERATE(values<RectConfig>({
        {64, 1, 2, 28, 28, 5, 5, 1, 0},   // LeNet's conv1 on a batch of 64 (two filters, to stay fast)
        {8, 6, 2, 12, 12, 5, 5, 1, 0},    // LeNet's conv2
        {8, 1, 1, 100, 100, 3, 3, 1, 0},  // large images
        {2, 2, 2, 100, 90, 5, 3, 2, 2},   // large, not square
    }));
    Rng rng(105);
    check_all_against_oracle(g, random_problem(g, rng), 1e-9);
}
