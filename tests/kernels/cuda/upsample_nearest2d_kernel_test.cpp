// kernels::cuda::upsample_nearest2d_* against kernels::cpu::. Tolerance: exact. Both use
// upsample_nearest_source for the index rule, and the backward's gather sums each input's
// rectangle of outputs in the CPU's order (rows of a column, then columns), from 0.
#include <cstdlib>

#include "kernel_test_util.h"
#include "kernels/upsample_nearest2d.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct UpsampleCase {
  int64_t planes, in_h, in_w, out_h, out_w;
};

// x2 (SARGAN's decoder), the same size, non-integer up-scaling where the float scale decides
// boundary indices, down-scaling (inputs no output reads: gradient 0), to and from 1x1, H != W.
const UpsampleCase upsample_cases[] = {{3, 4, 5, 8, 10},   {1, 1, 1, 2, 2},  {2, 6, 3, 6, 3},  {2, 3, 5, 7, 11},
                                       {1, 7, 9, 3, 4},    {4, 5, 5, 1, 1},  {1, 1, 1, 5, 3},  {2, 13, 10, 32, 17},
                                       {70000, 1, 2, 2, 4}};

}  // namespace

TEST_CASE("upsample_nearest2d kernels match the CPU exactly on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const UpsampleCase& c : upsample_cases) {
    // The case with more planes than a grid's y dimension (the planes' grid-stride loop) costs
    // seconds under the sanitizers, which set ENGINE_TEST_SMALL.
    if (c.planes > 65535 && std::getenv("ENGINE_TEST_SMALL") != nullptr) continue;
    const std::string what = "planes " + std::to_string(c.planes) + ", " + std::to_string(c.in_h) + "x" +
                             std::to_string(c.in_w) + " -> " + std::to_string(c.out_h) + "x" + std::to_string(c.out_w);
    const int64_t in = c.planes * c.in_h * c.in_w, out = c.planes * c.out_h * c.out_w;
    const std::vector<float> x = test::random_values(in, 7), dy = test::random_values(out, 8);
    std::vector<float> y_cpu(out), dx_cpu(in);
    kernels::cpu::upsample_nearest2d_forward(c.planes, c.in_h, c.in_w, c.out_h, c.out_w, x.data(), y_cpu.data());
    kernels::cpu::upsample_nearest2d_backward(c.planes, c.in_h, c.in_w, c.out_h, c.out_w, dy.data(), dx_cpu.data());
    DeviceBuffer<float> x_d(x), y_d(out), dy_d(dy), dx_d(std::vector<float>(in, 99.f));  // 99: must be overwritten
    kernels::cuda::upsample_nearest2d_forward(c.planes, c.in_h, c.in_w, c.out_h, c.out_w, x_d.get(), y_d.get());
    kernels::cuda::upsample_nearest2d_backward(c.planes, c.in_h, c.in_w, c.out_h, c.out_w, dy_d.get(), dx_d.get());
    test::expect_close(y_d.to_host(), y_cpu, 0, 0, what + " forward");
    test::expect_close(dx_d.to_host(), dx_cpu, 0, 0, what + " backward");
  }
}

TEST_CASE("upsample_nearest2d kernels give the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const int64_t planes = 3, in_h = 5, in_w = 7, out_h = 13, out_w = 9;
  DeviceBuffer<float> x(test::random_values(planes * in_h * in_w, 9)), y(planes * out_h * out_w),
      dy(test::random_values(planes * out_h * out_w, 10)), dx(planes * in_h * in_w);
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::upsample_nearest2d_forward(planes, in_h, in_w, out_h, out_w, x.get(), y.get());
        kernels::cuda::upsample_nearest2d_backward(planes, in_h, in_w, out_h, out_w, dy.get(), dx.get());
        std::vector<float> all = y.to_host(), grad = dx.to_host();
        all.insert(all.end(), grad.begin(), grad.end());
        return all;
      },
      "upsample_nearest2d");
}
