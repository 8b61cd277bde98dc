/// @file fuzz_harness.hpp
/// @brief What the fuzzers do with one input, shared by the libFuzzer targets (fuzz_idx.cpp, fuzz_weights.cpp)
/// and by the Catch2 test that replays fuzz/regressions/ in the ordinary build (tests/common).
///
/// The loaders' contract, checked on every input:
/// - they answer with the decoded data or with a `course::DataError`, never with another exception, a crash,
///   an out-of-bounds read or an allocation sized by a header's claim (the sanitizers and libFuzzer's
///   -malloc_limit_mb catch those);
/// - an error is one line that starts with the file's name;
/// - what they accept is consistent: the decoded sizes add up to exactly the bytes of the input.
///
/// A broken invariant throws `InvariantBroken`, which is not a `DataError`: it escapes, libFuzzer reports a
/// crash and keeps the input, and the Catch2 replay fails.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "course/idx.hpp"
#include "course/weights.hpp"

namespace course_fuzz {

/// @brief A loader broke its contract on this input (a bug, not bad input).
class InvariantBroken : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

inline void require(bool ok, const std::string& what) {
    if (!ok) throw InvariantBroken("fuzz invariant broken: " + what);
}

/// The name the loaders see; every error message must start with it.
inline constexpr const char* source_name = "fuzz-input";

/// An error is one line that starts with the file's name.
inline void require_clear_error(const course::DataError& e, const std::string& source) {
    const std::string message = e.what();
    require(message.rfind(source + ": ", 0) == 0, "the error does not start with the file's name: " + message);
    require(message.find('\n') == std::string::npos, "the error is not one line: " + message);
    require(message.size() < 1000, "the error is " + std::to_string(message.size()) + " characters long");
}

/// What a successful parse_idx must satisfy, then the conversions to images and labels.
inline void check_idx_array(const course::IdxArray& array, std::span<const std::uint8_t> bytes,
                            const std::string& source, bool whole_input) {
    require(!array.dims.empty() && array.dims.size() <= 4, "rank " + std::to_string(array.dims.size()));
    std::size_t count = 1;
    for (std::size_t d : array.dims) {
        require(d > 0, "an extent of 0 was accepted");
        count *= d;
    }
    require(count == array.data.size(), "data.size() " + std::to_string(array.data.size()) +
                                            " is not the product of the dims " + std::to_string(count));
    if (whole_input) {
        require(array.data.size() <= bytes.size(), "more numbers than input bytes");
        const std::size_t header = 4 + 4 * array.dims.size();
        require(header + array.data.size() == bytes.size(), "header + data != the input's size");
        require(std::memcmp(array.data.data(), bytes.data() + header, array.data.size()) == 0,
                "the numbers are not the bytes after the header");
    }
    try {
        const course::Tensor<4> images = course::idx_to_images(array, source);
        require(array.dims.size() == 3, "idx_to_images accepted rank " + std::to_string(array.dims.size()));
        require(images.shape(0) == array.dims[0] && images.shape(1) == 1 && images.shape(2) == array.dims[1] &&
                    images.shape(3) == array.dims[2],
                "idx_to_images gave shape " + course::shape_to_string(images.shape()));
        for (std::size_t i = 0; i < images.size(); ++i) {
            const double v = static_cast<double>(images.data()[i]);
            require(v >= 0.0 && v <= 1.0 && std::abs(v * 255.0 - array.data[i]) < 1e-6, "pixel " + std::to_string(i));
        }
    } catch (const course::DataError& e) {
        require(array.dims.size() != 3, "idx_to_images refused rank 3: " + std::string(e.what()));
        require_clear_error(e, source);
    }
    try {
        const course::Labels labels = course::idx_to_labels(array, source, 10);
        require(array.dims.size() == 1, "idx_to_labels accepted rank " + std::to_string(array.dims.size()));
        require(labels.size() == array.data.size(), "idx_to_labels lost labels");
        for (std::size_t i = 0; i < labels.size(); ++i) {
            require(labels[i] < 10 && labels[i] == array.data[i], "label " + std::to_string(i));
        }
    } catch (const course::DataError& e) {
        require_clear_error(e, source);
    }
}

/// A temporary file of this process, for the path of the reader that decompresses .gz files.
inline std::filesystem::path temp_file(const std::string& suffix) {
    return std::filesystem::temp_directory_path() / ("course-fuzz-" + std::to_string(::getpid()) + suffix);
}

/// One input of fuzz_idx: the bytes as an IDX file in memory; and when they start like a gzip stream (1F 8B),
/// also as a .gz file on disk through read_idx, which decompresses it.
inline void run_idx(std::span<const std::uint8_t> bytes) {
    const std::string source = source_name;
    try {
        const course::IdxArray array = course::parse_idx(bytes, source);
        check_idx_array(array, bytes, source, true);
    } catch (const course::DataError& e) {
        require_clear_error(e, source);
    }
    if (bytes.size() >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B) {
        const std::filesystem::path file = temp_file("-idx.gz");
        std::ofstream(file, std::ios::binary | std::ios::trunc)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        try {
            const course::IdxArray array = course::read_idx(file);
            check_idx_array(array, bytes, file.string(), false);
        } catch (const course::DataError& e) {
            require_clear_error(e, file.string());
        }
        std::filesystem::remove(file);
    }
}

/// The parameters fuzz_weights loads into, and its seeds are made for (make_seeds.cpp writes them).
struct SmallNetwork {
    course::Tensor<2> fc_W = course::Tensor<2>({2, 3}), dfc_W = course::Tensor<2>({2, 3});
    course::Tensor<1> fc_b = course::Tensor<1>({3}), dfc_b = course::Tensor<1>({3});
    course::Tensor<4> conv_W = course::Tensor<4>({2, 1, 2, 2}), dconv_W = course::Tensor<4>({2, 1, 2, 2});

