// The sanitizer build (COURSE_SANITIZE, the `sanitize` presets) must really have the sanitizers in: a test
// run that passes under a build without them proves nothing. Their runtimes define these functions; the weak
// declarations make their addresses null when a runtime is not linked.
#include "support/catch.hpp"

#if defined(COURSE_SANITIZE)
extern "C" {
__attribute__((weak)) void __asan_init();
__attribute__((weak)) void __ubsan_handle_add_overflow(void*, void*, void*);
}

TEST_CASE("the sanitizer build has AddressSanitizer and UndefinedBehaviorSanitizer in it") {
    CHECK(&__asan_init != nullptr);
    CHECK(&__ubsan_handle_add_overflow != nullptr);
}
#endif
