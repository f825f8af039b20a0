// csr_spmv: a CSR matrix times dense vectors (contract in engine/sparse.h). The structure is
// validated once, when the matrix is made, which is what the kernels' contract asks of the caller.
#include "engine/check.h"
#include "engine/dispatch.h"
#include "engine/sparse.h"
#include "kernels/csr_spmv.h"
#include "op_util.h"

namespace engine {
namespace {

std::shared_ptr<Storage> copy_to(Device device, const std::vector<int32_t>& host) {
  auto storage = std::make_shared<Storage>(device, host.size() * sizeof(int32_t));
  if (!host.empty()) device_copy(device, storage->data, Device::cpu(), host.data(), storage->bytes);
  return storage;
}

}  // namespace

CsrMatrix::CsrMatrix(int64_t rows, int64_t cols, const std::vector<int32_t>& indptr,
                     const std::vector<int32_t>& indices, const std::vector<float>& values, Device device)
    : rows_(rows), cols_(cols) {
  ENGINE_CHECK(rows >= 0 && cols >= 0 && rows < (int64_t{1} << 31) && cols < (int64_t{1} << 31),
               "csr_spmv: matrix of ", rows, " x ", cols, " (each must be in [0, 2^31))");
  ENGINE_CHECK(indptr.size() == size_t(rows) + 1, "csr_spmv: indptr has ", indptr.size(), " entries, expected ",
               rows + 1);
  ENGINE_CHECK(indices.size() == values.size(), "csr_spmv: ", indices.size(), " indices for ", values.size(),
               " values");
  ENGINE_CHECK(indptr.front() == 0 && size_t(indptr.back()) == values.size(), "csr_spmv: indptr runs from ",
               indptr.front(), " to ", indptr.back(), ", expected 0 to ", values.size());
  for (int64_t r = 0; r < rows; ++r)
    ENGINE_CHECK(indptr[r] <= indptr[r + 1], "csr_spmv: indptr decreases at row ", r);
  for (const int32_t index : indices)
    ENGINE_CHECK(index >= 0 && index < cols, "csr_spmv: column index ", index, " outside [0, ", cols, ")");
  indptr_ = copy_to(device, indptr);
  indices_ = copy_to(device, indices);
  values_ = Tensor::from_vector(values, {int64_t(values.size())}, device);
}

Tensor csr_spmv(const CsrMatrix& m, const Tensor& x) {
  ops::check_rank("csr_spmv", "x", x, 2);
  ENGINE_CHECK(x.device() == m.device(), "csr_spmv: expected x on ", m.device().str(), " with the matrix, got ",
               x.device().str());
  ENGINE_CHECK(x.shape()[1] == m.cols(), "csr_spmv: expected x [V, ", m.cols(), "], got ", shape_str(x.shape()));
  ENGINE_CHECK(!x.requires_grad(), "csr_spmv: not differentiable (its matrices are fixed weights); x requires grad");
  const int64_t n_vectors = x.shape()[0];
  ENGINE_CHECK(n_vectors < (int64_t{1} << 31), "csr_spmv: ", n_vectors, " vectors (at most 2^31 - 1)");
  Tensor y = Tensor::empty({n_vectors, m.rows()}, x.device());
  if (y.numel() > 0)
    ENGINE_DISPATCH(x.device(), csr_spmv, m.rows(), m.cols(), m.indptr(), m.indices(), m.values(),
                    int(n_vectors), x.data(), y.data());
  return y;
}

}  // namespace engine
