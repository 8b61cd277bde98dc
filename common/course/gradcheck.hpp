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
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

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

/// @brief A number with as many digits as it takes to tell it from its neighbours, and no more: `0.75`,
/// `0.7500000000000002`, `4.248354255291589e-18`.
inline std::string number_to_string(double value) {
    std::array<char, 32> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
    return std::string(buffer.data(), end);
}

/// @brief The result of comparing two tensors element by element: passed or not, where the worst element is,
/// and, when it failed, what the difference looks like (a factor, the sign, a transpose, ...).
///
/// It converts to `bool` (true when the comparison passed), and it prints itself as a full report, so
/// that `CHECK(check_gradient(...))` in a Catch2 test shows the report when it fails.
///
/// The diagnosis knows more when the test tells it more: `with_batch(N)` names the batch size (a gradient N
/// times too small is then "averaged instead of summed"), `with_sibling("db", db_numeric)` a gradient that
/// the learner may have returned by mistake.
struct Comparison {
    std::string what;            ///< what was compared, for example "dW of FullyConnected"
    std::string kind;            ///< "gradient check" or "comparison"
    std::string actual_name;     ///< name of the learner's tensor in the report ("analytic", "yours")
    std::string expected_name;   ///< name of the other tensor in the report ("numeric", "expected")
    bool passed = false;         ///< the verdict
    std::string problem;         ///< why it failed when the failure is not a numeric one (shapes, all zero)
    Shape shape;                 ///< the shape of both tensors
    std::size_t elements = 0;    ///< number of elements compared
    double score = 0.0;          ///< worst relative error (gradient check) or worst error / tolerance
    double threshold = 0.0;      ///< the largest score that passes
    std::size_t worst_flat = 0;  ///< flat position of the worst element
    double actual_at_worst = 0.0;
    double expected_at_worst = 0.0;
    std::size_t elements_over = 0;  ///< how many elements exceed the threshold
    std::string rule;               ///< the formula of the score, for the report
    double rtol = 0.0;              ///< comparison: relative tolerance; gradient check: the threshold
    double atol = 0.0;              ///< comparison: absolute tolerance; gradient check: the floor
    xt::xarray<double> actual;      ///< the learner's tensor, for the diagnosis
    xt::xarray<double> expected;    ///< the tensor it must equal
    std::size_t batch = 0;          ///< the batch size when the caller knows it (0: unknown)
    std::vector<std::pair<std::string, xt::xarray<double>>> siblings;  ///< other expected tensors, by name

    explicit operator bool() const { return passed; }

    /// @brief The batch size N, so that a result exactly N times off is explained as a mean instead of a sum.
    Comparison& with_batch(std::size_t n) {
        batch = n;
        return *this;
    }
    /// @brief Another expected tensor (for example the numeric db next to dW): the diagnosis says so when the
    /// learner's tensor equals it.
    template <class E>
    Comparison& with_sibling(std::string name, const E& value) {
        siblings.emplace_back(std::move(name), xt::xarray<double>(value));
        return *this;
    }

    /// @brief True when the learner's value `a` passes against the expected value `e` (the element test of this
    /// comparison, with a little room for rounding, so that a pattern found by arithmetic is still found).
    bool element_ok(double a, double e) const {
        const double slack = 1e-9 * (std::abs(a) + std::abs(e));
        if (kind == "gradient check")
            return std::abs(a - e) <= std::max(rtol * std::max(atol, std::abs(a) + std::abs(e)), slack);
        return std::abs(a - e) <= atol + rtol * std::abs(e) + slack;
    }

    /// @brief The multi-index of the worst element, as `(n, c, h, w)`.
    std::string worst_index() const { return index_to_string(worst_flat, shape); }

    /// @brief "looks like: ..." when one pattern explains every element of the difference, else "".
    std::string diagnosis() const;

    /// @brief A readable report of the result, several lines long when the comparison failed.
    std::string report() const {
        std::ostringstream out;
        out << kind << " of " << what << (passed ? " passed" : " FAILED");
        if (!problem.empty()) {
            out << ": " << problem;
        } else if (kind == "gradient check") {
            out << ": worst relative error " << std::scientific << std::setprecision(2) << score
                << (passed ? " <= " : " > ") << threshold << " (threshold)\n  at index " << worst_index()
                << " of shape " << shape_to_string(shape) << ": " << actual_name << " = "
                << number_to_string(actual_at_worst) << ", " << expected_name << " = "
                << number_to_string(expected_at_worst);
            if (!passed) out << "\n  " << elements_over << " of " << elements << " elements exceed the threshold";
        } else if (passed) {
            out << " (" << elements << " elements)";
        } else {
            out << ": " << elements_over << " of " << elements << " elements differ\n  "
                << (rtol == 0.0 && atol == 0.0 ? "first" : "worst") << " at index " << worst_index() << " of shape "
                << shape_to_string(shape) << ": " << actual_name << " " << number_to_string(actual_at_worst) << ", "
                << expected_name << " " << number_to_string(expected_at_worst);
            if (rtol == 0.0 && atol == 0.0) {
                out << " (they must be equal exactly)";
            } else {
                out << " (difference " << number_to_string(std::abs(actual_at_worst - expected_at_worst))
                    << ", allowed " << number_to_string(atol + rtol * std::abs(expected_at_worst)) << ")";
            }
        }
        if (passed) return out.str();
        if (const std::string looks = diagnosis(); !looks.empty()) out << "\n  looks like: " << looks;
        if (problem.empty() && !rule.empty()) out << "\n  " << rule;
        return out.str();
    }
};

