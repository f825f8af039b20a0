#pragma once
// A sparse matrix in CSR form (scipy.sparse.csr_matrix) held on a device, and its product with
// dense vectors (engine/ops/csr_spmv.cpp, kernels/csr_spmv.h). Not differentiable: the matrices
// are fixed weights (the LSRF/OMP models), so the op records no backward and refuses an input
// that requires grad.
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace engine {

class CsrMatrix {
 public:
  // Validates the structure (indptr rows + 1 entries, non-decreasing from 0 to nnz; every index
  // in [0, cols)) and copies the three arrays to `device`.
  CsrMatrix(int64_t rows, int64_t cols, const std::vector<int32_t>& indptr, const std::vector<int32_t>& indices,
            const std::vector<float>& values, Device device = Device::cpu());
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  Device device() const { return values_.device(); }
  const int32_t* indptr() const { return static_cast<const int32_t*>(indptr_->data); }
  const int32_t* indices() const { return static_cast<const int32_t*>(indices_->data); }
  const float* values() const { return values_.data(); }

 private:
  int64_t rows_ = 0, cols_ = 0;
  std::shared_ptr<Storage> indptr_, indices_;
  Tensor values_;
};

// x [V, cols] -> y [V, rows] with y[v] = m x[v], on m's device (x must be there too). Each sum runs
// in the stored order of its row, so the cpu and cuda devices agree bit for bit.
Tensor csr_spmv(const CsrMatrix& m, const Tensor& x);

}  // namespace engine
