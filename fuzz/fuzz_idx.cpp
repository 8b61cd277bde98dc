// libFuzzer target: the IDX reader of common/course/idx.hpp (parse_idx, idx_to_images, idx_to_labels, and
// read_idx on gzip input). CTest runs it (fuzz/CMakeLists.txt); fuzz_harness.hpp says what is checked.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    course_fuzz::run_idx(std::span<const std::uint8_t>(data, size));
    return 0;
}