inline std::ostream& operator<<(std::ostream& out, const Comparison& c) {
    return out << c.report();
}

namespace detail {

/// True when `pass(i)` holds for every flat index i of `c.actual`.
template <class Pass>
bool every(const Comparison& c, Pass&& pass) {
    for (std::size_t i = 0; i < c.actual.size(); ++i) {
        if (!pass(i)) return false;
    }
    return true;
}

/// "yours is exactly 3 times too small" and why that may be, or "" when `a = e * factor` does not hold.
inline std::string factor_pattern(const Comparison& c, double factor) {
    const auto scaled = [&](std::size_t i) {
        return c.element_ok(c.actual.data()[i], factor * c.expected.data()[i]);
    };
    if (!every(c, scaled)) return "";
    const bool small = factor < 1.0;
    const double n = small ? 1.0 / factor : factor;
    std::ostringstream out;
    out << c.actual_name << " is exactly ";
    if (n == 2.0) {
        out << (small ? "half of " + c.expected_name + ": a factor of 2 is missing"
                      : "2 times too large: a factor of 2 too many");
    } else {
        out << std::llround(n) << " times too " << (small ? "small" : "large");
    }
    if (c.batch > 1 && std::abs(n - static_cast<double>(c.batch)) < 1e-9) {
        out << (small ? ": averaged over the batch (N = " : ": summed over the batch (N = ") << c.batch
            << (small ? ") where the sum is needed?" : ") where the mean is needed?");
    }
    return out.str();
}

/// The shift pattern: the learner's tensor is the expected one moved by one position along `axis`.
inline bool shifted(const Comparison& c, std::size_t axis, std::ptrdiff_t by) {
    std::size_t stride = 1;
    for (std::size_t k = axis + 1; k < c.shape.size(); ++k) stride *= c.shape[k];
    const std::size_t extent = c.shape[axis];
    bool varies = false;  // along a constant axis every shift matches: that proves nothing
    const auto moved = [&](std::size_t i) {
        const std::size_t pos = (i / stride) % extent;
        if ((by > 0 && pos + 1 >= extent) || (by < 0 && pos == 0)) return true;  // no neighbour there
        const std::size_t j = by > 0 ? i + stride : i - stride;
        varies = varies || !c.element_ok(c.expected.data()[i], c.expected.data()[j]);
        return c.element_ok(c.actual.data()[i], c.expected.data()[j]);
    };
    return extent >= 3 && every(c, moved) && varies;
}

}  // namespace detail

inline std::string Comparison::diagnosis() const {
    const bool same_shape = shape_of(actual) == shape_of(expected);
    const auto at = [&](std::size_t i) {
        return std::pair{actual.data()[i], expected.data()[i]};
    };
    if (actual.dimension() == 2 && expected.dimension() == 2 && actual.shape(0) == expected.shape(1) &&
        actual.shape(1) == expected.shape(0) && actual.size() > 1) {
        const auto transposed = [&](std::size_t i) {
            const std::size_t r = i / actual.shape(1), col = i % actual.shape(1);
            return element_ok(actual(r, col), expected(col, r));
        };
        const auto symmetric = [&](std::size_t i) {
            const std::size_t r = i / actual.shape(1), col = i % actual.shape(1);
            return element_ok(expected(col, r), expected(r, col));
        };
        if (detail::every(*this, transposed) && !(same_shape && detail::every(*this, symmetric))) {
            return actual_name + " is the transpose of " + expected_name + " (a missing or extra xt::transpose?)";
        }
    }
    const auto expected_zero = [&](std::size_t i) {
        return expected.data()[i] == 0.0;
    };
    if (!same_shape || actual.size() == 0 || detail::every(*this, expected_zero)) return "";
    const auto zero = [&](std::size_t i) {
        return at(i).first == 0.0;
    };
    if (actual.size() > 1 && detail::every(*this, zero))
        return actual_name + " is zero everywhere (was the result never written?)";
    const auto flipped = [&](std::size_t i) {
        return element_ok(at(i).first, -at(i).second);
    };
    if (detail::every(*this, flipped)) return actual_name + " has the sign flipped everywhere (a minus sign?)";
    // A factor: the batch size first, then the ratio at the largest expected element, if it is a whole number.
    std::size_t largest = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (std::abs(expected.data()[i]) > std::abs(expected.data()[largest])) largest = i;
    }
    std::vector<double> factors;
    if (batch > 1) factors = {1.0 / static_cast<double>(batch), static_cast<double>(batch)};
    if (const double e = expected.data()[largest]; e != 0.0) {
        const double ratio = actual.data()[largest] / e;
        const double whole = std::round(ratio >= 1.0 ? ratio : 1.0 / ratio);
        if (whole >= 2.0 && std::abs((ratio >= 1.0 ? ratio : 1.0 / ratio) - whole) <= 1e-6 * whole) {
            factors.push_back(ratio >= 1.0 ? whole : 1.0 / whole);
        }
    }
    for (const double factor : factors) {
        if (std::string text = detail::factor_pattern(*this, factor); !text.empty()) return text;
    }
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        for (const std::ptrdiff_t by : {1, -1}) {
            if (detail::shifted(*this, axis, by)) {
                return actual_name + " is " + expected_name + " shifted by one position along axis " +
                       std::to_string(axis) + " (an index off by one?)";
            }
        }
    }
    for (const auto& sibling : siblings) {  // (clang 14 cannot capture a structured binding in a lambda)
        const auto equal = [&](std::size_t i) {
            return element_ok(at(i).first, sibling.second.data()[i]);
        };
        if (shape_of(sibling.second) == shape && detail::every(*this, equal)) {
            return actual_name + " equals " + sibling.first + " (two results mixed up?)";
        }
    }
    return "";
}

