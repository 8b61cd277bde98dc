/// @file random.hpp
/// @brief A seeded random generator, so that every test and every training run can be repeated exactly.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "course/tensor.hpp"

namespace course {

/// @brief The seed used when nobody chooses one.
inline constexpr std::uint64_t default_seed = 42;

/// @brief A seeded random number generator (64-bit Mersenne Twister).
///
/// The same seed gives the same numbers on every run of the same build, which is what makes a failing
/// test or a training curve reproducible.
class Rng {
public:
    explicit Rng(std::uint64_t seed = default_seed) : engine_(seed) {}

    /// @brief A number drawn from the normal distribution with the given mean and standard deviation.
    double normal(double mean = 0.0, double stddev = 1.0) {
        return std::normal_distribution<double>(mean, stddev)(engine_);
    }

    /// @brief A number drawn uniformly from [lo, hi).
    double uniform(double lo = 0.0, double hi = 1.0) { return std::uniform_real_distribution<double>(lo, hi)(engine_); }

    /// @brief A whole number drawn uniformly from [0, n).
    std::size_t index(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine_); }

    /// @brief The underlying engine, for `std::shuffle` and friends.
    std::mt19937_64& engine() { return engine_; }

private:
    std::mt19937_64 engine_;
};

/// @brief A tensor of the given shape filled with normal samples of mean 0 and standard deviation `stddev`.
template <std::size_t Rank>
Tensor<Rank> randn(const std::array<std::size_t, Rank>& shape, Rng& rng, double stddev = 1.0) {
    Tensor<Rank> t(shape);
    for (auto& v : t) v = static_cast<real>(rng.normal(0.0, stddev));
    return t;
}

/// @brief A tensor of the given shape filled with uniform samples from [lo, hi).
template <std::size_t Rank>
Tensor<Rank> rand_uniform(const std::array<std::size_t, Rank>& shape, Rng& rng, double lo = -1.0, double hi = 1.0) {
    Tensor<Rank> t(shape);
    for (auto& v : t) v = static_cast<real>(rng.uniform(lo, hi));
    return t;
}

/// @brief Uniform samples whose magnitude lies in [margin, hi]: a random sign times a number in [margin, hi].
///
/// Gradient checks of ReLU need inputs away from its kink at 0: within `h` of the kink, the central
/// difference straddles it and measures the wrong slope.
template <std::size_t Rank>
Tensor<Rank> rand_away_from_zero(const std::array<std::size_t, Rank>& shape, Rng& rng, double margin = 0.1,
                                 double hi = 1.0) {
    if (!(margin > 0.0 && margin < hi)) throw std::invalid_argument("rand_away_from_zero: need 0 < margin < hi");
    Tensor<Rank> t(shape);
    for (auto& v : t) {
        const double magnitude = rng.uniform(margin, hi);
        v = static_cast<real>(rng.uniform() < 0.5 ? -magnitude : magnitude);
    }
    return t;
}

/// @brief A vector of `n` class labels drawn uniformly from [0, classes).
inline std::vector<std::size_t> random_labels(std::size_t n, std::size_t classes, Rng& rng) {
    std::vector<std::size_t> labels(n);
    for (auto& y : labels) y = rng.index(classes);
    return labels;
}

}  // namespace course
