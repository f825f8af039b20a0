// C = A^T B with k-major operands (contract in gemm_tn.h): OpenBLAS does the work.
#include "kernels/gemm_tn.h"

#include <cblas.h>

#include <algorithm>

namespace kernels::cpu {

void gemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // the contract says C = 0; not every BLAS touches C when there is nothing to sum
    for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.f);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(m), int(n), int(k), 1.f, a, int(lda), b, int(ldb), 0.f, c,
              int(ldc));
}

}  // namespace kernels::cpu
