// The one Catch2 header of the course's tests: it works with Catch2 3 (Debian 13, Ubuntu 24.04, Homebrew)
// and Catch2 2 (Debian 12), so no test file says which version it is built with.
//
// Tests write Catch2 3's names; this header supplies the few of them that Catch2 2 spells differently:
//   Catch::Approx                                   (Catch2 2: Approx, or Catch::Detail::Approx)
//   Catch::Matchers::ContainsSubstring(text)        (Catch2 2: Catch::Matchers::Contains(text))
//   Catch::Matchers::MessageMatches(string matcher) (Catch2 3.3 and later; Catch2 2 has none: defined here)
//   Catch::Matchers::StartsWith, EndsWith, Equals, WithinRel, WithinAbs, Message    (the same in both)
// and the macros TEST_CASE, TEST_CASE_METHOD, SECTION, CHECK, REQUIRE, CHECK_THAT, CHECK_THROWS_AS, CHECK_THROWS_WITH,
// CHECK_THROWS_MATCHES, INFO, CAPTURE, GENERATE (with values, table, range and from_range), TEMPLATE_TEST_CASE,
// which both versions have.
//
// It also changes how Catch2 prints values in an expansion (see the end of this file): numbers with enough digits
// to see a difference, and integers in decimal only.
//
// CMake defines COURSE_CATCH2_MAJOR (tests/CMakeLists.txt) from the Catch2 package it found, so the choice
// does not depend on which headers happen to be installed.
#pragma once

#ifndef COURSE_CATCH2_MAJOR
#error "COURSE_CATCH2_MAJOR is not defined: build the tests through CMake (course_add_test_executable)"
#endif

#if COURSE_CATCH2_MAJOR >= 3
// Catch2 3 splits its interface into headers by feature; these are the ones the tests use. (catch_all.hpp
// would compile every feature into every test file, which costs seconds per chapter.)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_adapters.hpp>
#include <catch2/generators/catch_generators_range.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#else
#include <catch2/catch.hpp>

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace Catch {
using Detail::Approx;
namespace Matchers {
// Catch2 3's matcher of an exception's what() by a string matcher, for example
// CHECK_THROWS_MATCHES(f(), ShapeError, MessageMatches(StartsWith("..."))); Message(text) is the exact match.
template <typename StringMatcher>
class ExceptionMessageMatchesMatcher final : public Impl::MatcherBase<std::exception> {
    StringMatcher m_matcher;

public:
    explicit ExceptionMessageMatchesMatcher(StringMatcher matcher) : m_matcher(std::move(matcher)) {}
    bool match(const std::exception& ex) const override { return m_matcher.match(ex.what()); }
    std::string describe() const override { return " matches \"" + m_matcher.describe() + '"'; }
};

template <typename StringMatcher>
ExceptionMessageMatchesMatcher<std::decay_t<StringMatcher>> MessageMatches(StringMatcher&& matcher) {
    return ExceptionMessageMatchesMatcher<std::decay_t<StringMatcher>>(std::forward<StringMatcher>(matcher));
}

// Catch2 3 renamed the substring matcher Contains to ContainsSubstring (Contains now matches ranges).
inline StdString::ContainsMatcher ContainsSubstring(const std::string& text,
                                                    CaseSensitive::Choice case_sensitivity = CaseSensitive::Yes) {
    return Contains(text, case_sensitivity);
}
}  // namespace Matchers
}  // namespace Catch
#endif

#include <string>

// Integers in decimal only. Catch2 2 and 3 print an integer above 255 as "15000 (0x3a98)", which reads like an
// error code. Their StringMaker<int> and its kin are compiled into the Catch2 library, so a header cannot change
// them; but every expansion calls the function template Catch::Detail::stringify, and this header, which every
// test includes before any CHECK, specializes it for the integer types.
#define COURSE_CATCH_DECIMAL(T)                                  \
    template <>                                                  \
    inline std::string Catch::Detail::stringify<T>(const T& e) { \
        return std::to_string(e);                                \
    }
COURSE_CATCH_DECIMAL(int)
COURSE_CATCH_DECIMAL(long)
COURSE_CATCH_DECIMAL(long long)
COURSE_CATCH_DECIMAL(unsigned int)
COURSE_CATCH_DECIMAL(unsigned long)
COURSE_CATCH_DECIMAL(unsigned long long)
#undef COURSE_CATCH_DECIMAL

namespace course_test::detail {
// Enough digits. Catch2 prints floating-point numbers in fixed notation with 10 decimals (float: 5), so
// 4.2e-18 and 0 both print as "0.0", and 0.7500000000000002 as "0.75": a failed check then shows two equal
// numbers. 20 decimals show every double above 1e-20 and about 17 significant digits near 1 (trailing zeros are
// cut, so 0.75 stays "0.75"). Set once, before main, by the first test file that is initialized.
inline bool set_catch_precision() {
    Catch::StringMaker<double>::precision = 20;
    Catch::StringMaker<float>::precision = 12;
    return true;
}
inline const bool catch_precision_is_set = set_catch_precision();
}  // namespace course_test::detail
