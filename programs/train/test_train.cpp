// End-to-end tests of the training program: it trains and evaluates, and bad input stops it with a one-line
// error (never a crash). Each case makes its own small random data folder and runs the built program
// (COURSE_TRAIN_PROGRAM, from CMake) with its output in files.
#include "support/catch.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <regex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put_u32_big_endian(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_header(std::uint32_t magic, const std::vector<std::uint32_t>& dims) {
    Bytes b;
    put_u32_big_endian(b, magic);
    for (const std::uint32_t d : dims) put_u32_big_endian(b, d);
    return b;
}

// n noise images of size x size pixels, the same for the same seed.
Bytes idx_images(std::uint32_t n, std::uint32_t size, std::uint32_t seed) {
    Bytes b = idx_header(0x803, {n, size, size});
    std::mt19937 rng(seed);
    for (std::uint32_t i = 0; i < n * size * size; ++i) b.push_back(static_cast<std::uint8_t>(rng() >> 24));
    return b;
}

Bytes idx_labels(const Bytes& labels) {
    Bytes b = idx_header(0x801, {static_cast<std::uint32_t>(labels.size())});
    b.insert(b.end(), labels.begin(), labels.end());
    return b;
}

// The labels 0, 1, ..., 9, 0, 1, ... of n images.
Bytes cycling_labels(std::size_t n) {
    Bytes labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    return idx_labels(labels);
}

Bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_text(const fs::path& path) {
    const Bytes bytes = read_bytes(path);
    return {bytes.begin(), bytes.end()};
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

// The command line's words in single quotes, so that the shell passes them unchanged.
std::string quoted(const std::string& word) {
    std::string out = "'";
    for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

struct Run {
    int exit_code = -1;
    std::string out;  ///< everything the program wrote to stdout
    std::string err;  ///< and to stderr
};

// A fresh folder for one test case, removed at its end; the data folders and the program's output go there.
class TrainProgram {
public:
    TrainProgram()
        : root_(fs::temp_directory_path() /
                ("course-test-train-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++))) {
        fs::create_directories(root_);
    }
    TrainProgram(const TrainProgram&) = delete;
    TrainProgram& operator=(const TrainProgram&) = delete;
    ~TrainProgram() {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

protected:
    const fs::path& root() const { return root_; }

    // A data folder "data<size>" with the four IDX files: noise images, the labels 0 to 9 in turn.
    fs::path make_folder(std::uint32_t n_train = 64, std::uint32_t n_test = 32, std::uint32_t size = 28) const {
        fs::path folder = root_ / ("data" + std::to_string(size));
        fs::create_directories(folder);
        write_bytes(folder / "train-images-idx3-ubyte", idx_images(n_train, size, 1));
        write_bytes(folder / "train-labels-idx1-ubyte", cycling_labels(n_train));
        write_bytes(folder / "t10k-images-idx3-ubyte", idx_images(n_test, size, 2));
        write_bytes(folder / "t10k-labels-idx1-ubyte", cycling_labels(n_test));
        return folder;
    }

    // Runs the training program on `data` with its results in the folder `out` of the root, and `args` after.
    Run train(const fs::path& data, const std::vector<std::string>& args = {}, const std::string& out = "o") const {
        const fs::path program = COURSE_TRAIN_PROGRAM;
        INFO("the training program " << program << " (build the train target first)");
        REQUIRE(fs::exists(program));
        std::string command =
            quoted(program.string()) + " --data " + quoted(data.string()) + " --out " + quoted((root_ / out).string());
        for (const std::string& arg : args) command += " " + quoted(arg);
        command += " >" + quoted((root_ / "stdout").string()) + " 2>" + quoted((root_ / "stderr").string());
        const int status = std::system(command.c_str());
        Run run;
        run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        run.out = read_text(root_ / "stdout");
        run.err = read_text(root_ / "stderr");
        return run;
    }

    // The data folder and the weights.bin of one epoch of training, in the folder "out".
    std::pair<fs::path, fs::path> trained_weights() const {
        const fs::path data = make_folder();
        const Run run = train(data, {"--epochs", "1", "--no-plots"}, "out");
        INFO(run.err);
        REQUIRE(run.exit_code == 0);
        return {data, root_ / "out" / "weights.bin"};
    }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    fs::path root_;
};

// The program exited with `code`, and stderr is one non-empty line that contains every fragment.
void check_one_line_error(const Run& run, int code, const std::vector<std::string>& fragments) {
    INFO("stderr: " << run.err);
    CHECK(run.exit_code == code);
    std::vector<std::string> lines;
    for (const std::string& line : lines_of(run.err)) {
        if (line.find_first_not_of(" \t\r\f\v") != std::string::npos) lines.push_back(line);
    }
    REQUIRE(lines.size() == 1);
    for (const std::string& fragment : fragments) CHECK_THAT(lines[0], ContainsSubstring(fragment));
}

bool contains_match(const std::string& text, const std::string& pattern) {
    return std::regex_search(text, std::regex(pattern));
}

}  // namespace

TEST_CASE_METHOD(TrainProgram, "the training program trains one epoch, writes its files and evaluates them",
                 "[train]") {
    const fs::path data = make_folder(), out = root() / "out";
    const Run run = train(data, {"--epochs", "1"}, "out");
    INFO("stderr: " << run.err);
    REQUIRE(run.exit_code == 0);
    // the first line says which data and why, the second how much of it
    const std::vector<std::string> lines = lines_of(run.out);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0] == "data:    data28 (chosen with --data)");
    CHECK_THAT(lines[1], ContainsSubstring("64 training and 32 test images of 1 x 28 x 28"));
    CHECK_THAT(run.out, ContainsSubstring("held-out accuracy:"));
    const std::vector<std::string> metrics = lines_of(read_text(out / "metrics.csv"));
    REQUIRE(!metrics.empty());
    CHECK(metrics[0] ==
          "epoch,learning_rate,train_loss,test_loss,test_accuracy,seconds,images_per_second,elapsed_seconds");
    CHECK(metrics.size() == 2);
    CHECK(read_bytes(out / "weights.bin").size() > std::size_t{4} * 44426);  // LeNet's parameters in float
    for (const char* picture : {"loss.png", "accuracy.png", "conv1_filters.png", "confusion.png", "mistakes.png"}) {
        INFO(picture);
        CHECK_THAT(read_text(out / picture), StartsWith("\x89PNG"));
    }
    const Run evaluated = train(data, {"--evaluate", (out / "weights.bin").string()});
    INFO("stderr of --evaluate: " << evaluated.err);
    CHECK(evaluated.exit_code == 0);
    CHECK_THAT(evaluated.out, ContainsSubstring("held-out accuracy:"));
    CHECK_THAT(evaluated.out, ContainsSubstring("confusion matrix"));
}

TEST_CASE_METHOD(TrainProgram, "the training program refuses a damaged data file with a one-line error", "[train]") {
    struct Damage {
        std::string what;
        std::string file;
        std::function<Bytes(Bytes)> damage;
        std::vector<std::string> fragments;
    };
    const Damage d = GENERATE(values<Damage>({
        {"truncated",
         "train-images-idx3-ubyte",
         [](const Bytes& raw) { return Bytes(raw.begin(), raw.end() - 100); },
         {"train-images-idx3-ubyte", "truncated"}},
        {"wrong magic number",
         "t10k-labels-idx1-ubyte",
         [](Bytes raw) {
             raw[0] = 0x1f;
             raw[1] = 0x8b;
             return raw;
         },
         {"t10k-labels-idx1-ubyte: byte 0: wrong magic number"}},
        {"a label of 12",
         "train-labels-idx1-ubyte",
         [](const Bytes&) {
             Bytes labels(64, 0);
             labels[0] = 1;
             labels[1] = 2;
             labels[2] = 12;
             return idx_labels(labels);
         },
         {"label of sample 2 is 12 but must be below 10"}},
    }));
    INFO(d.what);
    const fs::path data = make_folder();
    write_bytes(data / d.file, d.damage(read_bytes(data / d.file)));
    check_one_line_error(train(data), 2, d.fragments);
}

TEST_CASE_METHOD(TrainProgram, "the training program refuses weights of another shape with a one-line error",
                 "[train]") {
    const fs::path weights = trained_weights().second;
    check_one_line_error(train(make_folder(64, 32, 32), {"--evaluate", weights.string()}), 2,
                         {"'fc1.W' has shape (256, 120) in the file but the network expects (400, 120)"});
}

TEST_CASE_METHOD(TrainProgram, "the training program refuses a damaged weights file with a one-line error", "[train]") {
    const auto [data, weights] = trained_weights();
    const Bytes raw = read_bytes(weights);
    write_bytes(weights, Bytes(raw.begin(), raw.begin() + 1000));
    check_one_line_error(train(data, {"--evaluate", weights.string()}), 2, {"weights.bin: byte"});
}

TEST_CASE_METHOD(TrainProgram, "the training program refuses a NaN weight in a weights file with a one-line error",
                 "[train]") {
    const auto [data, weights] = trained_weights();
    Bytes raw = read_bytes(weights);
    REQUIRE(raw.size() > 1000);
    // conv1.W's numbers start at byte 38; [2, 0, 1, 3] is number 58, at byte 38 + 4 * 58 = 270 (little-endian)
    const auto nan = std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN());
    for (int i = 0; i < 4; ++i) raw[270 + i] = static_cast<std::uint8_t>(nan >> (8 * i));
    // the right checksum (zlib's CRC-32 of every byte before it, as common/course/weights.hpp writes it): only the
    // NaN is wrong
    raw.resize(raw.size() - 4);
    const auto crc = static_cast<std::uint32_t>(crc32(0L, raw.data(), static_cast<uInt>(raw.size())));
    for (int i = 0; i < 4; ++i) raw.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
    write_bytes(weights, raw);
    check_one_line_error(train(data, {"--evaluate", weights.string()}), 2,
                         {"weights.bin: byte 270: conv1.W[2, 0, 1, 3] is NaN, but weights must be finite"});
}

