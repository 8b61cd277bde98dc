/// @file gemm.hpp
/// @brief The matrix products of the fast path: row-major C = op(A) op(B) (+ C), in float and double.
///
/// They are compiled in their own file, gemm.cpp, because OpenBLAS's `cblas.h` and xtensor-blas cannot meet in
/// one translation unit on every Debian release: xtensor-blas 0.20 (Debian 12) declares the CBLAS enums and
/// functions itself, and they clash with `cblas.h`; xtensor-blas 0.21 (Debian 13) no longer declares them at
/// all. gemm.cpp includes `cblas.h` and nothing of xtensor, so the same code builds on both.
#pragma once

namespace course::fast {

/// C (M x N) = op(A) (M x K) op(B) (K x N), plus the old C when `accumulate`; op(X) is X or its transpose.
/// All three are row-major with leading dimensions lda, ldb, ldc.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
          int ldc, bool accumulate = false);
void gemm(bool trans_a, bool trans_b, int M, int N, int K, const double* A, int lda, const double* B, int ldb,
          double* C, int ldc, bool accumulate = false);

}  // namespace course::fast
