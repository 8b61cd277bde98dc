// Chapter 4 tests: the softmax and the cross-entropy loss with its gradient.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
//
// It is compiled twice: test_ch04 with real = double runs every case; test_ch04_float with real = float (what
// the training program uses) runs only the cases tagged [float], at the end of the file. Those are written on
// `real`. The gradient checks need double (course/gradcheck.hpp says why), so that part of the file is not
// compiled in float.
#include "support/catch.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>

#include "04_softmax_cross_entropy/softmax_cross_entropy.hpp"
#include "course/random.hpp"
#include "support/exact_checks.hpp"
#include "support/layer_checks.hpp"
#if !defined(COURSE_REAL_FLOAT)
#include "course/gradcheck.hpp"
#endif

using namespace course;

namespace {

// The worked example of README.md section 5: N = 2 samples, K = 3 classes.
const Tensor<2> worked_scores = {{1.0, 2.0, 3.0}, {2.0, 0.0, 0.0}};
const Labels worked_y = {2, 1};

}  // namespace

#if !defined(COURSE_REAL_FLOAT)
using Catch::Matchers::Message;
using Catch::Matchers::MessageMatches;
using Catch::Matchers::StartsWith;
using course_test::check_shape_error;

namespace {

// The sum of every row of a (N, K) tensor, shape (N).
Tensor<1> row_sums(const Tensor<2>& t) {
    Tensor<1> sums = xt::zeros<double>({t.shape(0)});
    for (std::size_t n = 0; n < t.shape(0); ++n) {
        for (std::size_t k = 0; k < t.shape(1); ++k) sums(n) += t(n, k);
    }
    return sums;
}

}  // namespace

// ------------------------------------------------------------------------------------------------------
// softmax

TEST_CASE("softmax reproduces the worked example", "[ch04]") {
    // row 1: (e^-2, e^-1, 1) / 1.50321; row 2: (1, e^-2, e^-2) / 1.27067
    const Tensor<2> expected = {{0.09003057317038046, 0.24472847105479764, 0.6652409557748218},
                                {0.7869860421615984, 0.10650697891920073, 0.10650697891920073}};
    CHECK(check_close("softmax", softmax(worked_scores), expected, 1e-12, 1e-15));
}

TEST_CASE("every softmax row is positive and sums to 1", "[ch04]") {
    const auto [N, K] = GENERATE(table<std::size_t, std::size_t>({{1, 1}, {1, 2}, {4, 3}, {16, 10}, {128, 10}}));
    INFO("N = " << N << ", K = " << K);
    Rng rng(41);
    const Tensor<2> p = softmax(randn<2>({N, K}, rng, 3.0));
    REQUIRE(p.shape(0) == N);
    REQUIRE(p.shape(1) == K);
    CHECK(xt::amin(p)() > 0.0);
    CHECK(xt::amax(p)() <= 1.0);
    CHECK(check_close("row sums of softmax", row_sums(p), xt::ones<double>({N}), 1e-14, 1e-14));
}

TEST_CASE("softmax stays finite and exact for scores of plus and minus 1000", "[ch04]") {
    // Without subtracting the row maximum: exp(1000) = inf gives inf / inf = NaN in row 0, and
    // exp(-1000) = 0 gives 0 / 0 = NaN in rows 1 and 3. Rows 2 and 3 are in one batch on purpose: the
    // maximum of the whole batch (1000) instead of each row's would make every exp of row 3 underflow.
    const Tensor<2> scores = {
        {1000.0, -1000.0, 0.0}, {-1000.0, -1000.0, -1000.0}, {1000.0, 1000.0, 999.0}, {-1000.0, -999.0, -1000.0}};
    const double a = 1.0 / (2.0 + std::exp(-1.0)), b = std::exp(-1.0) / (2.0 + std::exp(-1.0));
    const double c = std::exp(-1.0) / (1.0 + 2.0 * std::exp(-1.0)), d = 1.0 / (1.0 + 2.0 * std::exp(-1.0));
    const Tensor<2> expected = {{1.0, 0.0, 0.0}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {a, a, b}, {c, d, c}};
    CHECK(check_close("softmax", softmax(scores), expected, 1e-14, 1e-300));
}