TEST_CASE_METHOD(TrainProgram, "a diverging training run stops, names the tensor and keeps the good weights",
                 "[train]") {
    const auto [data, weights] = trained_weights();  // a good run before, in the same folder
    const Bytes good = read_bytes(weights);
    // 64 images in batches of 32: the second step of epoch 1 already meets the NaN of the first update
    const Run run = train(data, {"--epochs", "3", "--batch-size", "32", "--lr", "1e12", "--no-plots"}, "out");
    check_one_line_error(run, 3, {"The learning rate 1e+12 is probably too high", "No epoch finished"});
    INFO("stderr: " << run.err);
    CHECK(contains_match(run.err, R"(^train: (conv|fc)\d\.d?[Wb]\[[\d, ]+\] is (NaN|[+-]infinity) after step)"));
    const bool weights_kept = read_bytes(weights) == good;  // a bool: Catch2 would print both files
    CHECK(weights_kept);
    const Run evaluated = train(data, {"--evaluate", weights.string()});
    INFO("stderr of --evaluate: " << evaluated.err);
    CHECK(evaluated.exit_code == 0);
}

TEST_CASE_METHOD(TrainProgram, "training stops when a weight overflows while the loss is still finite", "[train]") {
    // White images, all of class 0: with --lr 3e38 the first update overflows a weight to infinity, while the
    // loss of that step (measured before the update) is still finite. Checking only the loss would miss it.
    const fs::path data = make_folder();
    Bytes white = idx_header(0x803, {64, 28, 28});
    white.resize(white.size() + std::size_t{64} * 784, 0xff);
    write_bytes(data / "train-images-idx3-ubyte", white);
    write_bytes(data / "train-labels-idx1-ubyte", idx_labels(Bytes(64, 0)));
    check_one_line_error(train(data, {"--epochs", "1", "--lr", "3e38"}), 3,
                         {".W[", "infinity after step 1 of epoch 1, so training stopped"});
}

TEST_CASE_METHOD(TrainProgram, "the training program's overfit check learns a few images and says both checks passed",
                 "[train]") {
    // Noise images with labels 0 to 9: the reference needs about 160 of the 300 steps for 20 of them at 0.05,
    // and fewer at 0.1. No held-out evaluation and no files.
    const Run run = train(make_folder(), {"--overfit", "20", "--lr", "0.1"});
    INFO(run.out + run.err);
    CHECK(run.exit_code == 0);
    CHECK(contains_match(run.out, R"(check 1, the first loss: \d\.\d{4}; expected close to ln\(10\) = 2\.3026, )"
                                  R"(between 2\.00 and 5\.30: passed)"));
    CHECK(contains_match(run.out, R"(check 2, learning: the loss fell below 0\.01 after \d+ steps \(limit 300\))"));
    CHECK_THAT(run.out, ContainsSubstring("the network classifies 20 of the 20 images right"));
    CHECK_THAT(run.out, ContainsSubstring("overfit: both checks passed"));
    CHECK_THAT(run.out, !ContainsSubstring("held-out accuracy"));
    CHECK(!fs::exists(root() / "o"));
}

TEST_CASE_METHOD(TrainProgram,
                 "the training program's overfit check with a learning rate far too small fails check 2 and says why",
                 "[train]") {
    const Run run = train(make_folder(), {"--overfit", "20", "--lr", "1e-5", "--overfit-steps", "20"});
    INFO(run.out + run.err);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.out, ContainsSubstring(": passed\ncheck 2"));  // check 1 does not depend on the learning rate
    CHECK_THAT(run.out, ContainsSubstring("check 2, learning: the loss is still above 0.01 after 20 steps (limit 20)"));
    CHECK_THAT(run.out, ContainsSubstring(": FAILED\n  The last loss was"));
    CHECK_THAT(run.out, ContainsSubstring("a gradient is wrong"));
    CHECK_THAT(run.out, ContainsSubstring("the learning rate is too low or too high\n"
                                          "  (this run used 1e-05; the default is 0.05)"));
    CHECK_THAT(run.out, ContainsSubstring("an update is missing"));
    CHECK_THAT(run.out, ContainsSubstring("overfit: check 2 failed."));
}

TEST_CASE_METHOD(TrainProgram,
                 "the training program's overfit check of more images than the training set is a one-line error",
                 "[train]") {
    check_one_line_error(train(make_folder(), {"--overfit", "65"}), 2,
                         {"--overfit 65: data28 has only 64 training images"});
}

TEST_CASE_METHOD(TrainProgram, "the training program refuses a missing data folder with a one-line error", "[train]") {
    check_one_line_error(train(root() / "nowhere"), 2, {"no such folder"});
}
