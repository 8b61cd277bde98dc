// Comparisons with exact values (computed in long double), for the [float] tests of chapters 3 and 4: they
// must hold in float as in double, so the tolerance is relative to the precision of `real`.
#pragma once

#include <cmath>
#include <cstddef>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

namespace course_test {

/// The first element of `actual` that is not within `rtol` and `atol` of `expected` (same order as
/// actual.data()), as a message with its index (row and column when `columns` > 0), or "" when every element
/// is close. NaN is never close.
template <class A>
std::string first_far_element(const A& actual, const std::vector<long double>& expected, long double rtol,
                              long double atol, std::size_t columns = 0) {
    if (actual.size() != expected.size()) {
        return "the result has " + std::to_string(actual.size()) + " elements, not " + std::to_string(expected.size());
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const long double a = actual.data()[i];
        const long double e = expected[i];
        if (!(std::abs(a - e) <= atol + rtol * std::abs(e))) {
            std::ostringstream out;
            out << std::setprecision(10) << "element ";
            if (columns > 0) {
                out << "(" << i / columns << ", " << i % columns << ")";
            } else {
                out << i;
            }
            out << " is " << static_cast<double>(a) << " but the exact value is " << static_cast<double>(e);
            return out.str();
        }
    }
    return "";
}

}  // namespace course_test
