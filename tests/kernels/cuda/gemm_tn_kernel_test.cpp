// kernels::cuda::gemm_tn (the LSRF correlation GEMM) against kernels::cpu::gemm_tn (OpenBLAS) on
// a case table: sizes that leave partial 128 x 64 tiles and partial 16-deep k steps, m = 1, n = 1,
// k = 0, strides wider than the matrix (a block of columns, as LSRF passes), and LSRF's own
// shapes. Tolerance: both sums are within k 2^-24 sum_l |a_li b_lj| of the exact value (the
// classic bound for a float sum of k products, in any order), so |cuda - cpu| <= atol with
// atol = 2 k 2^-24 max_ij sum_l |a_li b_lj|; the CPU result is also checked against a double loop
// with half that. Small-integer inputs, whose float sums are exact, must agree bit for bit.
#include <cmath>

#include "kernel_test_util.h"
#include "kernels/gemm_tn.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct GemmCase {
  int64_t m, n, k;
  int64_t lda, ldb, ldc;  // row strides (>= m, n, n)
  int64_t b_offset;       // B starts this many columns into its rows
  const char* what;
};

const GemmCase gemm_cases[] = {
    {1, 1, 1, 1, 1, 1, 0, "1 x 1 x 1"},
    {1, 5, 3, 1, 5, 5, 0, "m = 1"},
    {7, 1, 2, 7, 1, 1, 0, "n = 1"},
    {130, 67, 37, 130, 67, 67, 0, "odd: partial tiles and k steps everywhere"},
    {129, 65, 17, 131, 70, 66, 0, "one past a tile, padded strides"},
    {169, 37, 21, 169, 169, 37, 128, "LSRF 13x13, 7 pairs: the last, partial block of output pixels"},
    {256, 256, 48, 256, 256, 256, 0, "LSRF 16x16, 16 pairs: a full block of 256 output pixels"},
    {40, 9, 600, 40, 9, 9, 0, "long reduction"},
    {33, 70, 0, 33, 70, 70, 0, "k = 0: C = 0"},
};

struct Operands {
  std::vector<float> a, b;
};

Operands operands(const GemmCase& c, uint64_t seed, bool small_integers) {
  const int64_t b_cols = c.b_offset + c.ldb;
  Operands o{test::random_values(std::max<int64_t>(c.k * c.lda, 1), seed),
             test::random_values(std::max<int64_t>(c.k * b_cols, 1), seed + 1)};
  if (small_integers)
    for (std::vector<float>* v : {&o.a, &o.b})
      for (float& x : *v) x = std::round(4.f * x);  // -4..4: products and sums of k <= 600 are exact
  return o;
}

// C on the CPU and on the device, over an output buffer of ldc-strided rows pre-filled with NaN so
// that a missing store shows (the padding columns stay NaN in both).
struct Results {
  std::vector<float> cpu, cuda;
};

Results run_both(const GemmCase& c, const Operands& o) {
  const int64_t b_cols = c.b_offset + c.ldb;
  const float* b = o.b.data() + c.b_offset;
  std::vector<float> c_cpu(std::max<int64_t>(c.m * c.ldc, 1), NAN);
  kernels::cpu::gemm_tn(c.m, c.n, c.k, o.a.data(), c.lda, b, b_cols, c_cpu.data(), c.ldc);
  DeviceBuffer<float> a_d(o.a), b_d(o.b), c_d(std::vector<float>(c_cpu.size(), NAN));
  kernels::cuda::gemm_tn(c.m, c.n, c.k, a_d.get(), c.lda, b_d.get() + c.b_offset, b_cols, c_d.get(), c.ldc);
  return {c_cpu, c_d.to_host()};
}

}  // namespace

TEST_CASE("gemm_tn kernel matches the CPU on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const GemmCase& c : gemm_cases) {
    INFO(c.what << ": m " << c.m << ", n " << c.n << ", k " << c.k);
    const Operands o = operands(c, uint64_t(c.m * 1000 + c.k), false);
    const Results r = run_both(c, o);
    const int64_t b_cols = c.b_offset + c.ldb;
    // The exact product in double, and the largest sum of |a b| for the bound.
    std::vector<float> exact(r.cpu.size(), NAN);
    double magnitude = 0.0;
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double sum = 0.0, abs_sum = 0.0;
        for (int64_t l = 0; l < c.k; ++l) {
          const double p = double(o.a[l * c.lda + i]) * o.b[l * b_cols + c.b_offset + j];
          sum += p;
          abs_sum += std::fabs(p);
        }
        exact[i * c.ldc + j] = float(sum);
        magnitude = std::max(magnitude, abs_sum);
      }
    const double bound = double(c.k) * std::ldexp(1.0, -24) * magnitude;
    // + one float rounding of the double result, and a floor for k = 0 (the results must be 0)
    test::expect_close(r.cpu, exact, bound + 1e-30, 0x1p-24, std::string(c.what) + ": cpu against double");
    test::expect_close(r.cuda, r.cpu, 2 * bound + 1e-30, 0.0, std::string(c.what) + ": cuda against cpu");
  }
}

TEST_CASE("gemm_tn kernel is exact on small integers", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const GemmCase& c : gemm_cases) {
    const Results r = run_both(c, operands(c, uint64_t(c.n * 1000 + c.k), true));
    test::expect_close(r.cuda, r.cpu, 0, 0, std::string(c.what) + ", small integers");
  }
}

TEST_CASE("gemm_tn kernel gives the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const GemmCase& c = gemm_cases[3];
  const Operands o = operands(c, 5, false);
  DeviceBuffer<float> a(o.a), b(o.b), out(size_t(c.m * c.ldc));
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::gemm_tn(c.m, c.n, c.k, a.get(), c.lda, b.get(), c.ldb, out.get(), c.ldc);
        return out.to_host();
      },
      "gemm_tn");
}