// ------------------------------------------------------------------------------------------------------
// cross-entropy

TEST_CASE("cross-entropy reproduces the worked example by hand", "[ch04]") {
    const LossAndGradient result = cross_entropy_loss(worked_scores, worked_y);
    // (-log 0.66524 - log 0.10651) / 2 = (0.40761 + 2.23954) / 2
    CHECK(result.loss == Catch::Approx(1.3235753653331326).epsilon(1e-12));
    // (p - one-hot) / N: the true classes are 2 (row 1) and 1 (row 2)
    const Tensor<2> expected = {{0.04501528658519023, 0.12236423552739882, -0.1673795221125891},
                                {0.3934930210807992, -0.44674651054039966, 0.053253489459600366}};
    CHECK(check_close("dscores", result.dscores, expected, 1e-12, 1e-15));
}

TEST_CASE("uniform scores give a loss of log K", "[ch04]") {
    // Every class equally likely: p = 1/K, so the loss of every sample is -log(1/K) = log K, whatever the
    // label and whatever the common score. This is the loss an untrained classifier starts near.
    const std::size_t K = GENERATE(as<std::size_t>{}, 2, 3, 10);
    const double score = GENERATE(0.0, 7.5, -300.0);
    INFO("K = " << K << ", every score " << score);
    const std::size_t N = 4;
    const Tensor<2> scores = xt::ones<double>({N, K}) * score;
    const Labels y = {0, K - 1, 1, 0};
    const LossAndGradient result = cross_entropy_loss(scores, y);
    CHECK(result.loss == Catch::Approx(std::log(static_cast<double>(K))).epsilon(1e-14));
    Tensor<2> expected = xt::ones<double>({N, K}) / static_cast<double>(K * N);
    for (std::size_t n = 0; n < N; ++n) expected(n, y[n]) -= 1.0 / N;
    CHECK(check_close("dscores", result.dscores, expected, 1e-13, 1e-15));
}

TEST_CASE("dscores matches the numerical gradient of the loss", "[ch04]") {
    // (N, K): one sample (mean and sum agree there), two classes, more classes than samples, a larger batch.
    // The step is h = 1e-4 instead of the default 1e-5: the loss is one number of size about 2, so its
    // rounding noise divided by 2h (about 2e-11 at h = 1e-5) would dominate the relative error of the
    // smallest elements of dscores (p / N of about 1e-4); the truncation error at h = 1e-4 stays near 1e-9.
    const auto [N, K] = GENERATE(table<std::size_t, std::size_t>({{1, 2}, {1, 5}, {3, 4}, {8, 10}, {16, 3}}));
    INFO("N = " << N << ", K = " << K);
    const double h = 1e-4;
    Rng rng(42);
    Tensor<2> scores = randn<2>({N, K}, rng);
    const Labels y = random_labels(N, K, rng);
    const Tensor<2> dscores = cross_entropy_loss(scores, y).dscores;
    auto loss = [&] {
        return cross_entropy_loss(scores, y).loss;
    };
    CHECK(check_gradient("dscores", dscores, numerical_gradient(loss, scores, h)));
}

TEST_CASE("scores of plus and minus 1000 give a finite loss and gradient", "[ch04]") {
    // Row 1: p of the true class 1 is e^-2000, which is 0 in double; -log(0) would be infinite. Through
    // log-sum-exp the loss is 1000 + log(1 + e^-1000 + e^-2000) - (-1000) = 2000.
    // Row 2: uniform scores, loss log 3.
    const Tensor<2> scores = {{1000.0, -1000.0, 0.0}, {-1000.0, -1000.0, -1000.0}};
    const LossAndGradient result = cross_entropy_loss(scores, Labels{1, 2});
    INFO("loss = " << result.loss);
    CHECK(std::isfinite(result.loss));
    CHECK(result.loss == Catch::Approx((2000.0 + std::log(3.0)) / 2).epsilon(1e-14));
    const Tensor<2> expected = {{0.5, -0.5, 0.0}, {1.0 / 6, 1.0 / 6, -1.0 / 3}};
    CHECK(check_close("dscores", result.dscores, expected, 1e-14, 1e-300));
}

