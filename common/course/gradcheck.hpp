/// @file gradcheck.hpp
/// @brief The gradient checker: numerical gradients by central differences, and comparisons that
/// report the worst element.
///
/// This is the tool the learner wrote in the earlier module, given here in a tested form. Every chapter
/// uses it the same way:
///
/// @code
/// Rng rng(7);
/// Tensor<2> x = randn<2>({4, 3}, rng);
/// Tensor<2> dout = randn<2>({4, 5}, rng);           // a random upstream gradient dL/dout
/// layer.forward(x);
/// Tensor<2> dx = layer.backward(dout);              // analytic: what the learner wrote
/// Tensor<2> dx_num = numerical_gradient([&] { return layer.forward(x); }, x, dout);
/// CHECK(check_gradient("dx", dx, dx_num));          // prints a full report when it fails
/// @endcode
///
/// **Why a random `dout`.** A layer maps an array to an array. Its backward pass computes
/// \f$ dx_i = \sum_j dout_j \, \partial out_j / \partial x_i \f$. That is the gradient of the scalar
/// \f$ g(x) = \sum_j out_j(x)\, dout_j \f$, which central differences can measure directly. A random
/// `dout` makes every output element count, with a different weight, so a mix-up of two outputs shows.
///
/// **Score.** For every element, the relative error is \f$ |a_i - n_i| / \max(\varepsilon, |a_i| + |n_i|) \f$
/// (a = analytic, n = numeric; the floor \f$ \varepsilon \f$ avoids 0/0 where both are zero). The check's
/// score is the largest of these, and the report names the element where it occurs. In double precision
/// a correct gradient scores about 1e-7 or less; a wrong one scores above 1e-2.
///
/// Gradient checks need double precision: in float, central differences alone have relative errors of
/// 1e-2 and more. That is why the tests are built with `real = double`.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include <xtensor/xarray.hpp>
#include <xtensor/xeval.hpp>

#include "course/tensor.hpp"

namespace course {

static_assert(std::is_same_v<real, double>,
              "gradcheck.hpp needs double precision: build this target without COURSE_REAL_FLOAT "
              "(central differences in float have relative errors of 1e-2 and more)");

/// @brief The step h of central differences. Small enough that the truncation error (about h^2) is tiny,
/// large enough that rounding (about 1e-16 / h) stays below it.
inline constexpr double default_step = 1e-5;
/// @brief The largest relative error a correct gradient reaches in double precision (CS231n's scale:
/// above 1e-2 is wrong, 1e-7 or less is right).
inline constexpr double default_threshold = 1e-7;
/// @brief The floor of the denominator |a| + |n|, so that two zeros compare as equal.
inline constexpr double default_floor = 1e-8;

/// @brief The result of comparing two tensors element by element: passed or not, and where the worst
/// element is.
///
/// It converts to `bool` (true when the comparison passed), and it prints itself as a full report, so
/// that `CHECK(check_gradient(...))` in a Catch2 test shows the report when it fails.
struct Comparison {
    std::string what;             ///< what was compared, for example "dW of FullyConnected"
    std::string kind;             ///< "gradient check" or "comparison"
    std::string actual_name;      ///< name of the first tensor in the report ("analytic", "actual")
    std::string expected_name;    ///< name of the second tensor in the report ("numeric", "expected")
    bool passed = false;          ///< the verdict
    std::string problem;          ///< why it failed when the failure is not a numeric one (shapes, all zero)
    Shape shape;                  ///< the shape of both tensors
    std::size_t elements = 0;     ///< number of elements compared
    double score = 0.0;           ///< worst relative error (gradient check) or worst error / tolerance
    double threshold = 0.0;       ///< the largest score that passes
    std::size_t worst_flat = 0;   ///< flat position of the worst element
    double actual_at_worst = 0.0;
    double expected_at_worst = 0.0;
    std::size_t elements_over = 0;  ///< how many elements exceed the threshold
    std::string rule;               ///< the formula of the score, for the report

    explicit operator bool() const { return passed; }

    /// @brief The multi-index of the worst element, as `(n, c, h, w)`.
    std::string worst_index() const { return index_to_string(worst_flat, shape); }

