// Device-only intrinsics the emulator supplies (kernels/emu/intrinsics.h), run inside a kernel
// and checked against their CUDA definitions written as plain host code.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "emu_test_util.h"

namespace {

__global__ void float_intrinsics_kernel(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  out[8 * i + 0] = __expf(v);
  out[8 * i + 1] = __logf(fabsf(v) + 1.0f);
  out[8 * i + 2] = rsqrtf(fabsf(v) + 0.5f);
  out[8 * i + 3] = __fdividef(v, 3.0f);
  out[8 * i + 4] = __frcp_rn(v + 10.0f);
  out[8 * i + 5] = __saturatef(v);
  out[8 * i + 6] = fmaf(v, 2.0f, 1.0f) + tanhf(v);
  out[8 * i + 7] = fminf(v, 0.25f) + fmaxf(v, -0.25f) + min(v, 0.5f) + max(v, -0.5f);
}

__global__ void integer_intrinsics_kernel(const unsigned* x, int* out) {
  const unsigned v = x[threadIdx.x];
  out[6 * threadIdx.x + 0] = __popc(v);
  out[6 * threadIdx.x + 1] = __clz(static_cast<int>(v));
  out[6 * threadIdx.x + 2] = __ffs(static_cast<int>(v));
  out[6 * threadIdx.x + 3] = static_cast<int>(__brev(v));
  out[6 * threadIdx.x + 4] = min(static_cast<int>(v % 100) - 50, 7) + max(3, static_cast<int>(v % 7));
  out[6 * threadIdx.x + 5] = __float_as_int(__int_as_float(static_cast<int>(v)));
}

}  // namespace

TEST_CASE("float intrinsics match their definitions", "[emu][intrinsics]") {
  const std::vector<float> x = {-3.5f, -1.0f, -0.25f, 0.0f, 0.3f, 0.999f, 1.0f, 2.5f, 7.0f,
                                std::numeric_limits<float>::quiet_NaN()};
  const int n = static_cast<int>(x.size());
  emu_test::DeviceBuffer<float> d_x(x);
  emu_test::DeviceBuffer<float> d_out(std::vector<float>(8 * n, 0.f));
  kernels::cuda::launch(float_intrinsics_kernel, {dim3(1), dim3(32)}, d_x.get(), d_out.get(), n);
  const auto out = d_out.to_host();
  for (int i = 0; i < n - 1; ++i) {
    const float v = x[i];
    INFO("x = " << v);
    // The emulator computes fast intrinsics at full precision: within 1 ulp-ish of libm.
    CHECK(out[8 * i + 0] == Approx(std::exp(v)).epsilon(1e-6));
    CHECK(out[8 * i + 1] == Approx(std::log(std::fabs(v) + 1.0f)).epsilon(1e-6).margin(1e-7));
    CHECK(out[8 * i + 2] == Approx(1.0f / std::sqrt(std::fabs(v) + 0.5f)).epsilon(1e-6));
    CHECK(out[8 * i + 3] == Approx(v / 3.0f).epsilon(1e-6).margin(1e-7));
    CHECK(out[8 * i + 4] == Approx(1.0f / (v + 10.0f)).epsilon(1e-6));
    CHECK(out[8 * i + 5] == (v < 0.f ? 0.f : v > 1.f ? 1.f : v));
    CHECK(out[8 * i + 6] == Approx(std::fma(v, 2.0f, 1.0f) + std::tanh(v)).epsilon(1e-6).margin(1e-6));
    CHECK(out[8 * i + 7] == std::fmin(v, 0.25f) + std::fmax(v, -0.25f) + std::fmin(v, 0.5f) + std::fmax(v, -0.5f));
  }
  CHECK(out[8 * (n - 1) + 5] == 0.0f);  // __saturatef(NaN) is 0 in CUDA
}

TEST_CASE("integer intrinsics match their definitions", "[emu][intrinsics]") {
  const std::vector<unsigned> x = {0u, 1u, 2u, 0x80000000u, 0xffffffffu, 0x00f0f000u, 12345u, 0x40000001u};
  const int n = static_cast<int>(x.size());
  emu_test::DeviceBuffer<unsigned> d_x(x);
  emu_test::DeviceBuffer<int> d_out(std::vector<int>(6 * n, 0));
  kernels::cuda::launch(integer_intrinsics_kernel, {dim3(1), dim3(n)}, d_x.get(), d_out.get());
  const auto out = d_out.to_host();
  for (int i = 0; i < n; ++i) {
    const unsigned v = x[i];
    INFO("x = " << v);
    int popc = 0, clz = 0, ffs = 0;
    unsigned brev = 0;
    for (int b = 0; b < 32; ++b) {
      popc += (v >> b) & 1u;
      brev |= ((v >> b) & 1u) << (31 - b);
    }
    while (clz < 32 && ((v >> (31 - clz)) & 1u) == 0) ++clz;
    for (int b = 0; b < 32 && ffs == 0; ++b) ffs = (v >> b) & 1u ? b + 1 : 0;
    CHECK(out[6 * i + 0] == popc);
    CHECK(out[6 * i + 1] == clz);
    CHECK(out[6 * i + 2] == ffs);
    CHECK(static_cast<unsigned>(out[6 * i + 3]) == brev);
    CHECK(out[6 * i + 4] == std::min(static_cast<int>(v % 100) - 50, 7) + std::max(3, static_cast<int>(v % 7)));
    CHECK(static_cast<unsigned>(out[6 * i + 5]) == v);
  }
}