TEST_CASE("the loss is the mean over the batch and not the sum", "[ch04]") {
    // The same three samples twice: the mean loss does not change, and each sample's gradient halves,
    // because each sample now weighs 1/6 of the loss instead of 1/3.
    Rng rng(43);
    const Tensor<2> once = randn<2>({3, 4}, rng);
    const Labels y_once = {3, 0, 2};
    const Tensor<2> twice = xt::concatenate(xt::xtuple(once, once), 0);
    const Labels y_twice = {3, 0, 2, 3, 0, 2};
    const LossAndGradient a = cross_entropy_loss(once, y_once);
    const LossAndGradient b = cross_entropy_loss(twice, y_twice);
    CHECK(b.loss == Catch::Approx(a.loss).epsilon(1e-14));
    const Tensor<2> half_of_once = xt::concatenate(xt::xtuple(a.dscores / 2.0, a.dscores / 2.0), 0);
    CHECK(check_close("dscores of the doubled batch", b.dscores, half_of_once, 1e-13, 1e-15));
}

TEST_CASE("every row of dscores sums to zero", "[ch04]") {
    // sum_k (p_nk - [k = y_n]) / N = (1 - 1) / N = 0. A gradient that forgets the -1 at the true class
    // sums to 1/N instead.
    Rng rng(44);
    const std::size_t N = 128, K = 10;
    const Tensor<2> scores = randn<2>({N, K}, rng, 3.0);
    const LossAndGradient result = cross_entropy_loss(scores, random_labels(N, K, rng));
    CHECK(check_close("row sums of dscores", row_sums(result.dscores), xt::zeros<double>({N}), 0.0, 1e-15));
    CHECK(std::isfinite(result.loss));
    CHECK(result.loss > 0.0);
}

// ------------------------------------------------------------------------------------------------------
// Given code: the checks of the arguments

TEST_CASE("a label count different from N is a clear error", "[ch04][given]") {
    const auto three_labels = [] {
        return cross_entropy_loss(worked_scores, Labels{2, 1, 0});
    };
    check_shape_error(three_labels,
                      "cross_entropy_loss: y has 3 labels but scores has N = 2 rows (one label per sample)");
    check_shape_error([] { return cross_entropy_loss(worked_scores, Labels{2}); },
                      "cross_entropy_loss: y has 1 labels but scores has N = 2 rows (one label per sample)");
}

TEST_CASE("a label out of range is a clear error that names the sample and the label", "[ch04][given]") {
    CHECK_THROWS_MATCHES(cross_entropy_loss(worked_scores, Labels{2, 3}), ArgumentError,
                         MessageMatches(StartsWith("cross_entropy_loss: label y[1] = 3 is out of range")));
    CHECK_THROWS_MATCHES(cross_entropy_loss(worked_scores, Labels{2, 7}), ArgumentError,
                         Message("cross_entropy_loss: label y[1] = 7 is out of range for K = 3 classes (labels must be "
                                 "in [0, 3))"));
    CHECK_THROWS_MATCHES(cross_entropy_loss(worked_scores, Labels{3, 0}), ArgumentError,
                         MessageMatches(StartsWith("cross_entropy_loss: label y[0] = 3 is out of range")));
}