    /// @brief A readable report of the result, several lines long when the comparison failed.
    std::string report() const {
        std::ostringstream out;
        out << std::setprecision(6);
        out << kind << " of " << what << (passed ? " passed" : " FAILED");
        if (!problem.empty()) {
            out << ": " << problem;
            return out.str();
        }
        out << ": worst " << (kind == "gradient check" ? "relative error " : "error/tolerance ")
            << std::scientific << std::setprecision(2) << score << (passed ? " <= " : " > ") << threshold
            << " (threshold)" << std::defaultfloat << std::setprecision(10) << "\n  at index " << worst_index()
            << " of shape " << shape_to_string(shape) << ": " << actual_name << " = " << actual_at_worst << ", "
            << expected_name << " = " << expected_at_worst;
        if (!passed) out << "\n  " << elements_over << " of " << elements << " elements exceed the threshold";
        out << "\n  score: " << rule;
        return out.str();
    }
};

inline std::ostream& operator<<(std::ostream& out, const Comparison& c) { return out << c.report(); }

namespace detail {
template <class A, class B>
Comparison prepare(std::string_view what, const A& a_expr, const B& b_expr, xt::xarray<double>& a,
                   xt::xarray<double>& b) {
    Comparison c;
    c.what = std::string(what);
    a = a_expr;
    b = b_expr;
    c.shape = shape_of(a);
    c.elements = a.size();
    if (shape_of(a) != shape_of(b)) {
        c.problem = "the shapes differ: " + shape_to_string(a.shape()) + " vs " + shape_to_string(b.shape());
        return c;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double values[2] = {a.data()[i], b.data()[i]};
        for (double v : values) {
            if (!std::isfinite(v)) {
                std::ostringstream msg;
                msg << "a value is not finite (" << v << ") at index " << index_to_string(i, c.shape);
                c.problem = msg.str();
                return c;
            }
        }
    }
    if (a.size() == 0) c.problem = "there is nothing to compare (the tensors are empty)";
    return c;
}
}  // namespace detail

/// @brief Compares an analytic gradient with a numerical one.
///
/// @param what       what is checked, for the report (for example "dW")
/// @param analytic   the gradient from the learner's backward pass (any shape)
/// @param numeric    the gradient from `numerical_gradient()` (the same shape)
/// @param threshold  the largest relative error that passes
/// @param floor      the floor of the denominator |a| + |n|
/// @return a `Comparison`; it fails when the shapes differ, when a value is not finite, when the worst
///         relative error exceeds `threshold`, and when **both gradients are zero everywhere** (such a
///         check proves nothing: usually the test forgot to run `backward`, or the input sits where the
///         function is flat).
template <class A, class B>
Comparison check_gradient(std::string_view what, const A& analytic, const B& numeric,
                          double threshold = default_threshold, double floor = default_floor) {
    xt::xarray<double> a, n;
    Comparison c = detail::prepare(what, analytic, numeric, a, n);
    c.kind = "gradient check";
    c.actual_name = "analytic";
    c.expected_name = "numeric";
    c.threshold = threshold;
    std::ostringstream rule;
    rule << "max over elements of |analytic - numeric| / max(" << floor << ", |analytic| + |numeric|)";
    c.rule = rule.str();
    if (!c.problem.empty()) return c;
    bool all_zero = true;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double ai = a.data()[i], ni = n.data()[i];
        if (ai != 0.0 || ni != 0.0) all_zero = false;
        const double err = std::abs(ai - ni) / std::max(floor, std::abs(ai) + std::abs(ni));
        if (err > threshold) ++c.elements_over;
        if (err > c.score || i == 0) {
            c.score = err;
            c.worst_flat = i;
            c.actual_at_worst = ai;
            c.expected_at_worst = ni;
        }
    }
    if (all_zero) {
        c.problem = "both gradients are zero everywhere, so the check proves nothing (was backward run? is the "
                    "input where the function is flat, such as ReLU inputs below 0?)";
        return c;
    }
    c.passed = c.score <= threshold;
    return c;
}

