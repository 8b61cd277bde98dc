/// @file data.hpp
/// @brief Datasets: the four standard MNIST IDX files of a folder, a tiny synthetic set for tests, and
/// minibatches.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "course/errors.hpp"
#include "course/idx.hpp"
#include "course/random.hpp"

namespace course {

/// @brief Images with one label each.
struct Dataset {
    Tensor<4> images;  ///< shape (N, C, H, W), values in [0, 1]
    Labels labels;     ///< N labels, each in [0, K)
    std::size_t size() const { return labels.size(); }
};

/// @brief A training set and a held-out test set.
struct TrainTest {
    Dataset train;
    Dataset test;
};

/// @brief Finds `name` or `name.gz` in `dir`.
inline std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& name) {
    for (const std::string& candidate : {name, name + ".gz"}) {
        if (std::filesystem::is_regular_file(dir / candidate)) return dir / candidate;
    }
    throw DataError((dir / name).string() + ": no such file (nor " + name +
                    ".gz); a data folder holds the four "
                    "standard MNIST files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
                    "and t10k-labels-idx1-ubyte, plain or .gz");
}

/// @brief Reads an image file and a label file and checks they describe the same number of samples.
inline Dataset load_idx_pair(const std::filesystem::path& images_file, const std::filesystem::path& labels_file,
                             std::size_t num_classes = 10) {
    Dataset d{read_idx_images(images_file), read_idx_labels(labels_file, num_classes)};
    if (d.images.shape(0) != d.labels.size()) {
        throw DataError(images_file.string() + " holds " + std::to_string(d.images.shape(0)) + " images but " +
                        labels_file.string() + " holds " + std::to_string(d.labels.size()) + " labels");
    }
    return d;
}

/// @brief Loads a folder with the four standard MNIST files (plain or `.gz`): MNIST itself, the course's
/// MNIST subset, or Fashion-MNIST.
inline TrainTest load_idx_directory(const std::filesystem::path& dir, std::size_t num_classes = 10) {
    if (!std::filesystem::is_directory(dir)) throw DataError(dir.string() + ": no such folder");
    TrainTest data{load_idx_pair(find_idx_file(dir, "train-images-idx3-ubyte"),
                                 find_idx_file(dir, "train-labels-idx1-ubyte"), num_classes),
                   load_idx_pair(find_idx_file(dir, "t10k-images-idx3-ubyte"),
                                 find_idx_file(dir, "t10k-labels-idx1-ubyte"), num_classes)};
    if (data.train.images.shape(2) != data.test.images.shape(2) ||
        data.train.images.shape(3) != data.test.images.shape(3)) {
        throw DataError(dir.string() + ": training images are " + shape_to_string(data.train.images.shape()) +
                        " but test images are " + shape_to_string(data.test.images.shape()));
    }
    return data;
}

/// @brief A tiny synthetic set of 28 x 28 "digits" made in memory, for tests that must not need files.
///
/// Class k is a bright stroke whose position and direction depend on k (five horizontal bars at
/// different heights, five vertical ones), shifted by up to one pixel and with a little noise, so a
/// small network can learn it in a few steps. Labels cycle through the classes: 0, 1, ..., K-1, 0, ...
inline Dataset make_synthetic_digits(std::size_t n, Rng& rng, std::size_t num_classes = 10) {
    if (num_classes == 0 || num_classes > 10) {
        throw ArgumentError("make_synthetic_digits: num_classes must be 1 to 10, not " + std::to_string(num_classes));
    }
    Dataset d{Tensor<4>({n, 1, 28, 28}), Labels(n)};
    for (std::size_t s = 0; s < n; ++s) {
        const std::size_t k = s % num_classes;
        d.labels[s] = k;
        const int shift = static_cast<int>(rng.index(3)) - 1;
        const int at = 4 + 4 * static_cast<int>(k % 5) + shift;
        for (int h = 0; h < 28; ++h) {
            for (int w = 0; w < 28; ++w) {
                const bool on =
                    k < 5 ? (h == at || h == at + 1) && w >= 4 && w < 24 : (w == at || w == at + 1) && h >= 4 && h < 24;
                const double noise = rng.uniform(0.0, 0.15);
                d.images(s, 0, h, w) = static_cast<real>(on ? 1.0 - noise : noise);
            }
        }
    }
    return d;
}

