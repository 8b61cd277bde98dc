// The one Catch2 header of the course's tests: it works with Catch2 3 (Debian 13, Ubuntu 24.04, Homebrew)
// and Catch2 2 (Debian 12), so no test file says which version it is built with.
//
// Tests write Catch2 3's names; this header supplies the few of them that Catch2 2 spells differently:
//   Catch::Approx                                   (Catch2 2: Approx, or Catch::Detail::Approx)
//   Catch::Matchers::ContainsSubstring(text)        (Catch2 2: Catch::Matchers::Contains(text))
//   Catch::Matchers::StartsWith, EndsWith, Equals, WithinRel, WithinAbs, Message    (the same in both)
// and the macros TEST_CASE, SECTION, CHECK, REQUIRE, CHECK_THAT, CHECK_THROWS_AS, CHECK_THROWS_WITH,
// CHECK_THROWS_MATCHES, INFO, CAPTURE, GENERATE (with values, table and range), TEMPLATE_TEST_CASE,
// which both versions have.
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

#include <string>

namespace Catch {
using Detail::Approx;
namespace Matchers {
// Catch2 3 renamed the substring matcher Contains to ContainsSubstring (Contains now matches ranges).
inline StdString::ContainsMatcher ContainsSubstring(const std::string& text,
                                                    CaseSensitive::Choice case_sensitivity = CaseSensitive::Yes) {
    return Contains(text, case_sensitivity);
}
}  // namespace Matchers
}  // namespace Catch
#endif
