/// @file weights.hpp
/// @brief Saving and loading a network's parameters: a small versioned binary file, written atomically,
/// with every name, shape and number checked on load.
///
/// Format, version 1 (all numbers little-endian):
///
/// | bytes | content |
/// |---|---|
/// | 4 | magic `CRSW` |
/// | 4 | format version, 1 |
/// | 4 | T, the number of tensors |
/// | per tensor | name length L (2 bytes), the name (L bytes), rank R (1 byte), R extents (4 bytes each), then the numbers as 32-bit floats |
/// | 4 | CRC-32 of every byte before it |
///
/// Numbers are stored as float whatever `real` is, so weights trained in float load into a double build
/// and back.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

#include <zlib.h>

#include "course/idx.hpp"
#include "course/layer.hpp"

namespace course {

inline constexpr char weights_magic[4] = {'C', 'R', 'S', 'W'};
inline constexpr std::uint32_t weights_version = 1;

/// @brief One tensor as stored in a weights file.
struct StoredTensor {
    std::string name;
    Shape shape;
    std::vector<float> values;
};

namespace detail {
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// Appends the CRC-32 (zlib's) of everything in `out` so far: the last field of a weights file.
inline void append_crc32(std::vector<std::uint8_t>& out) {
    put_u32(out, static_cast<std::uint32_t>(crc32(0L, out.data(), static_cast<uInt>(out.size()))));
}

/// A tensor name read from a file, fit for a one-line message: any byte that is not printable ASCII (a line
/// break, a control character, half of a UTF-8 letter) and the backslash are shown as hex escapes (`\x0A`),
/// and a long name is cut after 60 bytes. The name is the file's data, not a string the program chose.
inline std::string printable_name(std::string_view name) {
    constexpr std::size_t shown = 60;
    std::string out;
    for (std::size_t i = 0; i < name.size() && i < shown; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    if (name.size() > shown) out += "... (" + std::to_string(name.size()) + " bytes)";
    return out;
}

/// Names one number that is NaN or infinite, for a message: `conv1.W[2, 0, 1, 3] is NaN` (or `is +infinity`).
/// The training program's check after every step says it the same way.
inline std::string not_finite(const std::string& tensor, const Shape& shape, std::size_t flat, double value) {
    std::string index = index_to_string(flat, shape);  // (2, 0, 1, 3), shown as [2, 0, 1, 3]
    index.front() = '[';
    index.back() = ']';
    return tensor + index + " is " + (std::isnan(value) ? "NaN" : std::string(value > 0 ? "+" : "-") + "infinity");
}

/// Reads fields from a byte buffer; every read checks there are enough bytes left.
class ByteReader {
public:
    ByteReader(std::span<const std::uint8_t> bytes, std::string_view source) : bytes_(bytes), source_(source) {}
    std::size_t offset() const { return at_; }
    std::size_t left() const { return bytes_.size() - at_; }
    void need(std::size_t n, const std::string& what) const {
        if (left() < n) {
            data_error(source_, bytes_.size(),
                       "the file ends inside " + what + " (" + std::to_string(n) + " bytes needed, " +
                           std::to_string(left()) + " left); is it truncated?");
        }
    }
    std::uint32_t u32(const std::string& what) {
        need(4, what);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t{bytes_[at_ + i]} << (8 * i);
        at_ += 4;
        return v;
    }
    std::uint16_t u16(const std::string& what) {
        need(2, what);
        const auto v = static_cast<std::uint16_t>(bytes_[at_] | (bytes_[at_ + 1] << 8));
        at_ += 2;
        return v;
    }
    std::uint8_t u8(const std::string& what) {
        need(1, what);
        return bytes_[at_++];
    }
    std::span<const std::uint8_t> take(std::size_t n, const std::string& what) {
        need(n, what);
        auto s = bytes_.subspan(at_, n);
        at_ += n;
        return s;
    }

private:
    std::span<const std::uint8_t> bytes_;
    std::string_view source_;
    std::size_t at_ = 0;
};
}  // namespace detail

/// @brief Encodes tensors in the weights format (see the file comment).
inline std::vector<std::uint8_t> encode_weights(const std::vector<StoredTensor>& tensors) {
    std::vector<std::uint8_t> out(weights_magic, weights_magic + 4);
    detail::put_u32(out, weights_version);
    detail::put_u32(out, static_cast<std::uint32_t>(tensors.size()));
    for (const StoredTensor& t : tensors) {
        out.push_back(static_cast<std::uint8_t>(t.name.size() & 0xFF));
        out.push_back(static_cast<std::uint8_t>(t.name.size() >> 8));
        out.insert(out.end(), t.name.begin(), t.name.end());
        out.push_back(static_cast<std::uint8_t>(t.shape.size()));
        for (std::size_t e : t.shape) detail::put_u32(out, static_cast<std::uint32_t>(e));
        for (float v : t.values) {
            std::uint32_t bits;
            std::memcpy(&bits, &v, 4);
            detail::put_u32(out, bits);
        }
    }
    detail::append_crc32(out);
    return out;
}

/// @brief Decodes a weights file held in memory.
/// @throws DataError naming the source, the byte offset and the problem (wrong magic, unknown version,
///         truncation, a size that does not fit the file, a checksum mismatch)
inline std::vector<StoredTensor> parse_weights(std::span<const std::uint8_t> bytes, std::string_view source) {
    detail::ByteReader in(bytes, source);
    const auto magic = in.take(4, "the magic number");
    if (std::memcmp(magic.data(), weights_magic, 4) != 0) {
        detail::data_error(source, 0,
                           "wrong magic number: this is not a weights file of the course (it starts "
                           "with 'CRSW')");
    }
    const std::uint32_t version = in.u32("the version");
    if (version != weights_version) {
        detail::data_error(source, 4,
                           "format version " + std::to_string(version) +
                               " is not supported (this build "
                               "reads version " +
                               std::to_string(weights_version) + ")");
    }
    if (bytes.size() < 16) detail::data_error(source, bytes.size(), "the file is too short to hold a checksum");
    const std::size_t body = bytes.size() - 4;
    std::uint32_t stored_crc = 0;
    for (int i = 0; i < 4; ++i) stored_crc |= std::uint32_t{bytes[body + i]} << (8 * i);
    if (crc32(0L, bytes.data(), static_cast<uInt>(body)) != stored_crc) {
        detail::data_error(source, body, "checksum mismatch: the file is damaged (or was cut and padded)");
    }
    detail::ByteReader fields(bytes.first(body), source);
    fields.take(8, "the header");
    const std::uint32_t count = fields.u32("the tensor count");
    // Each tensor takes at least 4 bytes, so a count larger than that is corrupt: never reserve from it blindly.
    if (count > fields.left() / 4)
        detail::data_error(source, 8, "tensor count " + std::to_string(count) + " is too large for the file");
    std::vector<StoredTensor> tensors;
    for (std::uint32_t t = 0; t < count; ++t) {
        StoredTensor st;
        const std::size_t start = fields.offset();
        const std::uint16_t length = fields.u16("a tensor name's length");
        const auto name = fields.take(length, "a tensor name");
        st.name.assign(name.begin(), name.end());
        const std::string shown = detail::printable_name(st.name);
        const std::uint8_t rank = fields.u8("the rank of '" + shown + "'");
        if (rank == 0 || rank > 8) {
            detail::data_error(source, fields.offset() - 1,
                               "tensor '" + shown + "' has rank " + std::to_string(rank) + " (1 to 8 allowed)");
        }
        std::size_t elements = 1;
        for (std::uint8_t r = 0; r < rank; ++r) {
            const std::size_t e = fields.u32("the shape of '" + shown + "'");
            st.shape.push_back(e);
            elements *= e;
            if (e == 0 || elements > fields.left() / 4) {
                detail::data_error(source, fields.offset() - 4,
                                   "tensor '" + shown + "' claims shape " + shape_to_string(st.shape) +
                                       ", more numbers than the file holds");
            }
        }
        const auto raw =
            fields.take(4 * elements, "the numbers of '" + shown + "' (from byte " + std::to_string(start) + ")");
        st.values.resize(elements);
        for (std::size_t i = 0; i < elements; ++i) {
            const std::uint32_t bits = std::uint32_t{raw[4 * i]} | (std::uint32_t{raw[4 * i + 1]} << 8) |
                                       (std::uint32_t{raw[4 * i + 2]} << 16) | (std::uint32_t{raw[4 * i + 3]} << 24);
            std::memcpy(&st.values[i], &bits, 4);
        }
        tensors.push_back(std::move(st));
    }
    if (fields.left() != 0) {
        detail::data_error(source, fields.offset(),
                           std::to_string(fields.left()) + " unexpected bytes after the last tensor");
    }
    return tensors;
}

/// @brief Writes `params` to `path` atomically: to a temporary file in the same folder first, flushed to
/// disk, then renamed over `path`. An interrupted run leaves either the old file or the new one, never a
/// half-written one.
/// @throws DataError when the file cannot be written
inline void save_weights(const std::filesystem::path& path, const std::vector<ParamRef>& params) {
    std::vector<StoredTensor> tensors;
    tensors.reserve(params.size());
    for (const ParamRef& p : params)
        tensors.push_back({p.name, p.shape, std::vector<float>(p.value.begin(), p.value.end())});
    const std::vector<std::uint8_t> bytes = encode_weights(tensors);
    const std::filesystem::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) throw DataError(path.string() + ": cannot write (" + std::strerror(errno) + ")");
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                    ::fsync(::fileno(f)) == 0;
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed) {
        std::filesystem::remove(tmp);
        throw DataError(path.string() + ": writing failed (" + std::strerror(errno) + "); the old file is unchanged");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp);
        throw DataError(path.string() + ": cannot replace the file (" + ec.message() + ")");
    }
}

