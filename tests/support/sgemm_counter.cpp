// Counts the calls of OpenBLAS's cblas_sgemm made from this executable, and passes each one on to the real
// function (tests/common/test_blas.cpp says why). This file includes neither cblas.h nor xtensor-blas: both
// declare cblas_sgemm with their own parameter types, and two declarations of one C function may not differ.
#include <dlfcn.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include "sgemm_counter.hpp"

namespace {
std::atomic<std::size_t> calls{0};
}

std::size_t course::sgemm_calls() {
    return calls.load();
}

// The CBLAS enums are passed as int, as the C ABI passes them.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int M, int N, int K, float alpha, const float* A,
                            int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    using Sgemm =
        void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
    // The next definition after this executable's: the BLAS library's.
    static const auto real = reinterpret_cast<Sgemm>(dlsym(RTLD_NEXT, "cblas_sgemm"));
    if (real == nullptr) {
        std::fputs("sgemm_counter: no cblas_sgemm in the libraries of this program\n", stderr);
        std::abort();
    }
    calls.fetch_add(1);
    real(order, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
