// Tests of the given tools in common/: the gradient checker, the comparison helper, shape checks,
// the TODO exception and the random generator. The chapters rely on these, so they must be able to fail.
#include "support/catch.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include <xtensor-blas/xlinalg.hpp>

#include "course/errors.hpp"
#include "course/gradcheck.hpp"
#include "course/matmul.hpp"
#include "course/random.hpp"

using namespace course;

namespace {

// out = x W (x: (N, D), W: (D, M)); its correct backward pass is dW = x^T dout, dx = dout W^T.
Tensor<2> matmul(const Tensor<2>& x, const Tensor<2>& W) {
    return xt::linalg::dot(x, W);
}

std::string report_of(const Comparison& c) {
    std::ostringstream out;
    out << c;
    return out.str();
}

// The "looks like: ..." line of a failed comparison, or "" when it has none.
std::string looks_like(const Comparison& c) {
    const std::string report = report_of(c);
    const auto at = report.find("looks like: ");
    return at == std::string::npos ? "" : report.substr(at + 12, report.find('\n', at) - at - 12);
}

// A random gradient with no zero element (a 0 would fit any factor) and its numeric twin.
Tensor<2> random_gradient(std::uint64_t seed, std::size_t rows = 4, std::size_t cols = 3) {
    Rng rng(seed);
    return rand_away_from_zero<2>({rows, cols}, rng, 0.1, 2.0);
}

}  // namespace

TEST_CASE("numerical_gradient of the sum of squares is 2x", "[common]") {
    Rng rng(1);
    Tensor<3> x = randn<3>({2, 3, 4}, rng);
    const Tensor<3> expected = 2.0 * x;
    auto f = [&] {
        return xt::sum(x * x)();
    };
    const Tensor<3> numeric = numerical_gradient(f, x);
    CHECK(check_gradient("d(sum x^2)/dx", expected, numeric));
    const Tensor<3> x_after = 2.0 * x;
    CHECK(check_close("x is restored after the check", x_after, expected, 0.0, 0.0));
}

TEST_CASE("numerical_derivative of a scalar function matches its derivative", "[common]") {
    double w = 0.7;
    auto f = [&] {
        return std::sin(w) * w;
    };
    const double analytic = std::cos(0.7) * 0.7 + std::sin(0.7);
    CHECK(check_gradient("d/dw sin(w) w", Tensor<1>{analytic}, Tensor<1>{numerical_derivative(f, w)}));
    CHECK(w == 0.7);
}

TEST_CASE("a correct backward pass of a matrix product passes the check with a random dout", "[common]") {
    Rng rng(2);
    Tensor<2> x = randn<2>({4, 3}, rng);
    Tensor<2> W = randn<2>({3, 5}, rng);
    const Tensor<2> dout = randn<2>({4, 5}, rng);
    const Tensor<2> dW = xt::linalg::dot(xt::transpose(x), dout);
    const Tensor<2> dx = xt::linalg::dot(dout, xt::transpose(W));
    const Comparison cw = check_gradient("dW", dW, numerical_gradient([&] { return matmul(x, W); }, W, dout));
    const Comparison cx = check_gradient("dx", dx, numerical_gradient([&] { return matmul(x, W); }, x, dout));
    CHECK(cw);
    CHECK(cx);
    CHECK(cw.score < 1e-9);
    CHECK(cx.score < 1e-9);
}

TEST_CASE("the checker fails on a transposed dW", "[common]") {
    // Square W, so that the transposed gradient even has the right shape: only the numbers can tell.
    Rng rng(3);
    Tensor<2> x = randn<2>({5, 4}, rng);
    Tensor<2> W = randn<2>({4, 4}, rng);
    const Tensor<2> dout = randn<2>({5, 4}, rng);
    const Tensor<2> dW_wrong = xt::transpose(xt::linalg::dot(xt::transpose(x), dout));
    const Comparison c = check_gradient("dW", dW_wrong, numerical_gradient([&] { return matmul(x, W); }, W, dout));
    CHECK_FALSE(c);
    CHECK(c.score > 1e-2);
    CHECK_THAT(report_of(c), Catch::Matchers::ContainsSubstring("FAILED") &&
                                 Catch::Matchers::ContainsSubstring("exceed the threshold"));
}

