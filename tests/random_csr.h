#pragma once
// A random CSR matrix for the sparse-product tests (tests/engine/csr_spmv_test.cpp,
// tests/kernels/cuda/csr_spmv_kernel_test.cpp): row r holds (r * 7) % (max_per_row + 1) values (so some
// rows are empty) at random columns, repeats allowed.
#include <cstdint>
#include <random>
#include <vector>

namespace test {

struct Csr {
  int64_t rows, cols;
  std::vector<int32_t> indptr, indices;
  std::vector<float> values;
};

inline Csr random_csr(int64_t rows, int64_t cols, int max_per_row, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> col(0, cols - 1);
  std::uniform_real_distribution<float> value(-1.f, 1.f);
  Csr m{rows, cols, {0}, {}, {}};
  for (int64_t r = 0; r < rows; ++r) {
    const int n = int((r * 7) % (max_per_row + 1));
    for (int i = 0; i < n; ++i) {
      m.indices.push_back(int32_t(col(rng)));
      m.values.push_back(value(rng));
    }
    m.indptr.push_back(int32_t(m.indices.size()));
  }
  return m;
}

}  // namespace test
