// Tests of tests/support/catch.hpp: every Catch2 idiom the course's tests may use compiles and works the same
// with Catch2 2 (Debian 12) and Catch2 3 (Debian 13). CI builds this file on both releases.
#include "support/catch.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

struct Shape {
    int height;
    int width;
};

int area(const Shape& s) {
    return s.height * s.width;
}

}  // namespace

TEST_CASE("Catch2 support: Approx and WithinRel compare with a relative tolerance", "[common]") {
    CHECK(0.1 + 0.2 == Catch::Approx(0.3));
    CHECK_FALSE(1.001 == Catch::Approx(1.0));
    CHECK(1.001 == Catch::Approx(1.0).epsilon(0.01));
    CHECK_THAT(0.1 + 0.2, Catch::Matchers::WithinRel(0.3, 1e-12));
    CHECK_THAT(1e-20, Catch::Matchers::WithinAbs(0.0, 1e-15));
    CHECK_THAT(1.1, !Catch::Matchers::WithinRel(1.0, 0.01));
}

TEST_CASE("Catch2 support: the string matchers have Catch2 3's names", "[common]") {
    const std::string message = "Conv2D 'conv1' forward: x has shape (2, 3) but must be (N, C, H, W)";
    CHECK_THAT(message, Catch::Matchers::StartsWith("Conv2D 'conv1'"));
    CHECK_THAT(message, Catch::Matchers::EndsWith("(N, C, H, W)"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("shape (2, 3)"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("SHAPE", Catch::CaseSensitive::No));
    CHECK_THAT(message, !Catch::Matchers::ContainsSubstring("pool1"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring("conv1") && Catch::Matchers::ContainsSubstring("x has"));
    CHECK_THAT(std::string("abc"), Catch::Matchers::Equals("abc"));
}

TEST_CASE("Catch2 support: exceptions are matched by type and by message", "[common]") {
    auto fail = [] {
        throw std::invalid_argument("kernel_size is 17 but must be at most 16");
    };
    CHECK_THROWS_AS(fail(), std::invalid_argument);
    CHECK_THROWS_WITH(fail(), Catch::Matchers::ContainsSubstring("must be at most 16"));
    CHECK_THROWS_MATCHES(fail(), std::invalid_argument,
                         Catch::Matchers::Message("kernel_size is 17 but must be at most 16"));
    CHECK_THROWS_MATCHES(fail(), std::invalid_argument,
                         Catch::Matchers::MessageMatches(Catch::Matchers::StartsWith("kernel_size is 17")));
    CHECK_THROWS_MATCHES(fail(), std::invalid_argument,
                         Catch::Matchers::MessageMatches(Catch::Matchers::ContainsSubstring("at most 16")));
    CHECK_THROWS_MATCHES(fail(), std::invalid_argument,
                         !Catch::Matchers::MessageMatches(Catch::Matchers::EndsWith("at most 15")));
    CHECK_NOTHROW(area({2, 3}));
}

TEST_CASE("Catch2 support: GENERATE runs a case once per row of a table", "[common]") {
    const auto [height, width, expected] = GENERATE(table<int, int, int>({{2, 3, 6}, {3, 2, 6}, {1, 5, 5}}));
    CAPTURE(height, width);
    CHECK(area({height, width}) == expected);
}

TEST_CASE("Catch2 support: GENERATE takes values and ranges", "[common]") {
    const Shape shape = GENERATE(values<Shape>({{1, 1}, {2, 4}, {5, 3}}));
    const int stride = GENERATE(range(1, 4));
    INFO("shape " << shape.height << " x " << shape.width << ", stride " << stride);
    CHECK(area(shape) > 0);
    CHECK(stride >= 1);
    CHECK(stride <= 3);
}

TEMPLATE_TEST_CASE("Catch2 support: TEMPLATE_TEST_CASE runs once per type", "[common]", float, double) {
    const TestType third = TestType(1) / TestType(3);
    CHECK(third * 3 == Catch::Approx(1.0));
    CHECK(sizeof(TestType) >= sizeof(float));
}

TEST_CASE("Catch2 support: SECTIONs share one setup", "[common]") {
    std::vector<int> v{1, 2, 3};
    SECTION("growing") {
        v.push_back(4);
        CHECK(v.size() == 4);
    }
    SECTION("shrinking") {
        v.pop_back();
        CHECK(v.size() == 2);
    }
    CHECK(v.front() == 1);
}

TEST_CASE("Catch2 support: expansions print integers in decimal and tiny numbers with their digits", "[common]") {
    // Catch2 alone prints "15000 (0x3a98)", and "0.0" for both 0 and 4.2e-18.
    CHECK(Catch::Detail::stringify(15000) == "15000");
    CHECK(Catch::Detail::stringify(std::size_t{15000}) == "15000");
    CHECK(Catch::Detail::stringify(-70000L) == "-70000");
    CHECK(Catch::Detail::stringify(4.248354255291589e-18) == "0.00000000000000000425");
    CHECK(Catch::Detail::stringify(0.75) == "0.75");
    CHECK(Catch::Detail::stringify(0.7500000000000002) != Catch::Detail::stringify(0.75));
    CHECK(Catch::StringMaker<Catch::Approx>::convert(Catch::Approx(1e-18)) == "Approx( 0.000000000000000001 )");
}