TEST_CASE("the checker fails on a gradient off by a factor of 2", "[common]") {
    Rng rng(4);
    Tensor<2> x = randn<2>({3, 4}, rng);
    Tensor<2> W = randn<2>({4, 2}, rng);
    const Tensor<2> dout = randn<2>({3, 2}, rng);
    const Tensor<2> dW_twice = 2.0 * xt::linalg::dot(xt::transpose(x), dout);
    const Comparison c = check_gradient("dW", dW_twice, numerical_gradient([&] { return matmul(x, W); }, W, dout));
    CHECK_FALSE(c);
    // |2n - n| / (|2n| + |n|) = 1/3 for every element
    CHECK(c.score == Catch::Approx(1.0 / 3.0).epsilon(1e-6));
}

TEST_CASE("the checker fails when both gradients are zero everywhere", "[common]") {
    const Tensor<2> zeros = xt::zeros<double>({3, 3});
    const Comparison c = check_gradient("dW", zeros, zeros);
    CHECK_FALSE(c);
    CHECK_THAT(report_of(c), Catch::Matchers::ContainsSubstring("both gradients are zero everywhere"));
}

TEST_CASE("the report names the worst index and both values", "[common]") {
    Tensor<4> numeric = xt::ones<double>({2, 3, 4, 5});
    Tensor<4> analytic = numeric;
    analytic(1, 2, 0, 3) = 1.5;   // the worst element
    analytic(0, 1, 1, 1) = 1.01;  // wrong too, but less
    const Comparison c = check_gradient("dx", analytic, numeric);
    CHECK_FALSE(c);
    CHECK(c.worst_index() == "(1, 2, 0, 3)");
    CHECK(c.elements_over == 2);
    const std::string report = report_of(c);
    CHECK_THAT(report, Catch::Matchers::ContainsSubstring("at index (1, 2, 0, 3) of shape (2, 3, 4, 5)"));
    CHECK_THAT(report, Catch::Matchers::ContainsSubstring("analytic = 1.5, numeric = 1"));
    CHECK_THAT(report, Catch::Matchers::ContainsSubstring("2.00e-01 > 1.00e-07 (threshold)"));
    CHECK_THAT(report, Catch::Matchers::ContainsSubstring("2 of 120 elements exceed the threshold"));
}

TEST_CASE("the checker fails on different shapes and on values that are not finite", "[common]") {
    const Tensor<2> a = xt::ones<double>({2, 3});
    const Tensor<2> b = xt::ones<double>({3, 2});
    const Comparison shapes = check_gradient("dW", a, b);
    CHECK_FALSE(shapes);
    CHECK_THAT(report_of(shapes),
               Catch::Matchers::ContainsSubstring("the shapes differ: analytic (yours) (2, 3), numeric (3, 2)"));

    Tensor<2> with_nan = a;
    with_nan(1, 2) = std::numeric_limits<double>::quiet_NaN();
    const Comparison nan = check_gradient("dW", with_nan, a);
    CHECK_FALSE(nan);
    CHECK_THAT(report_of(nan),
               Catch::Matchers::ContainsSubstring("not finite") && Catch::Matchers::ContainsSubstring("(1, 2)"));
}

TEST_CASE("check_close passes equal tensors and reports the worst element of unequal ones", "[common]") {
    const Tensor<2> expected = {{1.0, 2.0}, {3.0, 0.0}};
    CHECK(check_close("same", expected, expected));
    Tensor<2> actual = expected;
    actual(1, 1) = 1e-9;  // expected 0: only the absolute tolerance can accept it
    const Comparison c = check_close("out", actual, expected, 1e-12, 1e-12);
    CHECK_FALSE(c);
    CHECK(c.worst_index() == "(1, 1)");
    CHECK(check_close("out with a looser atol", actual, expected, 1e-12, 1e-8));
}

TEST_CASE("check_close with tolerance 0 says where the tensors differ, without a score", "[common]") {
    const Tensor<2> expected = {{1.0, 2.0}, {3.0, 4.0}};
    Tensor<2> yours = expected;
    yours(0, 1) = 2.0000000000000004;  // one unit in the last place
    yours(1, 0) = 30.0;
    const std::string report = report_of(check_close("x after forward", yours, expected, 0.0, 0.0));
    CHECK_THAT(report, Catch::Matchers::ContainsSubstring("2 of 4 elements differ\n  first at index (0, 1) of shape "
                                                          "(2, 2): yours 2.0000000000000004, expected 2 (they must "
                                                          "be equal exactly)"));
    CHECK_THAT(report, !Catch::Matchers::ContainsSubstring("inf") && !Catch::Matchers::ContainsSubstring("e+"));
}

