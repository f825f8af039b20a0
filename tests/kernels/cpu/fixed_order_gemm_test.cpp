// kernels::cpu::fixed_order_gemm against a plain loop in double, and its contract: a column's bits
// do not depend on the other columns, the row count, the column's position or the threads.
#include "kernels/fixed_order_gemm.h"

#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "test_util.h"

namespace {

struct Problem {
  bool transposed;
  int64_t m, n, k;
};

// a is [m][k] (or [k][m] transposed) with rows 3 floats longer than needed, b [k][n] likewise.
struct Operands {
  int64_t lda, ldb;
  std::vector<float> a, b;
  Operands(const Problem& p, unsigned seed)
      : lda((p.transposed ? p.m : p.k) + 3),
        ldb(p.n + 3),
        a(test::random_values((p.transposed ? p.k : p.m) * lda, seed)),
        b(test::random_values(p.k * ldb, seed + 1)) {}
  float op_a(const Problem& p, int64_t i, int64_t l) const { return p.transposed ? a[l * lda + i] : a[i * lda + l]; }
};

std::vector<float> multiply(const Problem& p, const Operands& o, int64_t ldc) {
  std::vector<float> c(p.m * ldc, -7.f);
  kernels::cpu::fixed_order_gemm(p.transposed, p.m, p.n, p.k, o.a.data(), o.lda, o.b.data(), o.ldb, c.data(), ldc);
  return c;
}

}  // namespace

TEST_CASE("fixed_order_gemm matches a loop in double", "[cpu]") {
  // Tails of both blocks (m not a multiple of 6, n not of 16), k = 0 and 1, k over several
  // chunks of 256, and enough rows for several blocks.
  const Problem problems[] = {{false, 1, 1, 1},      {false, 7, 5, 3},     {true, 7, 5, 3},
                              {false, 13, 37, 64},   {true, 13, 37, 64},   {false, 96, 40, 700},
                              {true, 200, 17, 300},  {false, 6, 16, 0},    {true, 7, 20, 5000}};
  for (const Problem& p : problems) {
    INFO("transposed " << p.transposed << ", m " << p.m << ", n " << p.n << ", k " << p.k);
    const Operands o(p, 11);
    const int64_t ldc = p.n + 2;
    const std::vector<float> c = multiply(p, o, ldc);
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        double exact = 0, magnitude = 0;
        for (int64_t l = 0; l < p.k; ++l) {
          exact += double(o.op_a(p, i, l)) * o.b[l * o.ldb + j];
          magnitude += std::abs(double(o.op_a(p, i, l)) * o.b[l * o.ldb + j]);
        }
        // Chunks of 256 summed in order, then the chunk sums: at most 256 + k / 256 roundings
        // reach any term, |error| <= (256 + ceil(k / 256)) 2^-24 sum |terms|.
        const double roundings = std::min<int64_t>(p.k, 256) + (p.k + 255) / 256;
        REQUIRE(std::abs(c[i * ldc + j] - exact) <= roundings * 0x1p-24 * magnitude + 1e-30);
      }
      for (int64_t j = p.n; j < ldc; ++j) REQUIRE(c[i * ldc + j] == -7.f);  // outside c: untouched
    }
  }
}

TEST_CASE("fixed_order_gemm: a column's bits depend on nothing but its row and column", "[cpu]") {
  const int threads = omp_get_max_threads();
  for (const bool transposed : {false, true}) {
    const Problem whole{transposed, 50, 70, 333};
    const Operands o(whole, 5);
    omp_set_num_threads(2);
    const std::vector<float> reference = multiply(whole, o, whole.n);
    for (const int t : {1, 2}) {
      omp_set_num_threads(t);
      // Columns 9..23 alone (another column count, other positions in the panels of 16) and the
      // first 13 rows alone (another row count).
      const int64_t j0 = 9, width = 15, rows = 13;
      std::vector<float> part(rows * width);
      const float* a = o.a.data();
      kernels::cpu::fixed_order_gemm(transposed, rows, width, whole.k, a, o.lda, o.b.data() + j0, o.ldb, part.data(),
                                     width);
      for (int64_t i = 0; i < rows; ++i) {
        INFO("transposed " << transposed << ", " << t << " threads, row " << i);
        CHECK(std::memcmp(part.data() + i * width, reference.data() + i * whole.n + j0, width * sizeof(float)) == 0);
      }
    }
  }
  omp_set_num_threads(threads);
}
