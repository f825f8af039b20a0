// engine::gemm_tn (a^T b) against a plain double loop, including K = 0 (C = 0) and a shape error.
// Its gradients are checked by the op table (tests/gradcheck, tests/kernels/cuda).
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;

TEST_CASE("gemm_tn against a plain loop", "[cpu]") {
  for (const auto& [k, m, n] : {std::tuple<int64_t, int64_t, int64_t>{5, 3, 7}, {1, 1, 1}, {33, 17, 9}, {0, 2, 3}}) {
    INFO("K " << k << " M " << m << " N " << n);
    const Tensor a = test::random_tensor({k, m}, 8), b = test::random_tensor({k, n}, 9);
    const std::vector<float> c = engine::gemm_tn(a, b).to_vector(), va = a.to_vector(), vb = b.to_vector();
    REQUIRE(c.size() == size_t(m * n));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double want = 0.0;
        for (int64_t l = 0; l < k; ++l) want += double(va[l * m + i]) * vb[l * n + j];
        CHECK(c[i * n + j] == Approx(want).margin(1e-5));
      }
  }
  CHECK_THROWS_WITH(engine::gemm_tn(Tensor::zeros({2, 3}), Tensor::zeros({3, 3})),
                    Catch::Contains("with the same K"));
}
