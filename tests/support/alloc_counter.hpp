/// @file alloc_counter.hpp
/// @brief Counts the C++ heap allocations of a program, to show that a steady-state training step of the fast
/// path makes none: it replaces the global `operator new` with one that counts its calls.
///
/// The replaced operators are in alloc_counter.cpp, which an executable adds to its sources once (a replacement
/// operator new may not be inline, so it cannot live in a header that several files include). Today:
/// test_fast (tests/CMakeLists.txt) and bench_train (bench/CMakeLists.txt).
///
/// Every form of plain new and delete is replaced, not only the two that the fast path uses: a sanitizer build
/// brings its own operator new for each form it is not given, and memory from its nothrow new (Catch2 uses it)
/// freed by the free() below would be a real allocator mismatch (AddressSanitizer reports it). The aligned
/// forms (`std::align_val_t`) are not replaced, so they are not counted.
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstddef>

namespace course::alloc_counter {

/// The number of calls of any replaced operator new since the program started.
inline std::atomic<std::size_t> calls{0};

/// @brief How many times operator new ran so far: take the difference of two calls around the code to measure.
inline std::size_t allocations() {
    return calls.load(std::memory_order_relaxed);
}

/// @brief The bytes in use by malloc (glibc's `mallinfo2().uordblks`). It also sees malloc calls that do not go
/// through operator new (OpenBLAS's, for example).
inline std::size_t malloc_bytes_in_use() {
    return mallinfo2().uordblks;
}

}  // namespace course::alloc_counter