TEST_CASE("an empty batch or scores without classes are a clear error", "[ch04][given]") {
    const Tensor<2> no_samples = xt::zeros<double>({0, 3});
    const Tensor<2> no_classes = xt::zeros<double>({2, 0});
    SECTION("the loss of an empty batch") {
        CHECK_THROWS_MATCHES(cross_entropy_loss(no_samples, Labels{}), ArgumentError,
                             Message("cross_entropy_loss: the batch is empty (N = 0), so the mean loss is undefined"));
    }
    SECTION("the softmax of scores without classes") {
        check_shape_error([&] { return softmax(no_classes); },
                          "softmax: scores has shape (2, 0) but must have at least one class (N, K >= 1)");
    }
    SECTION("the loss of scores without classes") {
        const auto loss_without_classes = [&] {
            return cross_entropy_loss(no_classes, Labels{0, 0});
        };
        check_shape_error(loss_without_classes, StartsWith("cross_entropy_loss: scores"));
    }
}
#endif  // !defined(COURSE_REAL_FLOAT)

// ------------------------------------------------------------------------------------------------------
// In float as well as in double ([float]): what the training program computes. These cases are written on
// `real`, and each value is compared with one computed in long double.

namespace {

// A correct result is within a few units in the last place of `real` of the exact value: relative 1e-5 in
// float (about 80 units of 1.2e-7), 1e-13 in double. The absolute part is for exact values that are 0 or below
// the normal range of `real` (probabilities like e^-2000), which keep fewer digits or none.
constexpr long double rtol = std::is_same_v<real, float> ? 1e-5L : 1e-13L;
constexpr long double atol = std::is_same_v<real, float> ? 1e-37L : 1e-300L;

// The softmax of every row, in long double, with the row maximum subtracted (the same order as p.data()).
std::vector<long double> exact_softmax(const Tensor<2>& scores) {
    const std::size_t N = scores.shape(0), K = scores.shape(1);
    std::vector<long double> p(N * K);
    for (std::size_t n = 0; n < N; ++n) {
        long double max = scores(n, 0);
        for (std::size_t k = 0; k < K; ++k) max = std::max<long double>(max, scores(n, k));
        long double sum = 0;
        for (std::size_t k = 0; k < K; ++k) sum += std::exp(static_cast<long double>(scores(n, k)) - max);
        for (std::size_t k = 0; k < K; ++k) p[n * K + k] = std::exp(static_cast<long double>(scores(n, k)) - max) / sum;
    }
    return p;
}

// The mean cross-entropy loss of the batch, in long double, through log-sum-exp.
long double exact_loss(const Tensor<2>& scores, const Labels& y) {
    const std::size_t N = scores.shape(0), K = scores.shape(1);
    long double total = 0;
    for (std::size_t n = 0; n < N; ++n) {
        long double max = scores(n, 0);
        for (std::size_t k = 0; k < K; ++k) max = std::max<long double>(max, scores(n, k));
        long double sum = 0;
        for (std::size_t k = 0; k < K; ++k) sum += std::exp(static_cast<long double>(scores(n, k)) - max);
        total += max + std::log(sum) - static_cast<long double>(scores(n, y[n]));
    }
    return total / static_cast<long double>(N);
}

// dL/dscores = (p - one-hot) / N, in long double.
std::vector<long double> exact_dscores(const Tensor<2>& scores, const Labels& y) {
    const std::size_t N = scores.shape(0), K = scores.shape(1);
    std::vector<long double> d = exact_softmax(scores);
    for (std::size_t n = 0; n < N; ++n) {
        d[n * K + y[n]] -= 1;
        for (std::size_t k = 0; k < K; ++k) d[n * K + k] /= static_cast<long double>(N);
    }
    return d;
}

// The first element of `actual` that is not within rtol and `abs_tol` of `expected`, with its row and column,
// or "".
std::string first_far_element(const Tensor<2>& actual, const std::vector<long double>& expected,
                              long double abs_tol = atol) {
    return course_test::first_far_element(actual, expected, rtol, abs_tol, actual.shape(1));
}

// dscores_nk = (p_nk - [k = y_n]) / N: at the true class, p - 1 cancels when p is near 1, and what is left
// has the rounding error of numbers of size 1 / N. So dscores is compared with an absolute part of rtol / N.
long double dscores_atol(std::size_t N) {
    return rtol / static_cast<long double>(N);
}

bool loss_close(long double actual, long double expected) {
    return std::abs(actual - expected) <= atol + rtol * std::abs(expected);
}

// Scores far from 0, with the largest score of a row in every position, also the last (a loop that looks for
// the maximum and stops one class early misses it). exp(89) and more overflow in float, exp(710) and more in
// double, and exp(-104) underflows to 0 in float, exp(-746) in double.
const Tensor<2> extreme_scores = {{1000, -1000, 0, 5},   {-1000, -1000, -1000, -1000},
                                  {1000, 1000, 999, 0},  {-1000, -999, -1000, -1000},
                                  {0, -1000, 5, 1000},   {90, 0, -5, 100},
                                  {-100, -90, -95, -89}, {-5, 3, 88.5, 89}};

}  // namespace

