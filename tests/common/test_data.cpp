// Tests of the data tools in common/: the IDX reader, the weights file, datasets and batches.
// Every corrupt input must give a one-line error that names the file and what was wrong.
#include "support/catch.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include "course/data.hpp"
#include "course/gradcheck.hpp"
#include "course/idx.hpp"
#include "course/weights.hpp"

using namespace course;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
    }
    return b;
}

Bytes idx_images(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
    Bytes b = idx_header(0x08, {n, h, w});
    for (std::uint32_t i = 0; i < n * h * w; ++i) b.push_back(static_cast<std::uint8_t>(i % 256));
    return b;
}

Bytes idx_labels(const std::vector<std::uint8_t>& labels) {
    Bytes b = idx_header(0x08, {static_cast<std::uint32_t>(labels.size())});
    b.insert(b.end(), labels.begin(), labels.end());
    return b;
}

// A fresh folder for one test, removed at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("course-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    static int& counter() {
        static int c = 0;
        return c;
    }
    fs::path write(const std::string& name, const Bytes& bytes) const {
        std::ofstream(path / name, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        return path / name;
    }
    fs::path write_gz(const std::string& name, const Bytes& bytes) const {
        gzFile f = gzopen((path / name).c_str(), "wb");
        gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
        gzclose(f);
        return path / name;
    }
};

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const DataError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("an IDX image file becomes N x 1 x H x W reals in [0 1]", "[common][data]") {
    const Tensor<4> images = idx_to_images(parse_idx(idx_images(2, 3, 4), "mem"), "mem");
    REQUIRE(shape_of(images) == Shape{2, 1, 3, 4});
    CHECK(images(0, 0, 0, 0) == 0.0);
    CHECK(images(0, 0, 0, 1) == Catch::Approx(1.0 / 255.0));
    CHECK(images(1, 0, 2, 3) == Catch::Approx(23.0 / 255.0));
}

TEST_CASE("IDX files are read plain and gzip-compressed alike", "[common][data]") {
    TempDir dir;
    const Bytes bytes = idx_images(3, 28, 28);
    const Tensor<4> plain = read_idx_images(dir.write("a-idx3-ubyte", bytes));
    const Tensor<4> packed = read_idx_images(dir.write_gz("a-idx3-ubyte.gz", bytes));
    CHECK(check_close("gz vs plain", packed, plain, 0.0, 0.0));
}

TEST_CASE("a truncated IDX file names the file and both sizes", "[common][data]") {
    Bytes bytes = idx_images(2, 28, 28);
    bytes.resize(bytes.size() - 10);
    const std::string message = error_of([&] { parse_idx(bytes, "train-images-idx3-ubyte"); });
    CHECK_THAT(message, Catch::Matchers::StartsWith("train-images-idx3-ubyte: byte 1574: the file is truncated"));
    CHECK_THAT(message, Catch::Matchers::ContainsSubstring(
                            "announces 1568 numbers (1584 bytes in all) but the file has 1574 bytes"));
    CHECK(message.find('\n') == std::string::npos);
    const auto inside_magic = [] {
        parse_idx(Bytes{0, 0}, "x");
    };
    CHECK_THAT(error_of(inside_magic), Catch::Matchers::ContainsSubstring("ends inside its 4-byte header"));
    const auto inside_sizes = [] {
        parse_idx(Bytes{0, 0, 8, 3, 0, 0}, "x");
    };
    CHECK_THAT(error_of(inside_sizes), Catch::Matchers::ContainsSubstring("ends inside its header"));
}

TEST_CASE("a truncated gzip file is refused", "[common][data]") {
    TempDir dir;
    const fs::path full = dir.write_gz("full.gz", idx_images(50, 28, 28));
    std::ifstream in(full, std::ios::binary);
    Bytes packed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    packed.resize(packed.size() / 2);
    const fs::path cut = dir.write("cut-idx3-ubyte.gz", packed);
    CHECK_THAT(error_of([&] { read_idx(cut); }), Catch::Matchers::ContainsSubstring("cut-idx3-ubyte.gz: byte"));
}

TEST_CASE("a wrong magic number or element type is refused with the byte offset", "[common][data]") {
    Bytes bytes = idx_images(1, 2, 2);
    bytes[0] = 0x1F;  // what a forgotten gunzip looks like
    CHECK_THAT(error_of([&] { parse_idx(bytes, "f"); }),
               Catch::Matchers::StartsWith("f: byte 0: wrong magic number 0x1F000803"));
    Bytes floats = idx_header(0x0D, {1});
    floats.insert(floats.end(), {0, 0, 0, 0});
    CHECK_THAT(error_of([&] { parse_idx(floats, "f"); }),
               Catch::Matchers::StartsWith("f: byte 2: element type 0x0D is not supported"));
    CHECK_THAT(error_of([&] { parse_idx(idx_header(0x08, {}), "f"); }),
               Catch::Matchers::ContainsSubstring("byte 3: 0 dimensions"));
}

