// The fast path's matrix products, through OpenBLAS's CBLAS interface. See gemm.hpp for why this file stands
// alone: it includes cblas.h and no xtensor header.
#include "fast/gemm.hpp"

#include <cblas.h>

namespace course::fast {

namespace {
CBLAS_TRANSPOSE op(bool transpose) {
    return transpose ? CblasTrans : CblasNoTrans;
}
}  // namespace

void gemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
          int ldc, bool accumulate) {
    cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), M, N, K, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C,
                ldc);
}

void gemm(bool trans_a, bool trans_b, int M, int N, int K, const double* A, int lda, const double* B, int ldb,
          double* C, int ldc, bool accumulate) {
    cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), M, N, K, 1.0, A, lda, B, ldb, accumulate ? 1.0 : 0.0, C, ldc);
}

}  // namespace course::fast
