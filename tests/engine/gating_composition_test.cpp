// SARGAN's attention gating, x * sigmoid(a) with a [N,1,H,W] map over [N,C,H,W] features,
// composed from existing ops: forward and both gradients against plain loops.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

TEST_CASE("attention gate x * sigmoid(a) broadcasts a [N,1,H,W] map over channels", "[cpu]") {
  const int64_t n = 2, c = 3, hw = 4 * 5;
  Tensor x = test::random_tensor({n, c, 4, 5}, 91), a = test::random_tensor({n, 1, 4, 5}, 92, -3.f, 3.f);
  x.set_requires_grad(true);
  a.set_requires_grad(true);
  Tensor y = x * engine::sigmoid(a);
  REQUIRE(y.shape() == Shape{n, c, 4, 5});
  Tensor dy = test::random_tensor(y.shape(), 93);
  const auto vx = x.to_vector(), va = a.to_vector(), vdy = dy.to_vector();
  std::vector<float> expected(y.numel()), expected_dx(x.numel()), expected_da(a.numel(), 0.f);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < hw; ++i) {
        const int64_t ix = (b * c + ch) * hw + i, ia = b * hw + i;
        const double s = 1.0 / (1.0 + std::exp(-double(va[ia])));
        expected[ix] = float(vx[ix] * s);
        expected_dx[ix] = float(vdy[ix] * s);
        expected_da[ia] += float(vdy[ix] * vx[ix] * s * (1.0 - s));
      }
  test::expect_close(y.to_vector(), expected, 1e-6, 1e-5, "forward");
  y.backward(dy);
  test::expect_close(x.grad().to_vector(), expected_dx, 1e-6, 1e-5, "dx");
  test::expect_close(a.grad().to_vector(), expected_da, 1e-6, 1e-5, "da (summed over channels)");
}