TEST_CASE("an IDX file longer than its header announces is refused", "[common][data]") {
    Bytes bytes = idx_labels({1, 2, 3});
    bytes.push_back(7);
    CHECK_THAT(error_of([&] { parse_idx(bytes, "labels"); }),
               Catch::Matchers::StartsWith("labels: byte 11: the file is too long"));
}

TEST_CASE("a header that claims more numbers than the file holds allocates nothing", "[common][data]") {
    const Bytes huge = idx_header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF});
    CHECK_THAT(error_of([&] { parse_idx(huge, "f"); }), Catch::Matchers::ContainsSubstring("more than"));
    const Bytes big = idx_header(0x08, {60000, 28, 28});
    CHECK_THAT(error_of([&] { parse_idx(big, "f"); }), Catch::Matchers::ContainsSubstring("the file is truncated"));
}

TEST_CASE("a label of 12 is refused with the sample and its byte offset", "[common][data]") {
    const IdxArray labels = parse_idx(idx_labels({3, 12, 1}), "train-labels-idx1-ubyte");
    CHECK(error_of([&] { idx_to_labels(labels, "train-labels-idx1-ubyte"); }) ==
          "train-labels-idx1-ubyte: byte 9: label of sample 1 is 12 but must be below 10");
    CHECK(idx_to_labels(parse_idx(idx_labels({0, 9}), "f"), "f") == Labels{0, 9});
}

TEST_CASE("images and labels of different lengths are refused", "[common][data]") {
    TempDir dir;
    const fs::path images = dir.write("i", idx_images(3, 28, 28));
    const fs::path labels = dir.write("l", idx_labels({1, 2}));
    CHECK_THAT(error_of([&] { load_idx_pair(images, labels); }),
               Catch::Matchers::ContainsSubstring("holds 3 images but") &&
                   Catch::Matchers::ContainsSubstring("holds 2 labels"));
    CHECK_THAT(error_of([&] { load_idx_pair(labels, labels); }),
               Catch::Matchers::ContainsSubstring("images need 3 dimensions"));
}

TEST_CASE("a data folder needs the four standard files", "[common][data]") {
    TempDir dir;
    dir.write("train-images-idx3-ubyte", idx_images(4, 28, 28));
    dir.write("train-labels-idx1-ubyte", idx_labels({0, 1, 2, 3}));
    dir.write_gz("t10k-images-idx3-ubyte.gz", idx_images(2, 28, 28));
    CHECK_THAT(
        error_of([&] { load_idx_directory(dir.path); }),
        Catch::Matchers::ContainsSubstring("t10k-labels-idx1-ubyte: no such file (nor t10k-labels-idx1-ubyte.gz)"));
    dir.write_gz("t10k-labels-idx1-ubyte.gz", idx_labels({5, 9}));
    const TrainTest data = load_idx_directory(dir.path);
    CHECK(data.train.size() == 4);
    CHECK(data.test.labels == Labels{5, 9});
    CHECK_THAT(error_of([&] { load_idx_directory(dir.path / "nope"); }),
               Catch::Matchers::ContainsSubstring("no such folder"));
}

TEST_CASE("weights survive a save and a load", "[common][weights]") {
    TempDir dir;
    Tensor<2> W = {{1.5, -2.0}, {0.25, 3.0}}, dW = xt::zeros<double>({2, 2});
    Tensor<1> b = {0.5, -0.5}, db = xt::zeros<double>({2});
    const std::vector<ParamRef> params = {param_ref("fc.W", W, dW), param_ref("fc.b", b, db)};
    const fs::path file = dir.path / "weights.bin";
    save_weights(file, params);
    CHECK(fs::exists(file));
    for (const auto& entry : fs::directory_iterator(dir.path)) CHECK(entry.path().filename() == "weights.bin");
    Tensor<2> W2 = xt::zeros<double>({2, 2});
    Tensor<1> b2 = xt::zeros<double>({2});
    load_weights(file, {param_ref("fc.b", b2, db), param_ref("fc.W", W2, dW)});  // order does not matter
    CHECK(check_close("W", W2, W, 0.0, 0.0));
    CHECK(check_close("b", b2, b, 0.0, 0.0));
}

TEST_CASE("weights of another shape or name are refused and change nothing", "[common][weights]") {
    TempDir dir;
    Tensor<2> W = xt::ones<double>({2, 3}), dW = xt::zeros<double>({2, 3});
    const fs::path file = dir.path / "w.bin";
    save_weights(file, {param_ref("fc.W", W, dW)});
    Tensor<2> other = xt::zeros<double>({3, 2}), dother = xt::zeros<double>({3, 2});
    CHECK(error_of([&] { load_weights(file, {param_ref("fc.W", other, dother)}); }) ==
          file.string() + ": parameter 'fc.W' has shape (2, 3) in the file but the network expects (3, 2)");
    CHECK(xt::amax(xt::abs(other))() == 0.0);
    CHECK_THAT(error_of([&] { load_weights(file, {param_ref("fc1.W", other, dother)}); }),
               Catch::Matchers::ContainsSubstring("has no parameter 'fc1.W' (3, 2)"));
    Tensor<1> b = xt::zeros<double>({3}), db = xt::zeros<double>({3});
    save_weights(file, {param_ref("fc.W", W, dW), param_ref("fc.b", b, db)});
    CHECK_THAT(error_of([&] { load_weights(file, {param_ref("fc.W", W, dW)}); }),
               Catch::Matchers::ContainsSubstring("holds a parameter 'fc.b' (3) that the network does not have"));
}