TEST_CASE("check_close prints tiny values with their digits and says which shape is yours", "[common]") {
    const Tensor<1> expected = {4.248354255291589e-18};
    const std::string tiny = report_of(check_close("sigmoid(-40)", Tensor<1>{0.0}, expected, 1e-14, 0.0));
    CHECK_THAT(tiny, Catch::Matchers::ContainsSubstring("yours 0, expected 4.248354255291589e-18"));
    const std::string shapes =
        report_of(check_close("out", Tensor<2>(xt::zeros<double>({3, 2})), Tensor<2>(xt::ones<double>({2, 3}))));
    CHECK_THAT(shapes, Catch::Matchers::ContainsSubstring("the shapes differ: yours (3, 2), expected (2, 3)"));
    CHECK_THAT(shapes, !Catch::Matchers::ContainsSubstring("analytic"));
}

TEST_CASE("the diagnosis finds a gradient N times too small: averaged where the sum is needed", "[common]") {
    const Tensor<2> numeric = random_gradient(11);
    const Comparison c = check_gradient("db", Tensor<2>(numeric / 4.0), numeric);
    CHECK(looks_like(c) == "analytic is exactly 4 times too small");
    CHECK(looks_like(Comparison(c).with_batch(4)) ==
          "analytic is exactly 4 times too small: averaged over the batch (N = 4) where the sum is needed?");
    CHECK(looks_like(check_gradient("db", Tensor<2>(numeric * 4.0), numeric).with_batch(4)) ==
          "analytic is exactly 4 times too large: summed over the batch (N = 4) where the mean is needed?");
    CHECK(looks_like(check_close("out", Tensor<2>(numeric * 3.0), numeric)) == "yours is exactly 3 times too large");
}

TEST_CASE("the diagnosis finds a factor of 2 and of 1/2", "[common]") {
    const Tensor<2> numeric = random_gradient(12);
    CHECK(looks_like(check_gradient("dY", Tensor<2>(2.0 * numeric), numeric)) ==
          "analytic is exactly 2 times too large: a factor of 2 too many");
    CHECK(looks_like(check_gradient("dY", Tensor<2>(0.5 * numeric), numeric)) ==
          "analytic is exactly half of numeric: a factor of 2 is missing");
}

TEST_CASE("the diagnosis finds the sign flipped", "[common]") {
    const Tensor<2> numeric = random_gradient(13);
    CHECK(looks_like(check_gradient("dx", Tensor<2>(-numeric), numeric)) ==
          "analytic has the sign flipped everywhere (a minus sign?)");
}

TEST_CASE("the diagnosis finds the transpose, with the same shape and with the other shape", "[common]") {
    const Tensor<2> square = random_gradient(14, 3, 3);
    CHECK(looks_like(check_gradient("dW", Tensor<2>(xt::transpose(square)), square)) ==
          "analytic is the transpose of numeric (a missing or extra xt::transpose?)");
    const Tensor<2> wide = random_gradient(15, 2, 3);
    const Comparison c = check_close("dW", Tensor<2>(xt::transpose(wide)), wide);
    CHECK_THAT(report_of(c), Catch::Matchers::ContainsSubstring("the shapes differ: yours (3, 2), expected (2, 3)"));
    CHECK(looks_like(c) == "yours is the transpose of expected (a missing or extra xt::transpose?)");
}

TEST_CASE("the diagnosis finds a result that is zero everywhere", "[common]") {
    const Tensor<2> numeric = random_gradient(16);
    CHECK(looks_like(check_gradient("dW", Tensor<2>(xt::zeros<double>({4, 3})), numeric)) ==
          "analytic is zero everywhere (was the result never written?)");
}

TEST_CASE("the diagnosis finds a result shifted by one position", "[common]") {
    const Tensor<2> expected = random_gradient(17, 2, 5);
    Tensor<2> yours = expected;
    for (std::size_t r = 0; r < 2; ++r) {
        for (std::size_t col = 1; col < 5; ++col) yours(r, col) = expected(r, col - 1);
    }
    CHECK(looks_like(check_close("pooled", yours, expected)) ==
          "yours is expected shifted by one position along axis 1 (an index off by one?)");
}

TEST_CASE("the diagnosis finds a sibling gradient when the test names it", "[common]") {
    const Tensor<2> dW = random_gradient(18), db = random_gradient(19);
    CHECK(looks_like(check_gradient("dW", db, dW)).empty());
    CHECK(looks_like(check_gradient("dW", db, dW).with_sibling("numeric db", db)) ==
          "analytic equals numeric db (two results mixed up?)");
}

