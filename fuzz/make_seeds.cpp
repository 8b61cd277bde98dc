// Writes the seeds of the fuzzers: small valid (and nearly valid) files that show libFuzzer the formats, so
// that no binary file needs to be committed. CTest runs it before the fuzz tests (the test "fuzz: write the
// seeds" in fuzz/CMakeLists.txt); it rewrites every seed at every run.
//
//   make_seeds FOLDER     writes FOLDER/fuzz_idx/* and FOLDER/fuzz_weights/*
//
// The weights seeds are made by the course's own writer (course::encode_weights in common/course/weights.hpp),
// the IDX seeds byte by byte (the course has no IDX writer), and their gzip streams by zlib.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>

#include "course/weights.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

/// An IDX file (format in common/course/idx.hpp): two zero bytes, the type, the rank, big-endian extents, data.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& values, std::uint8_t type_code = 0x08) {
    Bytes out = {0, 0, type_code, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(d >> shift));
    }
    out.insert(out.end(), values.begin(), values.end());
    return out;
}

/// `n` bytes from a fixed seed: the same bytes on every machine (std::mt19937's output is standard).
Bytes random_bytes(std::mt19937& rng, std::size_t n) {
    Bytes out(n);
    for (std::uint8_t& b : out) b = static_cast<std::uint8_t>(rng() >> 24);
    return out;
}

Bytes counting(std::size_t n) {
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i);
    return out;
}

/// A gzip stream of `plain` (header time 0, so the bytes are the same at every run).
Bytes gzip(const Bytes& plain) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("zlib: deflateInit2 failed");
    }
    Bytes out(deflateBound(&z, static_cast<uLong>(plain.size())));
    z.next_in = const_cast<Bytef*>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int status = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (status != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
    return out;
}

using Seeds = std::vector<std::pair<std::string, Bytes>>;

Seeds idx_seeds() {
    std::mt19937 rng(7);
    const Bytes labels = idx_bytes({6}, {0, 9, 3, 1, 7, 2});
    const Bytes images = idx_bytes({2, 6, 5}, random_bytes(rng, 2 * 6 * 5));
    return {
        {"labels", labels},
        {"labels-with-12", idx_bytes({3}, {1, 12, 2})},
        {"images-2x6x5", images},
        {"image-28x28", idx_bytes({1, 28, 28}, random_bytes(rng, 28 * 28))},
        {"rank-2", idx_bytes({3, 2}, counting(6))},
        {"rank-4", idx_bytes({1, 2, 1, 2}, counting(4))},
        {"float-type", idx_bytes({2}, Bytes(8, 0), 0x0D)},
        // gzip streams (1F 8B): the harness also writes them to a .gz file and reads them with read_idx.
        {"labels.gz", gzip(labels)},
        {"images.gz", gzip(images)},
    };
}

std::vector<float> steps(std::size_t n, float step) {
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = step * static_cast<float>(i);
    return out;
}

Seeds weights_seeds() {
    // The harness loads into fc.W (2, 3), fc.b (3) and conv.W (2, 1, 2, 2) (SmallNetwork in fuzz_harness.hpp).
    using course::StoredTensor;
    const StoredTensor fc_w{"fc.W", {2, 3}, steps(6, 0.5f)};
    const StoredTensor fc_b{"fc.b", {3}, {-1.0f, 0.0f, 1.0f}};
    const StoredTensor conv_w{"conv.W", {2, 1, 2, 2}, steps(8, 0.25f)};
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const auto file = [](const std::vector<StoredTensor>& tensors) {
        return course::encode_weights(tensors);
    };
    return {
        {"matching", file({fc_w, fc_b, conv_w})},
        {"other-order", file({conv_w, fc_b, fc_w})},
        {"wrong-shape", file({fc_w, {"fc.b", {4}, std::vector<float>(4, 1.0f)}, conv_w})},
        {"missing", file({fc_w, fc_b})},
        {"extra", file({fc_w, fc_b, conv_w, {"fc2.b", {1}, {2.0f}}})},
        {"twice", file({fc_w, fc_b, fc_b})},
        {"empty", file({})},
        {"nan", file({fc_w, {"fc.b", {3}, {nan, inf, -0.0f}}, conv_w})},
    };
}

void write_all(const fs::path& folder, const Seeds& seeds) {
    fs::create_directories(folder);
    for (const auto& [name, bytes] : seeds) {
        const fs::path file = folder / name;
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + file.string());
    }
    std::printf("make_seeds: %zu seeds in %s\n", seeds.size(), folder.string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds FOLDER   (writes FOLDER/fuzz_idx/* and FOLDER/fuzz_weights/*)\n");
        return 2;
    }
    try {
        const fs::path folder = argv[1];
        write_all(folder / "fuzz_idx", idx_seeds());
        write_all(folder / "fuzz_weights", weights_seeds());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_seeds: %s\n", e.what());
        return 1;
    }
    return 0;
}
