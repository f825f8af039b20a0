#pragma once
// Dense single-precision GEMM with the first operand transposed, both operands stored k-major:
//   c[i * ldc + j] = sum over l < k of a[l * lda + i] * b[l * ldb + j]      (=)
// for i < m, j < n: C (m x n) = A^T B with A a k x m and B a k x n row-major matrix (row strides
// lda >= m, ldb >= n, ldc >= n). It is the correlation step of LSRF/OMP training
// (models/lsrf/train.cpp): corr[j, kk] = sum over channels and samples of the normalised feature
// of input pixel j times the residual of output pixel kk, i.e. A = the [3 n, P] features, B = a
// block of columns of the [3 n, P] residuals. k == 0 gives C = 0. C must not alias A or B; sizes
// and strides are below 2^31, and n below 2^22 (the CUDA grid's 65535 column tiles). Pointers
// are host pointers for cpu::, device pointers for cuda::.
// cpu:: is cblas_sgemm; cuda:: sums each element in increasing l with fused multiply-adds, so its
// results differ from the CPU's by float rounding only, and are the same on every run.
#include <cstdint>

namespace kernels {
namespace cpu {
void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc);
}
namespace cuda {
void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc);
}
}  // namespace kernels
