/// @file idx.hpp
/// @brief The IDX file format of MNIST and Fashion-MNIST, plain or gzip-compressed, read with every
/// field checked.
///
/// An IDX file is a small header followed by the numbers, row-major:
///
/// | bytes | content |
/// |---|---|
/// | 0-1 | two zero bytes |
/// | 2 | element type: 0x08 unsigned byte (the only type MNIST uses) |
/// | 3 | number of dimensions, R |
/// | 4 .. 4+4R | R extents, each a big-endian 32-bit unsigned number |
/// | then | the product of the extents, one byte each |
///
/// Images: R = 3, extents (N, 28, 28). Labels: R = 1, extent (N).
///
/// Every error names the file, the byte offset and what was wrong, and nothing is allocated from a size
/// the header claims before the file is known to hold that many bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <zlib.h>

#include "course/tensor.hpp"

namespace course {

/// @brief A data file that cannot be used; the message names the file, the byte offset and the problem.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief The decoded content of an IDX file of unsigned bytes.
struct IdxArray {
    std::vector<std::size_t> dims;   ///< extents, for example {60000, 28, 28}
    std::vector<std::uint8_t> data;  ///< the numbers, row-major; data.size() is the product of dims
};

/// @brief The largest file (after decompression) the reader accepts: far above the 47 MB of the largest
/// MNIST-style file, and a guard against a compressed file that expands without end.
inline constexpr std::size_t idx_max_bytes = std::size_t{1} << 30;

namespace detail {
[[noreturn]] inline void data_error(std::string_view source, std::size_t offset, const std::string& what) {
    throw DataError(std::string(source) + ": byte " + std::to_string(offset) + ": " + what);
}
}  // namespace detail

/// @brief Decodes an IDX file held in memory.
///
/// @param bytes   the whole file, already decompressed
/// @param source  the file's name, for error messages
/// @throws DataError for a wrong magic number, an element type other than unsigned byte, zero or too many
///         dimensions, a zero extent, or a length that differs from what the header announces
inline IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::string_view source) {
    if (bytes.size() < 4) {
        detail::data_error(source, bytes.size(),
                           "the file ends inside its 4-byte header (it holds " + std::to_string(bytes.size()) +
                               " bytes); is it truncated?");
    }
    if (bytes[0] != 0 || bytes[1] != 0) {
        char magic[16];
        std::snprintf(magic, sizeof magic, "0x%02X%02X%02X%02X", bytes[0], bytes[1], bytes[2], bytes[3]);
        detail::data_error(source, 0,
                           std::string("wrong magic number ") + magic +
                               ": an IDX file starts with two zero bytes (e.g. 0x00000803 for images, "
                               "0x00000801 for labels); is this an IDX file, or still compressed?");
    }
    if (bytes[2] != 0x08) {
        char type[8];
        std::snprintf(type, sizeof type, "0x%02X", bytes[2]);
        detail::data_error(
            source, 2,
            std::string("element type ") + type + " is not supported: MNIST-style files hold unsigned bytes (0x08)");
    }
    const std::size_t rank = bytes[3];
    if (rank == 0 || rank > 4) {
        detail::data_error(source, 3, std::to_string(rank) + " dimensions: expected 1 (labels) or 3 (images)");
    }
    const std::size_t header = 4 + 4 * rank;
    if (bytes.size() < header) {
        detail::data_error(
            source, bytes.size(),
            "the file ends inside its header (" + std::to_string(header) + " bytes expected); is it truncated?");
    }
    IdxArray array;
    std::size_t count = 1;
    for (std::size_t axis = 0; axis < rank; ++axis) {
        const std::size_t at = 4 + 4 * axis;
        const std::size_t extent = (std::size_t{bytes[at]} << 24) | (std::size_t{bytes[at + 1]} << 16) |
                                   (std::size_t{bytes[at + 2]} << 8) | std::size_t{bytes[at + 3]};
        if (extent == 0) detail::data_error(source, at, "dimension " + std::to_string(axis) + " has extent 0");
        array.dims.push_back(extent);
        count *= extent;  // at most 4 factors below 2^32 each: checked against the file size before use
        if (count > idx_max_bytes) {
            detail::data_error(
                source, at,
                "the header announces more than " + std::to_string(idx_max_bytes) + " numbers; the file is corrupt");
        }
    }
    const std::size_t expected = header + count;
    if (bytes.size() < expected) {
        detail::data_error(source, bytes.size(),
                           "the file is truncated: the header " + shape_to_string(array.dims) + " announces " +
                               std::to_string(count) + " numbers (" + std::to_string(expected) +
                               " bytes in all) but the file has " + std::to_string(bytes.size()) + " bytes");
    }
    if (bytes.size() > expected) {
        detail::data_error(source, expected,
                           "the file is too long: the header " + shape_to_string(array.dims) + " announces " +
                               std::to_string(expected) + " bytes in all but the file has " +
                               std::to_string(bytes.size()) + " (extra bytes after the data)");
    }
    array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
    return array;
}