/// @brief Compares two tensors that should hold the same numbers ("this tensor equals that tensor").
///
/// An element passes when \f$ |a - e| \le atol + rtol\,|e| \f$ (as numpy's `allclose`). The score is the
/// largest \f$ |a - e| / (atol + rtol\,|e|) \f$, so the comparison passes when the score is at most 1.
///
/// @param what      what is compared, for the report
/// @param actual    the tensor computed by the code under test
/// @param expected  the tensor it must equal (same shape)
/// @param rtol      relative tolerance
/// @param atol      absolute tolerance, for elements whose expected value is 0
template <class A, class B>
Comparison check_close(std::string_view what, const A& actual, const B& expected, double rtol = 1e-12,
                       double atol = 1e-12) {
    xt::xarray<double> a, e;
    Comparison c = detail::prepare(what, actual, expected, a, e);
    c.kind = "comparison";
    c.actual_name = "actual";
    c.expected_name = "expected";
    c.threshold = 1.0;
    std::ostringstream rule;
    rule << "max over elements of |actual - expected| / (" << atol << " + " << rtol << " * |expected|)";
    c.rule = rule.str();
    if (!c.problem.empty()) return c;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double diff = std::abs(a.data()[i] - e.data()[i]);
        const double tolerance = atol + rtol * std::abs(e.data()[i]);
        // A zero tolerance asks for exact equality: equal elements score 0, others infinity.
        const double err = diff == 0.0 ? 0.0 : (tolerance > 0.0 ? diff / tolerance : HUGE_VAL);
        if (err > 1.0) ++c.elements_over;
        if (err > c.score || i == 0) {
            c.score = err;
            c.worst_flat = i;
            c.actual_at_worst = a.data()[i];
            c.expected_at_worst = e.data()[i];
        }
    }
    c.passed = c.score <= 1.0;
    return c;
}

/// @brief The derivative of the scalar function `f()` with respect to the scalar `x`, by central differences.
///
/// `f` takes no arguments: it reads `x` by reference, so the checker can nudge `x` and call `f` again.
/// `x` is restored before the function returns.
///
/// @code
/// double w = 0.5;
/// double dw_num = numerical_derivative([&] { return loss(w); }, w);
/// @endcode
template <class F>
double numerical_derivative(F&& f, double& x, double h = default_step) {
    const double saved = x;
    x = saved + h;
    const double plus = static_cast<double>(f());
    x = saved - h;
    const double minus = static_cast<double>(f());
    x = saved;
    return (plus - minus) / (2.0 * h);
}

/// @brief The gradient of the scalar function `f()` with respect to every element of `x`.
///
/// @param f  a callable with no arguments that returns a number and reads `x` (for example a loss)
/// @param x  the tensor to differentiate by, shape (any); nudged in place and restored
/// @return   a tensor of the shape of `x`: element i is \f$ (f(x + h e_i) - f(x - h e_i)) / 2h \f$
template <std::size_t Rank, class F>
Tensor<Rank> numerical_gradient(F&& f, Tensor<Rank>& x, double h = default_step) {
    Tensor<Rank> grad(x.shape());
    for (std::size_t i = 0; i < x.size(); ++i) {
        grad.data()[i] = numerical_derivative(f, x.data()[i], h);
    }
    return grad;
}

/// @brief The gradient of \f$ g(x) = \sum_j f(x)_j \, dout_j \f$ with respect to every element of `x`.
///
/// This is what a backward pass computes from an upstream gradient `dout`: use it to check `dx`, `dW`
/// and `db` of any layer.
///
/// @param f     a callable with no arguments that returns a tensor of the shape of `dout` (a forward pass)
/// @param x     the tensor to differentiate by, shape (any); nudged in place and restored
/// @param dout  the upstream gradient, shape of f's output
/// @throws std::invalid_argument when f's output and `dout` have different shapes
template <std::size_t Rank, std::size_t OutRank, class F>
Tensor<Rank> numerical_gradient(F&& f, Tensor<Rank>& x, const Tensor<OutRank>& dout, double h = default_step) {
    auto contracted = [&] {
        const auto out = xt::eval(f());
        if (shape_of(out) != shape_of(dout)) {
            throw std::invalid_argument("numerical_gradient: f() returned shape " + shape_to_string(out.shape()) +
                                        " but dout has shape " + shape_to_string(dout.shape()));
        }
        double sum = 0.0;
        for (std::size_t j = 0; j < dout.size(); ++j) sum += out.data()[j] * dout.data()[j];
        return sum;
    };
    return numerical_gradient(contracted, x, h);
}

}  // namespace course
