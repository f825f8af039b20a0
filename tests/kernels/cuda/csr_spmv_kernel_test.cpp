// kernels::cuda::csr_spmv against kernels::cpu::csr_spmv: exact (both sum each row in stored order
// with fused multiply-adds), on odd sizes, empty rows, one row, rows longer than a warp, and the
// LSRF shape (S² x S²+1 with the bias column, 3 vectors); and the same bits under every schedule.
#include "kernel_test_util.h"
#include "kernels/csr_spmv.h"
#include "random_csr.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;
using test::Csr;
using test::random_csr;

namespace {

struct SpmvCase {
  int64_t rows, cols;
  int max_per_row, vectors;
};

const SpmvCase spmv_cases[] = {{1, 1, 1, 1}, {5, 3, 2, 2}, {257, 31, 6, 3}, {33, 1000, 70, 1}, {1600, 1601, 6, 3}};

}  // namespace

TEST_CASE("csr_spmv kernel matches the CPU exactly on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const SpmvCase& c : spmv_cases) {
    const std::string what = std::to_string(c.rows) + "x" + std::to_string(c.cols) + " x " + std::to_string(c.vectors);
    const Csr m = random_csr(c.rows, c.cols, c.max_per_row, uint32_t(c.rows + c.cols));
    const std::vector<float> x = test::random_values(c.cols * c.vectors, 21);
    std::vector<float> y_cpu(size_t(c.rows * c.vectors));
    kernels::cpu::csr_spmv(c.rows, c.cols, m.indptr.data(), m.indices.data(), m.values.data(), c.vectors, x.data(),
                           y_cpu.data());
    // y_cpu itself against a plain double loop, so the CPU reference is checked too.
    for (int v = 0; v < c.vectors; ++v)
      for (int64_t r = 0; r < c.rows; ++r) {
        double want = 0.0;
        for (int32_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) want += double(m.values[k]) * x[v * c.cols + m.indices[k]];
        REQUIRE(std::abs(y_cpu[v * c.rows + r] - want) <= 1e-5 * (1 + std::abs(want)));
      }
    DeviceBuffer<int32_t> indptr(m.indptr), indices(m.indices.empty() ? std::vector<int32_t>{0} : m.indices);
    DeviceBuffer<float> values(m.values.empty() ? std::vector<float>{0.f} : m.values), x_d(x), y_d(y_cpu.size());
    kernels::cuda::csr_spmv(c.rows, c.cols, indptr.get(), indices.get(), values.get(), c.vectors, x_d.get(), y_d.get());
    test::expect_close(y_d.to_host(), y_cpu, 0, 0, what);
  }
}

TEST_CASE("csr_spmv kernel gives the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const Csr m = random_csr(300, 301, 9, 5);
  DeviceBuffer<int32_t> indptr(m.indptr), indices(m.indices);
  DeviceBuffer<float> values(m.values), x(test::random_values(301 * 3, 22)), y(300 * 3);
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::csr_spmv(300, 301, indptr.get(), indices.get(), values.get(), 3, x.get(), y.get());
        return y.to_host();
      },
      "csr_spmv");
}
