// Tests of the given single-channel correlation in common/course/correlate2d.hpp, the starting point of
// chapter 5. They must be able to fail: each one pins down a property a wrong version would break.
#include "support/catch.hpp"

#include "course/correlate2d.hpp"
#include "course/gradcheck.hpp"
#include "course/random.hpp"

using namespace course;

TEST_CASE("correlate2d_valid reproduces a small example by hand", "[common]") {
    const Tensor<2> image = {{1, 2, 0}, {0, 1, 3}, {2, 0, 1}};
    const Tensor<2> kernel = {{1, 2}, {-1, 3}};
    // out(0, 0) = 1*1 + 2*2 + 0*(-1) + 1*3 = 8, and so on for the three other positions
    CHECK(check_close("out", correlate2d_valid(image, kernel), Tensor<2>{{8, 10}, {0, 10}}));
}

TEST_CASE("correlate2d_valid lays the kernel on the image without flipping it", "[common]") {
    // A kernel with a single 1 at (p0, q0) picks image(i + p0, j + q0): a shifted window of the image.
    // A true (flipped) convolution would pick image(i + KH-1 - p0, j + KW-1 - q0) instead.
    Rng rng(11);
    const Tensor<2> image = randn<2>({5, 6}, rng);
    Tensor<2> kernel = xt::zeros<double>({3, 2});
    kernel(2, 0) = 1.0;
    const Tensor<2> out = correlate2d_valid(image, kernel);
    Tensor<2> expected = xt::zeros<double>({3, 5});
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 5; ++j) expected(i, j) = image(i + 2, j + 0);
    }
    CHECK(check_close("out", out, expected));
}

TEST_CASE("correlate2d_valid has shape (H - KH + 1) x (W - KW + 1) on rectangular inputs", "[common]") {
    Rng rng(12);
    const Tensor<2> image = randn<2>({4, 7}, rng);
    const Tensor<2> kernel = randn<2>({2, 5}, rng);
    const Tensor<2> out = correlate2d_valid(image, kernel);
    REQUIRE(shape_of(out) == Shape{3, 3});
    // every element is the sum of the products of the window under the kernel
    Tensor<2> expected = xt::zeros<double>({3, 3});
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            for (std::size_t p = 0; p < 2; ++p) {
                for (std::size_t q = 0; q < 5; ++q) expected(i, j) += image(i + p, j + q) * kernel(p, q);
            }
        }
    }
    CHECK(check_close("out", out, expected));
}

TEST_CASE("a kernel as large as the image gives one number: the sum of the products", "[common]") {
    const Tensor<2> image = {{1, 2}, {3, 4}};
    const Tensor<2> kernel = {{2, 0}, {-1, 1}};
    CHECK(check_close("out", correlate2d_valid(image, kernel), Tensor<2>{{2 + 0 - 3 + 4}}));
}

TEST_CASE("correlate2d_valid rejects a kernel that does not fit inside the image", "[common]") {
    const Tensor<2> image = xt::ones<double>({2, 5});
    CHECK_THROWS_AS(correlate2d_valid(image, xt::ones<double>({3, 3})), ShapeError);
    CHECK_THROWS_WITH(correlate2d_valid(image, xt::ones<double>({3, 3})),
                      "correlate2d_valid: kernel has shape (3, 3) but must be at least (1, 1) and fit inside "
                      "the image, shape (2, 5)");
    CHECK_THROWS_AS(correlate2d_valid(image, xt::ones<double>({1, 0})), ShapeError);
    CHECK_NOTHROW(correlate2d_valid(image, xt::ones<double>({2, 5})));
}
