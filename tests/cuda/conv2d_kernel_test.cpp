// kernels::cuda::conv2d_* (implicit GEMM) against kernels::cpu:: (im2col + sgemm) on a case
// table: SARGAN's kernel/stride/padding combinations, odd sizes that leave partial 64x64 tiles and
// partial 16-deep k steps, batch 1, C = 1, H != W, and reductions long enough for split-K in each
// of the three (few output tiles, K >= 256: split_slices in conv2d.cu).
// Tolerance |cuda - cpu| <= 1e-4 + 1e-4 |cpu|: sums of at most a few thousand products of values
// in [-1, 1], in another order than sgemm's.
#include "kernel_test_util.h"
#include "kernels/conv2d.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct ConvCase {
  int64_t n, c_in, h, w, c_out, k, stride, pad;
};

const ConvCase conv_cases[] = {
    {1, 10, 13, 11, 8, 7, 1, 3},   // generator input conv (3 + 7 channels), odd sizes
    {2, 3, 16, 12, 5, 4, 2, 1},    // down-sampling 4x4/2
    {1, 1, 9, 7, 1, 3, 1, 1},      // C = 1
    {1, 6, 9, 9, 70, 3, 2, 1},     // 3x3/2, more output channels than one tile
    {2, 5, 6, 8, 3, 3, 1, 0},      // after reflection padding
    {1, 17, 2, 2, 1, 3, 1, 1},     // PatchGAN head on a 2x2 map
    {2, 19, 2, 2, 7, 2, 1, 0},     // classification head
    {2, 4, 40, 36, 6, 3, 1, 1},    // N*Ho*Wo = 2880: backward_weight splits its reduction
    {1, 96, 2, 2, 3, 3, 1, 1},     // D's head, deep: forward splits K = 864 into 6 slices
    {1, 24, 4, 4, 96, 4, 2, 1},    // D's deep 4x4/2: backward_input splits K = 1536 (12), forward K = 384 (3)
    {1, 5, 7, 6, 4, 1, 2, 0},      // 1x1/2: input pixels that no tap reaches get dx = 0
};

kernels::Conv2dShape shape_of(const ConvCase& c) {
  kernels::Conv2dShape s;
  s.n = c.n, s.c_in = c.c_in, s.h_in = c.h, s.w_in = c.w, s.c_out = c.c_out, s.k_h = c.k, s.k_w = c.k;
  s.stride = c.stride, s.pad = c.pad;
  s.h_out = (c.h + 2 * c.pad - c.k) / c.stride + 1;
  s.w_out = (c.w + 2 * c.pad - c.k) / c.stride + 1;
  return s;
}

}  // namespace

TEST_CASE("conv2d kernels match the CPU on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const ConvCase& c : conv_cases) {
    const kernels::Conv2dShape s = shape_of(c);
    INFO("x [" << c.n << "," << c.c_in << "," << c.h << "," << c.w << "] w [" << c.c_out << "," << c.c_in << ","
               << c.k << "," << c.k << "] stride " << c.stride << " pad " << c.pad);
    const int64_t x_size = s.n * s.c_in * s.h_in * s.w_in, w_size = s.c_out * s.c_in * s.k_h * s.k_w,
                  y_size = s.n * s.c_out * s.h_out * s.w_out;
    const auto x = test::random_values(x_size, 1), w = test::random_values(w_size, 2), dy = test::random_values(y_size, 3);
    std::vector<float> y(y_size), dx(x_size), dw(w_size);
    kernels::cpu::conv2d_forward(s, x.data(), w.data(), y.data());
    kernels::cpu::conv2d_backward_input(s, dy.data(), w.data(), dx.data());
    kernels::cpu::conv2d_backward_weight(s, x.data(), dy.data(), dw.data());

    DeviceBuffer<float> x_d(x), w_d(w), dy_d(dy), y_d(y_size), dx_d(x_size), dw_d(w_size);
    auto run = [&] {
      kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get());
      kernels::cuda::conv2d_backward_input(s, dy_d.get(), w_d.get(), dx_d.get());
      kernels::cuda::conv2d_backward_weight(s, x_d.get(), dy_d.get(), dw_d.get());
      std::vector<float> all = y_d.to_host(), dx_h = dx_d.to_host(), dw_h = dw_d.to_host();
      all.insert(all.end(), dx_h.begin(), dx_h.end());
      all.insert(all.end(), dw_h.begin(), dw_h.end());
      return all;
    };
    run();
    test::expect_close(y_d.to_host(), y, 1e-4, 1e-4, "forward");
    test::expect_close(dx_d.to_host(), dx, 1e-4, 1e-4, "backward_input");
    test::expect_close(dw_d.to_host(), dw, 1e-4, 1e-4, "backward_weight");
    kernel_test::require_schedule_independent(run, "conv2d kernels");
  }
}

TEST_CASE("conv2d kernels reject a tensor too large for 32-bit indexing", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  // x [1024, 64, 256, 128]: 2^31 elements. The check comes before any device access.
  kernels::Conv2dShape s = shape_of({1, 64, 256, 128, 8, 3, 1, 1});
  s.n = 1024;
  REQUIRE_THROWS_WITH(kernels::cuda::conv2d_forward(s, nullptr, nullptr, nullptr),
                      Catch::Contains("32-bit indexing"));
}
