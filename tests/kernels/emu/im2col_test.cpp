// The im2col / col2im kernels of the cuBLAS conv baseline (kernels/baselines/im2col.cuh), run on the
// emulator: the baseline's lowering, with its GEMMs done by plain loops here, must give the CPU
// convolution (kernels::cpu::conv2d_forward / conv2d_backward_input). cuBLAS itself cannot run
// without a GPU; this checks the index maths around it.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "conv_shape.h"
#include "emu_test_util.h"
#include "im2col.cuh"

namespace {

std::vector<float> random_values(size_t count, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = uniform(generator);
  return v;
}

// |a - b| <= 1e-5 + 1e-5 |b| everywhere (sums of a few dozen products in another order).
void require_close(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": " << a[i] << " vs " << b[i]);
    REQUIRE(std::fabs(a[i] - b[i]) <= 1e-5f + 1e-5f * std::fabs(b[i]));
  }
}

// Odd sizes, batch 1 and 2, C = 1, H != W, strides 1 to 3, paddings 0 to 3, kernels 2 to 7.
const kernels::Conv2dShape cases[] = {
    test::square_conv_shape(2, 3, 7, 6, 4, 3, 2, 1), test::square_conv_shape(1, 1, 5, 5, 2, 4, 2, 1), test::square_conv_shape(1, 2, 4, 6, 3, 2, 1, 0),
    test::square_conv_shape(2, 3, 5, 7, 2, 3, 1, 1), test::square_conv_shape(1, 2, 9, 8, 1, 7, 1, 3), test::square_conv_shape(2, 1, 8, 5, 3, 3, 3, 0),
};

}  // namespace

TEST_CASE("cuBLAS baseline: im2col then w . col is the CPU conv2d_forward", "[im2col]") {
  for (const kernels::Conv2dShape& s : cases) {
    INFO("x " << s.n << "x" << s.c_in << "x" << s.h_in << "x" << s.w_in << " k" << s.k_h << " s" << s.stride << " p"
              << s.pad << " -> " << s.c_out);
    const int64_t k_total = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
    const std::vector<float> x = random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
    const std::vector<float> w = random_values(s.c_out * k_total, 2);
    emu_test::DeviceBuffer<float> x_device(x);
    emu_test::DeviceBuffer<float> col_device(std::vector<float>(s.n * k_total * pixels, NAN));
    kernels::cublas::detail::im2col(s, s.n, x_device.get(), col_device.get());
    const std::vector<float> col = col_device.to_host();
    std::vector<float> y(s.n * s.c_out * pixels), expected(y.size());
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t co = 0; co < s.c_out; ++co)
        for (int64_t p = 0; p < pixels; ++p) {
          double total = 0;
          for (int64_t k = 0; k < k_total; ++k)
            total += double(w[co * k_total + k]) * col[(n * k_total + k) * pixels + p];
          y[(n * s.c_out + co) * pixels + p] = float(total);
        }
    kernels::cpu::conv2d_forward(s, x.data(), w.data(), expected.data());
    require_close(y, expected);
  }
}

TEST_CASE("cuBLAS baseline: w^T . dy then col2im is the CPU conv2d_backward_input", "[im2col]") {
  for (const kernels::Conv2dShape& s : cases) {
    INFO("x " << s.n << "x" << s.c_in << "x" << s.h_in << "x" << s.w_in << " k" << s.k_h << " s" << s.stride << " p"
              << s.pad << " -> " << s.c_out);
    const int64_t k_total = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out;
    const std::vector<float> dy = random_values(s.n * s.c_out * pixels, 3);
    const std::vector<float> w = random_values(s.c_out * k_total, 4);
    std::vector<float> dcol(s.n * k_total * pixels);
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t k = 0; k < k_total; ++k)
        for (int64_t p = 0; p < pixels; ++p) {
          double total = 0;
          for (int64_t co = 0; co < s.c_out; ++co)
            total += double(w[co * k_total + k]) * dy[(n * s.c_out + co) * pixels + p];
          dcol[(n * k_total + k) * pixels + p] = float(total);
        }
    emu_test::DeviceBuffer<float> dcol_device(dcol);
    // NaN-filled: col2im must overwrite every element, including those no tap reaches.
    emu_test::DeviceBuffer<float> dx_device(std::vector<float>(s.n * s.c_in * s.h_in * s.w_in, NAN));
    kernels::cublas::detail::col2im(s, s.n, dcol_device.get(), dx_device.get());
    std::vector<float> expected(s.n * s.c_in * s.h_in * s.w_in);
    kernels::cpu::conv2d_backward_input(s, dy.data(), w.data(), expected.data());
    require_close(dx_device.to_host(), expected);
  }
}