/// @brief Loads a weights file held in memory into `params`, as `load_weights(path, params)` does with a file.
///
/// @param bytes   the whole file
/// @param source  the file's name, for error messages
/// @param params  the parameters to fill, which must match the file exactly (names in any order, shapes)
/// @throws DataError as `parse_weights`, and naming the parameter when a name is missing or extra, or a shape
///         differs, or a number is NaN or infinite (with its index and byte offset); nothing is changed in
///         `params` unless every check passes
inline void load_weights(std::span<const std::uint8_t> bytes, std::string_view source,
                         const std::vector<ParamRef>& params) {
    const std::string name(source);
    const std::vector<StoredTensor> stored = parse_weights(bytes, source);
    std::vector<const StoredTensor*> match;
    for (const ParamRef& p : params) {
        const StoredTensor* found = nullptr;
        for (const StoredTensor& s : stored) {
            if (s.name == p.name) found = &s;
        }
        if (found == nullptr) {
            throw DataError(name + ": has no parameter '" + p.name + "' " + shape_to_string(p.shape) +
                            "; was it saved from another network?");
        }
        if (found->shape != p.shape) {
            throw DataError(name + ": parameter '" + p.name + "' has shape " + shape_to_string(found->shape) +
                            " in the file but the network expects " + shape_to_string(p.shape));
        }
        match.push_back(found);
    }
    if (stored.size() != params.size()) {
        for (const StoredTensor& s : stored) {
            bool known = false;
            for (const ParamRef& p : params) known = known || p.name == s.name;
            if (!known) {
                throw DataError(name + ": holds a parameter '" + detail::printable_name(s.name) + "' " +
                                shape_to_string(s.shape) +
                                " that the network does not have; was it saved from another network?");
            }
        }
        throw DataError(name + ": holds " + std::to_string(stored.size()) + " tensors but the network has " +
                        std::to_string(params.size()) + " parameters (a name appears twice?)");
    }
    // The format stores any float, NaN and infinity too, but a network cannot learn or predict with them: refuse
    // them here, before anything is copied. The byte offsets follow the layout of the file comment, in file order.
    std::size_t offset = 12;
    for (const StoredTensor& s : stored) {
        offset += 2 + s.name.size() + 1 + 4 * s.shape.size();
        for (std::size_t i = 0; i < s.values.size(); ++i) {
            if (!std::isfinite(s.values[i])) {
                detail::data_error(
                    source, offset + 4 * i,
                    detail::not_finite(s.name, s.shape, i, s.values[i]) + ", but weights must be finite numbers");
            }
        }
        offset += 4 * s.values.size();
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        std::copy(match[i]->values.begin(), match[i]->values.end(), params[i].value.begin());
    }
}

/// @brief Loads a weights file into `params`, which must match it exactly: the same names, in any order,
/// with the same shapes.
/// @throws DataError naming the file and the parameter when a name is missing or extra, a shape differs, or a
///         number is NaN or infinite; nothing is changed in `params` unless every check passes
inline void load_weights(const std::filesystem::path& path, const std::vector<ParamRef>& params) {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    load_weights(bytes, path.string(), params);
}

}  // namespace course