TEST_CASE("the diagnosis claims no pattern for random differences, nor for one wrong element", "[common]") {
    for (std::uint64_t seed = 20; seed < 40; ++seed) {
        const Tensor<2> a = random_gradient(seed, 3, 4), b = random_gradient(seed + 100, 3, 4);
        INFO("seed " << seed);
        CHECK(looks_like(check_gradient("dW", a, b).with_batch(3).with_sibling("db", b)).empty());
        Tensor<2> doubled_but_one = 2.0 * b;
        doubled_but_one(1, 1) = b(1, 1);
        CHECK(looks_like(check_close("out", doubled_but_one, b)).empty());
    }
}

TEST_CASE("matmul multiplies matrices and names both shapes when the inner sizes differ", "[common]") {
    const Tensor<2> a = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
    const Tensor<2> b = {{1.0}, {0.0}, {-1.0}};
    CHECK(check_close("a b", course::matmul(a, b, "test"), Tensor<2>{{-2.0}, {-2.0}}, 0.0, 0.0));
    CHECK(check_close("a^T a", course::matmul(xt::transpose(a), a, "test"), xt::linalg::dot(xt::transpose(a), a), 0.0,
                      0.0));
    const Tensor<2> dout = xt::ones<double>({4, 3}), W = xt::ones<double>({5, 2});
    CHECK_THROWS_MATCHES(course::matmul(dout, W, "FullyConnected 'fc1' backward: dout W^T"), ShapeError,
                         Catch::Matchers::Message("FullyConnected 'fc1' backward: dout W^T: cannot multiply (4, 3) "
                                                  "by (5, 2): the inner sizes 3 and 5 differ"));
    const Tensor<1> v = xt::ones<double>({3});
    CHECK_THROWS_WITH(course::matmul(a, v, "f"), "f: cannot multiply (2, 3) by (3): both must be matrices (2 axes)");
}

TEST_CASE("a TODO names the chapter the function the file and line and the next step", "[common]") {
    try {
        todo("ch02", "FullyConnected::backward", "read README.md section 3");
        FAIL("todo() returned");
    } catch (const TodoError& e) {
        const std::string message = e.what();
        CHECK_THAT(message, Catch::Matchers::StartsWith("TODO(ch02): implement FullyConnected::backward in "));
        CHECK_THAT(message, Catch::Matchers::ContainsSubstring("tests/common/test_common.cpp:"));
        CHECK_THAT(message, Catch::Matchers::EndsWith("read README.md section 3, then run ./course check 2"));
    }
}

TEST_CASE("check_shape names where the argument and both shapes", "[common]") {
    const Tensor<2> x = xt::zeros<double>({4, 5});
    CHECK_NOTHROW(check_shape("FullyConnected 'fc1' forward", "x", x, {{"N"}, {"D", 5}}));
    CHECK_THROWS_AS(check_shape("FullyConnected 'fc1' forward", "x", x, {{"N"}, {"D", 3}}), ShapeError);
    CHECK_THROWS_WITH(check_shape("FullyConnected 'fc1' forward", "x", x, {{"N"}, {"D", 3}}),
                      "FullyConnected 'fc1' forward: x has shape (4, 5) but must be (N, D=3)");
    CHECK_THROWS_WITH(check_shape("layer", "x", x, {{"N"}, {"C"}, {"H"}}),
                      "layer: x has shape (4, 5) but must be (N, C, H)");
}

TEST_CASE("the same seed gives the same numbers and other seeds do not", "[common]") {
    Rng a(123), b(123), c(124);
    const Tensor<2> ta = randn<2>({3, 3}, a), tb = randn<2>({3, 3}, b), tc = randn<2>({3, 3}, c);
    CHECK(check_close("same seed", ta, tb, 0.0, 0.0));
    CHECK_FALSE(check_close("other seed", ta, tc));
}

TEST_CASE("rand_away_from_zero keeps every value at least the margin away from 0", "[common]") {
    Rng rng(5);
    const Tensor<1> t = rand_away_from_zero<1>({1000}, rng, 0.1, 1.0);
    CHECK(xt::amin(xt::abs(t))() >= 0.1);
    CHECK(xt::amax(xt::abs(t))() <= 1.0);
    CHECK(xt::amin(t)() < 0.0);
    CHECK(xt::amax(t)() > 0.0);
}
