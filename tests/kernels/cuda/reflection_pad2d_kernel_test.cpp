// kernels::cuda::reflection_pad2d_* against kernels::cpu::. Tolerance: exact. The forward is a
// copy, and the backward's gather adds each input's (at most nine) readers in the CPU scatter's
// order, starting from 0, so the float sums round identically.
#include <cstdlib>

#include "kernel_test_util.h"
#include "kernels/reflection_pad2d.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct PadCase {
  int64_t planes, h, w, pad;
};

// Odd sizes, one plane, H != W, p = 0, p = h - 1 (every row reflected), SARGAN's 3 around 7x7
// convolutions on 128x128 maps (here a 19x23 plane), and more planes than a grid row of blocks.
const PadCase pad_cases[] = {{6, 5, 7, 1},  {1, 1, 1, 0},  {1, 2, 2, 1},   {2, 3, 3, 2},
                             {3, 19, 23, 3}, {4, 9, 4, 3}, {70000, 2, 3, 1}, {2, 33, 17, 1}};

}  // namespace

TEST_CASE("reflection_pad2d kernels match the CPU exactly on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const PadCase& c : pad_cases) {
    // The case with more planes than a grid's y dimension (the planes' grid-stride loop) costs
    // seconds under the sanitizers, which set ENGINE_TEST_SMALL.
    if (c.planes > 65535 && std::getenv("ENGINE_TEST_SMALL") != nullptr) continue;
    const std::string what = "planes " + std::to_string(c.planes) + ", " + std::to_string(c.h) + "x" +
                             std::to_string(c.w) + ", pad " + std::to_string(c.pad);
    const int64_t in = c.planes * c.h * c.w, out = c.planes * (c.h + 2 * c.pad) * (c.w + 2 * c.pad);
    const std::vector<float> x = test::random_values(in, 3), dy = test::random_values(out, 4);
    std::vector<float> y_cpu(out), dx_cpu(in);
    kernels::cpu::reflection_pad2d_forward(c.planes, c.h, c.w, c.pad, x.data(), y_cpu.data());
    kernels::cpu::reflection_pad2d_backward(c.planes, c.h, c.w, c.pad, dy.data(), dx_cpu.data());
    DeviceBuffer<float> x_d(x), y_d(out), dy_d(dy), dx_d(in);
    kernels::cuda::reflection_pad2d_forward(c.planes, c.h, c.w, c.pad, x_d.get(), y_d.get());
    kernels::cuda::reflection_pad2d_backward(c.planes, c.h, c.w, c.pad, dy_d.get(), dx_d.get());
    test::expect_close(y_d.to_host(), y_cpu, 0, 0, what + " forward");
    test::expect_close(dx_d.to_host(), dx_cpu, 0, 0, what + " backward");
  }
}

TEST_CASE("reflection_pad2d kernels give the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const int64_t planes = 5, h = 11, w = 6, pad = 3, out = planes * (h + 2 * pad) * (w + 2 * pad);
  DeviceBuffer<float> x(test::random_values(planes * h * w, 5)), y(out), dy(test::random_values(out, 6)),
      dx(planes * h * w);
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::reflection_pad2d_forward(planes, h, w, pad, x.get(), y.get());
        kernels::cuda::reflection_pad2d_backward(planes, h, w, pad, dy.get(), dx.get());
        std::vector<float> all = y.to_host(), grad = dx.to_host();
        all.insert(all.end(), grad.begin(), grad.end());
        return all;
      },
      "reflection_pad2d");
}