TEST_CASE("a truncated or damaged weights file is refused", "[common][weights]") {
    Tensor<2> W = xt::ones<double>({4, 4}), dW = xt::zeros<double>({4, 4});
    std::vector<StoredTensor> stored = {{"fc.W", {4, 4}, std::vector<float>(16, 1.0f)}};
    Bytes bytes = encode_weights(stored);
    REQUIRE(parse_weights(bytes, "w").size() == 1);
    Bytes cut(bytes.begin(), bytes.begin() + 40);
    CHECK_THAT(error_of([&] { parse_weights(cut, "w.bin"); }), Catch::Matchers::StartsWith("w.bin: byte"));
    Bytes flipped = bytes;
    flipped[30] ^= 0x40;
    CHECK_THAT(error_of([&] { parse_weights(flipped, "w.bin"); }),
               Catch::Matchers::ContainsSubstring("checksum mismatch"));
    Bytes wrong = bytes;
    wrong[0] = 'X';
    CHECK_THAT(error_of([&] { parse_weights(wrong, "w.bin"); }),
               Catch::Matchers::StartsWith("w.bin: byte 0: wrong magic number"));
    Bytes future = bytes;
    future[4] = 2;
    CHECK_THAT(error_of([&] { parse_weights(future, "w.bin"); }),
               Catch::Matchers::ContainsSubstring("format version 2 is not supported"));
}

TEST_CASE("a NaN or an infinity in any tensor of a weights file is refused at its byte and changes nothing",
          "[common][weights]") {
    // Layout (weights.hpp): a 12-byte header; fc.W (2, 3) has 2 + 4 + 1 + 2 * 4 = 15 bytes before its numbers,
    // which start at byte 27; fc.b (3) then has 11 bytes before its numbers, which start at 27 + 24 + 11 = 62.
    const std::vector<float> w = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9};
    struct Plant {
        bool in_b;
        std::size_t index;
        float value;
        std::string message;
    };
    const std::vector<Plant> plants = {
        {false, 0, std::numeric_limits<float>::quiet_NaN(), "w.bin: byte 27: fc.W[0, 0] is NaN"},
        {false, 3, -std::numeric_limits<float>::infinity(), "w.bin: byte 39: fc.W[1, 0] is -infinity"},
        {true, 2, std::numeric_limits<float>::infinity(), "w.bin: byte 70: fc.b[2] is +infinity"},  // the last number
    };
    for (const Plant& plant : plants) {
        INFO(plant.message);
        std::vector<StoredTensor> stored = {{"fc.W", {2, 3}, w}, {"fc.b", {3}, b}};
        (plant.in_b ? stored[1] : stored[0]).values[plant.index] = plant.value;
        const Bytes bytes = encode_weights(stored);
        Tensor<2> W = xt::zeros<double>({2, 3}), dW = xt::zeros<double>({2, 3});
        Tensor<1> bias = xt::zeros<double>({3}), db = xt::zeros<double>({3});
        CHECK(error_of([&] {
                  load_weights(bytes, "w.bin", {param_ref("fc.W", W, dW), param_ref("fc.b", bias, db)});
              }) == plant.message + ", but weights must be finite numbers");
        // Nothing is copied before every number was checked: the network keeps its weights.
        CHECK(xt::amax(xt::abs(W))() == 0.0);
        CHECK(xt::amax(xt::abs(bias))() == 0.0);
    }
}

TEST_CASE("the synthetic digits are repeatable and cover every class", "[common][data]") {
    Rng a(9), b(9);
    const Dataset d1 = make_synthetic_digits(30, a), d2 = make_synthetic_digits(30, b);
    CHECK(check_close("same seed", d1.images, d2.images, 0.0, 0.0));
    CHECK(d1.labels[0] == 0);
    CHECK(d1.labels[13] == 3);
    CHECK(xt::amin(d1.images)() >= 0.0);
    CHECK(xt::amax(d1.images)() <= 1.0);
}

TEST_CASE("gather_batch copies the chosen samples and their labels", "[common][data]") {
    Rng rng(1);
    const Dataset d = make_synthetic_digits(12, rng);
    Tensor<4> x;
    Labels y;
    const std::vector<std::size_t> pick = {11, 0, 5};
    gather_batch(d, pick, x, y);
    CHECK(shape_of(x) == Shape{3, 1, 28, 28});
    CHECK(y == Labels{1, 0, 5});
    CHECK(x(0, 0, 10, 7) == d.images(11, 0, 10, 7));
    const std::vector<std::size_t> bad = {12};
    CHECK_THROWS_AS(gather_batch(d, bad, x, y), ArgumentError);
}