/// @brief Reads a whole file into memory, decompressing it when its name ends in `.gz`.
/// @throws DataError when the file is missing, unreadable, not valid gzip, or larger than `idx_max_bytes`
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw DataError(name + ": no such file");
    std::vector<std::uint8_t> bytes;
    if (path.extension() == ".gz") {
        gzFile file = gzopen(name.c_str(), "rb");
        if (file == nullptr) throw DataError(name + ": cannot open the file");
        std::uint8_t chunk[1 << 16];
        for (;;) {
            const int got = gzread(file, chunk, sizeof chunk);
            if (got < 0) {
                int code = 0;
                const std::string why = gzerror(file, &code);
                gzclose(file);
                throw DataError(name + ": byte " + std::to_string(bytes.size()) +
                                " of the decompressed data: not valid gzip (" + why + ")");
            }
            if (got == 0) break;
            bytes.insert(bytes.end(), chunk, chunk + got);
            if (bytes.size() > idx_max_bytes) {
                gzclose(file);
                throw DataError(name + ": decompresses to more than " + std::to_string(idx_max_bytes) + " bytes");
            }
        }
        // gzread reads a plain file as it is; a truncated .gz returns a short read with a Z_BUF_ERROR state.
        int code = Z_OK;
        const std::string why = gzerror(file, &code);
        gzclose(file);
        if (code != Z_OK && code != Z_STREAM_END) {
            throw DataError(name + ": byte " + std::to_string(bytes.size()) +
                            " of the decompressed data: the compressed file is damaged or truncated (" + why + ")");
        }
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw DataError(name + ": cannot open the file");
        const auto size = std::filesystem::file_size(path, ec);
        if (ec) throw DataError(name + ": cannot read the file size");
        if (size > idx_max_bytes) throw DataError(name + ": larger than " + std::to_string(idx_max_bytes) + " bytes");
        bytes.resize(static_cast<std::size_t>(size));
        in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
        if (!in) throw DataError(name + ": cannot read the file");
    }
    return bytes;
}

/// @brief Reads an IDX file (plain or `.gz`).
inline IdxArray read_idx(const std::filesystem::path& path) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    return parse_idx(bytes, path.string());
}

/// @brief Turns decoded IDX images (N, H, W) into a batch (N, 1, H, W) of reals in [0, 1].
/// @throws DataError when the array is not 3-dimensional
inline Tensor<4> idx_to_images(const IdxArray& array, std::string_view source) {
    if (array.dims.size() != 3) {
        throw DataError(std::string(source) + ": byte 3: images need 3 dimensions (N, H, W), the file has " +
                        std::to_string(array.dims.size()) + " " + shape_to_string(array.dims) +
                        "; is this a label file?");
    }
    Tensor<4> images({array.dims[0], 1, array.dims[1], array.dims[2]});
    const real scale = real(1) / real(255);
    for (std::size_t i = 0; i < array.data.size(); ++i) images.data()[i] = static_cast<real>(array.data[i]) * scale;
    return images;
}

/// @brief Turns decoded IDX labels (N) into `Labels`, checking each is below `num_classes`.
/// @throws DataError naming the sample and its byte offset when a label is out of range
inline Labels idx_to_labels(const IdxArray& array, std::string_view source, std::size_t num_classes = 10) {
    if (array.dims.size() != 1) {
        throw DataError(std::string(source) + ": byte 3: labels need 1 dimension (N), the file has " +
                        std::to_string(array.dims.size()) + " " + shape_to_string(array.dims) +
                        "; is this an image file?");
    }
    Labels labels(array.data.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (array.data[i] >= num_classes) {
            detail::data_error(source, 8 + i,
                               "label of sample " + std::to_string(i) + " is " + std::to_string(array.data[i]) +
                                   " but must be below " + std::to_string(num_classes));
        }
        labels[i] = array.data[i];
    }
    return labels;
}

/// @brief Reads an IDX image file into (N, 1, H, W) reals in [0, 1].
inline Tensor<4> read_idx_images(const std::filesystem::path& path) {
    return idx_to_images(read_idx(path), path.string());
}

/// @brief Reads an IDX label file, checking every label is below `num_classes`.
inline Labels read_idx_labels(const std::filesystem::path& path, std::size_t num_classes = 10) {
    return idx_to_labels(read_idx(path), path.string(), num_classes);
}

}  // namespace course
