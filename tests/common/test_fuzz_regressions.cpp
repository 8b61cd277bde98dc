// The inputs the fuzzers kept in fuzz/regressions/<target>/ (inputs that once crashed a reader or broke its
// contract), replayed through the ordinary build: each must load or give a DataError, under the same checks
// as the fuzzers (fuzz/fuzz_harness.hpp). The fuzz/ CTest replay tests run them through the clang build as well.
#include "support/catch.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../../fuzz/fuzz_harness.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> kept_inputs(const std::string& target) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fs::path(COURSE_FUZZ_REGRESSIONS) / target)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::uint8_t> bytes_of(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("every input kept by the IDX fuzzer loads or gives a DataError", "[common][fuzz]") {
    const std::vector<fs::path> files = kept_inputs("fuzz_idx");
    REQUIRE_FALSE(files.empty());
    for (const fs::path& file : files) {
        INFO(file.string());
        CHECK_NOTHROW(course_fuzz::run_idx(bytes_of(file)));
    }
}

TEST_CASE("every input kept by the weights fuzzer loads or gives a DataError", "[common][fuzz]") {
    const std::vector<fs::path> files = kept_inputs("fuzz_weights");
    REQUIRE_FALSE(files.empty());
    for (const fs::path& file : files) {
        INFO(file.string());
        CHECK_NOTHROW(course_fuzz::run_weights(bytes_of(file)));
    }
}

TEST_CASE("a tensor name with a line break is shown escaped in a one-line error", "[common][weights]") {
    // What the weights fuzzer found first: the name is the file's data, and it went into the message raw.
    const std::vector<std::uint8_t> bytes =
        course::encode_weights({{"fc\nW\x01", {2, 70000}, std::vector<float>(3, 1.0f)}});
    std::string message;
    try {
        course::parse_weights(bytes, "w.bin");
    } catch (const course::DataError& e) {
        message = e.what();
    }
    CHECK(message ==
          "w.bin: byte 24: tensor 'fc\\x0AW\\x01' claims shape (2, 70000), more numbers than the "
          "file holds");
}