TEST_CASE("softmax is exact for scores of size 100 and 1000 with the maximum in any column", "[ch04][float]") {
    // Without subtracting the row maximum: exp(1000) = inf gives inf / inf = NaN, and in float already exp(90)
    // and exp(100) overflow. Each row needs its own maximum: the maximum of the whole batch (1000) would make
    // every exp of rows 1, 3 and 6 underflow to 0, and 0 / 0 is NaN.
    const Tensor<2> p = softmax(extreme_scores);
    const std::string far = first_far_element(p, exact_softmax(extreme_scores));
    INFO("real is " << (std::is_same_v<real, float> ? "float" : "double") << "; " << far);
    CHECK(far.empty());
}

TEST_CASE("cross-entropy is exact for scores of size 100 and 1000, whichever class is true", "[ch04][float]") {
    // The true class is sometimes the largest score, sometimes the smallest (p underflows to 0 there, and -log 0
    // is infinite: only log-sum-exp gives the finite loss), and sometimes the last column.
    const Labels y = GENERATE(Labels{0, 3, 3, 1, 3, 3, 3, 3}, Labels{1, 0, 3, 0, 1, 2, 0, 0});
    const LossAndGradient result = cross_entropy_loss(extreme_scores, y);
    const long double loss = exact_loss(extreme_scores, y);
    INFO("real is " << (std::is_same_v<real, float> ? "float" : "double") << "; loss " << result.loss << ", exact "
                    << static_cast<double>(loss));
    CHECK(loss_close(result.loss, loss));
    const std::string far = first_far_element(result.dscores, exact_dscores(extreme_scores, y), dscores_atol(8));
    INFO("dscores: " << far);
    CHECK(far.empty());
}

TEST_CASE("softmax and cross-entropy are exact for batches that are not square", "[ch04][float]") {
    // N = 3 samples of K = 5 classes, and N = 5 of K = 3: the mean is over N (not K, not N K), each row has its
    // own maximum and sum, and a transposed result cannot have the right shape. The scores are random, with a
    // spread of 3, and the true classes include 0 and K - 1.
    const auto [N, K] = GENERATE(table<std::size_t, std::size_t>({{3, 5}, {5, 3}, {4, 10}}));
    INFO("N = " << N << ", K = " << K << ", real is " << (std::is_same_v<real, float> ? "float" : "double"));
    Rng rng(45);
    const Tensor<2> scores = randn<2>({N, K}, rng, 3.0);
    Labels y = random_labels(N, K, rng);
    y.front() = K - 1;
    y.back() = 0;
    const std::string far_p = first_far_element(softmax(scores), exact_softmax(scores));
    INFO("softmax: " << far_p);
    CHECK(far_p.empty());
    const LossAndGradient result = cross_entropy_loss(scores, y);
    INFO("loss " << result.loss << ", exact " << static_cast<double>(exact_loss(scores, y)));
    CHECK(loss_close(result.loss, exact_loss(scores, y)));
    const std::string far_d = first_far_element(result.dscores, exact_dscores(scores, y), dscores_atol(N));
    INFO("dscores: " << far_d);
    CHECK(far_d.empty());
}
