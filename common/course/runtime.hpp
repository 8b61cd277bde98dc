/// @file runtime.hpp
/// @brief Settings of the C library and of OpenBLAS that the training program and the benchmarks share.
#pragma once

#include <malloc.h>

#include <cstdlib>
#include <string>

extern "C" {
char* openblas_get_corename(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

namespace course {

/// @brief Keeps freed memory inside the process instead of giving it back to the system.
///
/// A training step allocates and frees the same few large buffers (im2col matrices of several MB) again and
/// again. With glibc's defaults each such buffer is a fresh `mmap`, and touching its pages costs about 900
/// page faults per 3.7 MB, which was a third of the time of conv1's im2col forward pass on this machine.
/// Raising the thresholds lets `malloc` hand back the same memory without faults.
inline void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

/// @brief One OpenBLAS thread, unless the environment variable OPENBLAS_NUM_THREADS asks for more.
///
/// LeNet's matrix products are small (conv1: 6 x 25 times 25 x 36,864 for a batch of 64); splitting them over
/// two threads costs more in synchronization than it gains. Measured with the training program on this
/// machine: 8,100 images/s with one thread, 6,200 with two.
inline void use_one_blas_thread_unless_asked() {
    if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) openblas_set_num_threads(1);
}

/// @brief The name of the kernels OpenBLAS chose for this CPU, and the setting that chose them.
inline std::string openblas_description() {
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    return std::string(openblas_get_corename()) + " kernels (" +
           (coretype ? std::string("OPENBLAS_CORETYPE=") + coretype : std::string("chosen by OpenBLAS")) + "), " +
           std::to_string(openblas_get_num_threads()) + " thread(s)";
}

}  // namespace course