/// @brief Copies the samples `indices` of `data` into a batch `x` (B, C, H, W) and its labels `y`.
///
/// `x` and `y` are resized only when the batch size changes, so a training loop that reuses them does not
/// allocate at every step.
inline void gather_batch(const Dataset& data, std::span<const std::size_t> indices, Tensor<4>& x, Labels& y) {
    const auto& s = data.images.shape();
    const std::array<std::size_t, 4> shape = {indices.size(), s[1], s[2], s[3]};
    if (!std::equal(shape.begin(), shape.end(), x.shape().begin())) x.resize(shape);
    y.resize(indices.size());
    const std::size_t per_sample = s[1] * s[2] * s[3];
    for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] >= data.size()) {
            throw ArgumentError("gather_batch: sample index " + std::to_string(indices[i]) + " but the dataset holds " +
                                std::to_string(data.size()));
        }
        std::copy_n(data.images.data() + indices[i] * per_sample, per_sample, x.data() + i * per_sample);
        y[i] = data.labels[indices[i]];
    }
}

/// @brief One pass over `data` in a random order, in minibatches: what every training epoch does.
///
/// Shuffles the sample indices with `rng`, cuts them into minibatches of `batch_size` (the last one may be
/// smaller), copies each into `x` and `y`, and calls `step(x, y, index, count)` with the minibatch's index and
/// the number of minibatches. `step` returns false to stop early.
/// @return the number of minibatches `step` was called with
inline std::size_t for_each_minibatch(
    const Dataset& data, std::size_t batch_size, Rng& rng,
    const std::function<bool(const Tensor<4>& x, const Labels& y, std::size_t index, std::size_t count)>& step) {
    if (batch_size == 0) throw ArgumentError("for_each_minibatch: batch_size must be at least 1");
    std::vector<std::size_t> order(data.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng.engine());  // a new order every epoch: no fixed batch pattern
    const std::size_t count = (data.size() + batch_size - 1) / batch_size;
    Tensor<4> x;
    Labels y;
    for (std::size_t index = 0; index < count; ++index) {
        const std::size_t start = index * batch_size, end = std::min(start + batch_size, data.size());
        gather_batch(data, std::span<const std::size_t>(order.data() + start, end - start), x, y);
        if (!step(x, y, index, count)) return index + 1;
    }
    return count;
}

/// @brief A copy of `data` in which every image is moved by a random whole number of pixels, up to
/// `max_shift` in each direction (the pixels that come in are 0).
///
/// Data augmentation: a digit moved by a pixel or two is still the same digit, so the network sees new
/// examples at every epoch and learns features that do not depend on the exact position. On a small
/// training set this narrows the gap between training and test accuracy.
inline Dataset random_shifts(const Dataset& data, std::size_t max_shift, Rng& rng) {
    Dataset out{Tensor<4>(data.images.shape()), data.labels};
    const std::size_t N = data.images.shape(0), C = data.images.shape(1), H = data.images.shape(2),
                      W = data.images.shape(3);
    const auto range = static_cast<int>(max_shift);
    for (std::size_t n = 0; n < N; ++n) {
        const int dy = static_cast<int>(rng.index(2 * max_shift + 1)) - range;
        const int dx = static_cast<int>(rng.index(2 * max_shift + 1)) - range;
        for (std::size_t c = 0; c < C; ++c) {
            const real* src = data.images.data() + ((n * C + c) * H) * W;
            real* dst = out.images.data() + ((n * C + c) * H) * W;
            for (int h = 0; h < static_cast<int>(H); ++h) {
                for (int w = 0; w < static_cast<int>(W); ++w) {
                    const int sh = h - dy, sw = w - dx;
                    const bool inside = sh >= 0 && sh < static_cast<int>(H) && sw >= 0 && sw < static_cast<int>(W);
                    dst[h * static_cast<int>(W) + w] = inside ? src[sh * static_cast<int>(W) + sw] : real(0);
                }
            }
        }
    }
    return out;
}

/// @brief Mirrors half of the images of `data` left to right, chosen at random (in place).
///
/// Data augmentation for pictures whose mirror image has the same label, such as clothes (a shoe pointing left
/// is still a shoe); not for digits, whose mirror images are not digits.
inline void random_flips(Dataset& data, Rng& rng) {
    const std::size_t N = data.images.shape(0), C = data.images.shape(1), H = data.images.shape(2),
                      W = data.images.shape(3);
    for (std::size_t n = 0; n < N; ++n) {
        if (rng.index(2) == 0) continue;
        for (std::size_t row = 0; row < C * H; ++row) {
            real* r = data.images.data() + (n * C * H + row) * W;
            std::reverse(r, r + W);
        }
    }
}

/// @brief The first `n` samples of a dataset (all of them when n is larger).
inline Dataset take(const Dataset& data, std::size_t n) {
    n = std::min(n, data.size());
    std::vector<std::size_t> indices(n);
    std::iota(indices.begin(), indices.end(), std::size_t{0});
    Dataset out;
    gather_batch(data, indices, out.images, out.labels);
    return out;
}

}  // namespace course
