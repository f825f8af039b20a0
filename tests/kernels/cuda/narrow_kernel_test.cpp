// kernels::cuda::narrow_* (the copies behind narrow and cat) against kernels::cpu::. Tolerance:
// exact (copies). Columns of dx outside the block must keep their previous contents.
#include "kernel_test_util.h"
#include "kernels/narrow.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct NarrowCase {
  int64_t rows, cols, offset, block;
};

// float4 path (block, cols and offset multiples of 4: cat of NCHW maps along channels), scalar
// path (odd sizes, odd offset), one row, one column, the whole row, a block at the end.
const NarrowCase narrow_cases[] = {{4, 64, 16, 32}, {3, 7, 2, 3},   {1, 1, 0, 1},    {5, 9, 0, 9},
                                   {2, 33, 32, 1},  {6, 4096, 4, 2052}, {1, 300, 3, 257}, {17, 12, 8, 4}};

}  // namespace

TEST_CASE("narrow kernels match the CPU exactly on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const NarrowCase& c : narrow_cases) {
    const std::string what = std::to_string(c.rows) + "x" + std::to_string(c.cols) + ", columns " +
                             std::to_string(c.offset) + " + " + std::to_string(c.block);
    const std::vector<float> x = test::random_values(c.rows * c.cols, 11);
    const std::vector<float> dy = test::random_values(c.rows * c.block, 12);
    const std::vector<float> dx_before = test::random_values(c.rows * c.cols, 13);
    std::vector<float> y_cpu(c.rows * c.block), dx_cpu = dx_before;
    kernels::cpu::narrow_forward(c.rows, c.cols, c.offset, c.block, x.data(), y_cpu.data());
    kernels::cpu::narrow_backward(c.rows, c.cols, c.offset, c.block, dy.data(), dx_cpu.data());
    DeviceBuffer<float> x_d(x), y_d(c.rows * c.block), dy_d(dy), dx_d(dx_before);
    kernels::cuda::narrow_forward(c.rows, c.cols, c.offset, c.block, x_d.get(), y_d.get());
    kernels::cuda::narrow_backward(c.rows, c.cols, c.offset, c.block, dy_d.get(), dx_d.get());
    test::expect_close(y_d.to_host(), y_cpu, 0, 0, what + " forward");
    test::expect_close(dx_d.to_host(), dx_cpu, 0, 0, what + " backward");
  }
}

TEST_CASE("narrow kernels give the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const int64_t rows = 9, cols = 40, offset = 8, block = 20;  // float4 path
  DeviceBuffer<float> x(test::random_values(rows * cols, 14)), y(rows * block), dx(rows * cols);
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::narrow_forward(rows, cols, offset, block, x.get(), y.get());
        kernels::cuda::narrow_backward(rows, cols, offset + 1, block - 1, y.get(), dx.get());  // scalar path
        std::vector<float> all = y.to_host(), grad = dx.to_host();
        all.insert(all.end(), grad.begin(), grad.end());
        return all;
      },
      "narrow");
}
