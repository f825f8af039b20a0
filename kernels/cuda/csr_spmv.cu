// CSR sparse matrix x dense vectors (kernels/csr_spmv.h), the LSRF/OMP inference product
// (scipy.sparse's csr_matrix @ x). One thread per (vector, row) output in a grid-stride loop: the
// rows hold a handful of values (f + 1 for the published weights), so a warp per row would idle.
// Each sum runs in stored order with fmaf, as kernels/cpu/csr_spmv.cpp does: bit-identical results.
#include "common.cuh"
#include "kernels/csr_spmv.h"

namespace kernels::cuda {
namespace {

__global__ void csr_spmv_kernel(int64_t rows, int64_t cols, const int32_t* indptr, const int32_t* indices,
                                const float* values, int64_t total, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t v = i / rows, r = i % rows;
    const float* xv = x + v * cols;
    float sum = 0.f;
    for (int32_t k = indptr[r]; k < indptr[r + 1]; ++k) sum = fmaf(values[k], xv[indices[k]], sum);
    y[i] = sum;
  }
}

}  // namespace

void csr_spmv(int64_t rows, int64_t cols, const int32_t* indptr, const int32_t* indices, const float* values,
              int n_vectors, const float* x, float* y) {
  const int64_t total = rows * n_vectors;
  if (total == 0) return;
  launch(csr_spmv_kernel, {dim3(grid_for(total)), dim3(elementwise_block), 0, stream()}, rows, cols, indptr, indices,
         values, total, x, y);
}

}  // namespace kernels::cuda
