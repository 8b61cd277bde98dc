// libFuzzer target: the weights file of common/course/weights.hpp (parse_weights, and load_weights into a
// small fixed set of parameters). CTest runs it (fuzz/CMakeLists.txt); fuzz_harness.hpp says what is checked.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    course_fuzz::run_weights(std::span<const std::uint8_t>(data, size));
    return 0;
}
