// CSR sparse matrix x dense vectors (contract in csr_spmv.h): one row's sum per output element.
#include "kernels/csr_spmv.h"

#include <cmath>

namespace kernels::cpu {

void csr_spmv(int64_t rows, int64_t cols, const int32_t* indptr, const int32_t* indices, const float* values,
              int n_vectors, const float* x, float* y) {
  // Threads only pay off for large products: the LSRF weights (S² rows of f + 1 values, ~10^5
  // multiply-adds per image) take tens of microseconds on one core, less than waking a team.
  const int64_t work = int64_t(indptr[rows]) * n_vectors;
#pragma omp parallel for collapse(2) schedule(static) if (work > (int64_t(1) << 22))
  for (int v = 0; v < n_vectors; ++v)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xv = x + v * cols;
      float sum = 0.f;
      for (int32_t k = indptr[r]; k < indptr[r + 1]; ++k) sum = std::fma(values[k], xv[indices[k]], sum);
      y[v * rows + r] = sum;
    }
}

}  // namespace kernels::cpu
