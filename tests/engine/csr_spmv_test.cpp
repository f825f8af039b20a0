// engine::csr_spmv (engine/sparse.h) against a plain double loop; the structure checks that guard
// the kernels; and, on the cuda device, the cpu's bits exactly (both sum each row in stored order
// with fused multiply-adds).
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "engine/sparse.h"
#include "random_csr.h"
#include "test_util.h"

using engine::CsrMatrix;
using engine::Device;
using engine::Tensor;
using test::Csr;
using test::random_csr;

namespace {

CsrMatrix on(const Csr& m, Device device) { return CsrMatrix(m.rows, m.cols, m.indptr, m.indices, m.values, device); }

}  // namespace

TEST_CASE("csr_spmv against a plain loop, 3 vectors, odd sizes", "[cpu]") {
  const Csr m = random_csr(13, 7, 4, 3);
  const Tensor x = test::random_tensor({3, 7}, 4);
  const std::vector<float> y = engine::csr_spmv(on(m, Device::cpu()), x).to_vector(), xs = x.to_vector();
  REQUIRE(y.size() == 3 * 13);
  for (int v = 0; v < 3; ++v)
    for (int64_t r = 0; r < m.rows; ++r) {
      double want = 0.0;
      for (int32_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) want += double(m.values[k]) * xs[v * 7 + m.indices[k]];
      CHECK(y[v * 13 + r] == Approx(want).margin(1e-6));
    }
}

TEST_CASE("csr_spmv refuses a malformed matrix, a wrong x and an x that requires grad", "[cpu]") {
  const std::vector<float> two{1.f, 2.f};
  CHECK_THROWS_WITH(CsrMatrix(2, 3, {0, 1}, {0, 1}, two), Catch::Contains("indptr has 2 entries, expected 3"));
  CHECK_THROWS_WITH(CsrMatrix(2, 3, {0, 2, 1}, {0, 1}, two), Catch::Contains("indptr runs from 0 to 1"));
  CHECK_THROWS_WITH(CsrMatrix(2, 3, {0, 2, 2}, {0, 3}, two), Catch::Contains("column index 3 outside [0, 3)"));
  CHECK_THROWS_WITH(CsrMatrix(1, 3, {0, 2}, {0}, two), Catch::Contains("1 indices for 2 values"));
  const CsrMatrix m(2, 3, {0, 2, 2}, {0, 2}, two);
  CHECK_THROWS_WITH(engine::csr_spmv(m, Tensor::zeros({1, 4})), Catch::Contains("expected x [V, 3]"));
  Tensor x = Tensor::zeros({1, 3});
  x.set_requires_grad(true);
  CHECK_THROWS_WITH(engine::csr_spmv(m, x), Catch::Contains("not differentiable"));
}

TEST_CASE("csr_spmv on the cuda device gives the cpu's bits", "[cuda]") {
  if (!engine::cuda_available()) {
    WARN("skipped: this build has no usable cuda device");
    return;
  }
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {257, 31}, {1600, 1601}}) {
    INFO(rows << " x " << cols);
    const Csr m = random_csr(rows, cols, 6, uint32_t(rows));
    const Tensor x = test::random_tensor({3, cols}, 5);
    const Tensor cpu = engine::csr_spmv(on(m, Device::cpu()), x);
    const Tensor cuda = engine::csr_spmv(on(m, Device::cuda()), x.to(Device::cuda()));
    REQUIRE(cuda.device() == Device::cuda());
    test::expect_close(cuda.to(Device::cpu()), cpu, 0, 0, "csr_spmv cuda vs cpu");
  }
}