namespace detail {
template <class A, class B>
Comparison prepare(std::string_view what, const A& a_expr, const B& b_expr, bool gradient) {
    Comparison c;
    c.what = std::string(what);
    c.kind = gradient ? "gradient check" : "comparison";
    c.actual_name = gradient ? "analytic" : "yours";
    c.expected_name = gradient ? "numeric" : "expected";
    c.actual = a_expr;
    c.expected = b_expr;
    const xt::xarray<double>& a = c.actual;
    c.shape = shape_of(a);
    c.elements = a.size();
    if (shape_of(a) != shape_of(c.expected)) {
        c.problem = "the shapes differ: " + c.actual_name + (gradient ? " (yours) " : " ") +
                    shape_to_string(a.shape()) + ", " + c.expected_name + " " + shape_to_string(c.expected.shape());
        return c;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (const auto& [name, v] : {std::pair{c.actual_name, a.data()[i]}, {c.expected_name, c.expected.data()[i]}}) {
            if (!std::isfinite(v)) {
                c.problem = name + " is " + number_to_string(v) + " at index " + index_to_string(i, c.shape) +
                            ", which is not finite";
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
    Comparison c = detail::prepare(what, analytic, numeric, true);
    c.threshold = c.rtol = threshold;
    c.atol = floor;
    std::ostringstream rule;
    rule << "score: max over elements of |analytic - numeric| / max(" << floor << ", |analytic| + |numeric|)";
    c.rule = rule.str();
    if (!c.problem.empty()) return c;
    bool all_zero = true;
    for (std::size_t i = 0; i < c.actual.size(); ++i) {
        const double ai = c.actual.data()[i], ni = c.expected.data()[i];
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
        c.problem =
            "both gradients are zero everywhere, so the check proves nothing (was backward run? is the "
            "input where the function is flat, such as ReLU inputs below 0?)";
        return c;
    }
    c.passed = c.score <= threshold;
    return c;
}

/// @brief Compares two tensors that should hold the same numbers ("this tensor equals that tensor").
///
/// An element passes when \f$ |a - e| \le atol + rtol\,|e| \f$ (as numpy's `allclose`). The report names the
/// worst element: the one whose difference is the largest part of what its tolerance allows. With both
/// tolerances 0 the tensors must be equal exactly, and the report names the first element that differs.
///
/// @param what      what is compared, for the report
/// @param actual    the tensor computed by the code under test ("yours" in the report)
/// @param expected  the tensor it must equal (same shape)
/// @param rtol      relative tolerance
/// @param atol      absolute tolerance, for elements whose expected value is 0
template <class A, class B>
Comparison check_close(std::string_view what, const A& actual, const B& expected, double rtol = 1e-12,
                       double atol = 1e-12) {
    Comparison c = detail::prepare(what, actual, expected, false);
    c.threshold = 1.0;
    c.rtol = rtol;
    c.atol = atol;
    if (rtol != 0.0 || atol != 0.0) {
        std::ostringstream rule;
        rule << "rule: an element passes when |yours - expected| <= " << atol << " + " << rtol << " * |expected|";
        c.rule = rule.str();
    }
    if (!c.problem.empty()) return c;
    for (std::size_t i = 0; i < c.actual.size(); ++i) {
        const double ai = c.actual.data()[i], ei = c.expected.data()[i];
        const double diff = std::abs(ai - ei);
        const double tolerance = atol + rtol * std::abs(ei);
        if (diff <= tolerance) continue;
        ++c.elements_over;
        // With a zero tolerance every difference is as bad as any other: the first one is reported.
        const double err = tolerance > 0.0 ? diff / tolerance : (c.elements_over == 1 ? 1.0 : 0.0);
        if (err > c.score) {
            c.score = err;
            c.worst_flat = i;
            c.actual_at_worst = ai;
            c.expected_at_worst = ei;
        }
    }
    c.passed = c.elements_over == 0;
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
