#pragma once
// Sparse matrix times several dense vectors, the matrix in CSR form (scipy.sparse.csr_matrix):
//   y[v * rows + r] = sum over k in [indptr[r], indptr[r+1]) of values[k] * x[v * cols + indices[k]]   (=)
// for v < n_vectors (rows x cols matrix; x holds n_vectors vectors of cols, y n_vectors of rows).
// Each sum runs in the stored order of its row, in float with fused multiply-adds, so the CPU and
// CUDA versions agree bit for bit. Contract, checked by the caller (models/lsrf validates the weights file): indptr is
// non-decreasing from 0 to nnz, and every index is in [0, cols). y must not alias x.
// Pointers are host pointers for cpu::, device pointers for cuda::.
#include <cstdint>

namespace kernels {
namespace cpu {
void csr_spmv(int64_t rows, int64_t cols, const int32_t* indptr, const int32_t* indices, const float* values,
              int n_vectors, const float* x, float* y);
}
namespace cuda {
void csr_spmv(int64_t rows, int64_t cols, const int32_t* indptr, const int32_t* indices, const float* values,
              int n_vectors, const float* x, float* y);
}
}  // namespace kernels