    SmallNetwork() {
        for (std::size_t i = 0; i < fc_W.size(); ++i) fc_W.data()[i] = 1000.0 + static_cast<double>(i);
        for (std::size_t i = 0; i < fc_b.size(); ++i) fc_b.data()[i] = 2000.0 + static_cast<double>(i);
        for (std::size_t i = 0; i < conv_W.size(); ++i) conv_W.data()[i] = 3000.0 + static_cast<double>(i);
    }
    std::vector<course::ParamRef> params() {
        return {course::param_ref("fc.W", fc_W, dfc_W), course::param_ref("fc.b", fc_b, dfc_b),
                course::param_ref("conv.W", conv_W, dconv_W)};
    }
};

/// Every number of every parameter, bit for bit, to see whether a refused load changed anything.
inline std::vector<double> snapshot(const std::vector<course::ParamRef>& params) {
    std::vector<double> all;
    for (const course::ParamRef& p : params) all.insert(all.end(), p.value.begin(), p.value.end());
    return all;
}

inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// parse_weights on one input, with the invariants of a successful parse.
inline void parse_weights_checked(std::span<const std::uint8_t> bytes, const std::string& source) {
    try {
        const std::vector<course::StoredTensor> tensors = course::parse_weights(bytes, source);
        std::size_t numbers = 0;
        for (const course::StoredTensor& t : tensors) {
            require(!t.shape.empty() && t.shape.size() <= 8,
                    "tensor '" + t.name + "' of rank " + std::to_string(t.shape.size()));
            std::size_t count = 1;
            for (std::size_t e : t.shape) count *= e;
            require(count > 0 && count == t.values.size(), "tensor '" + t.name + "' has " +
                                                               std::to_string(t.values.size()) + " numbers for shape " +
                                                               course::shape_to_string(t.shape));
            numbers += count;
        }
        require(4 * numbers <= bytes.size(), "more numbers than the input holds");
        // The format has exactly one encoding of a set of tensors: writing them again gives the input back.
        const std::vector<std::uint8_t> again = course::encode_weights(tensors);
        require(again.size() == bytes.size() && std::equal(again.begin(), again.end(), bytes.begin()),
                "encode_weights(parse_weights(bytes)) differs from bytes");
    } catch (const course::DataError& e) {
        require_clear_error(e, source);
    }
}

/// One input of fuzz_weights: parsed as it is (most random inputs stop at the checksum), then with its last
/// four bytes replaced by the right CRC-32 of the rest, so that the fuzzer reaches the parser behind the
/// checksum; that second form is also loaded into a small fixed set of parameters.
inline void run_weights(std::span<const std::uint8_t> bytes) {
    const std::string source = source_name;
    parse_weights_checked(bytes, source);
    if (bytes.size() < 4) return;
    std::vector<std::uint8_t> fixed(bytes.begin(), bytes.end() - 4);
    course::detail::append_crc32(fixed);
    parse_weights_checked(fixed, source);

    SmallNetwork net;
    const std::vector<course::ParamRef> params = net.params();
    const std::vector<double> before = snapshot(params);
    try {
        course::load_weights(fixed, source, params);
        const std::vector<course::StoredTensor> stored = course::parse_weights(fixed, source);
        for (const course::ParamRef& p : params) {
            const course::StoredTensor* match = nullptr;
            for (const course::StoredTensor& t : stored) {
                if (t.name == p.name) match = &t;
            }
            require(match != nullptr && match->shape == p.shape, "loaded '" + p.name + "' from no tensor of its shape");
            for (std::size_t i = 0; i < p.value.size(); ++i) {
                const double expected = static_cast<double>(match->values[i]);
                require(p.value[i] == expected || (std::isnan(p.value[i]) && std::isnan(expected)),
                        "'" + p.name + "' number " + std::to_string(i) + " is not the file's");
            }
        }
    } catch (const course::DataError& e) {
        require_clear_error(e, source);
        require(same_bits(before, snapshot(params)), "a refused load changed the parameters");
    }
}

}  // namespace course_fuzz
