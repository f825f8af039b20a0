// l1_loss against a plain loop, with PyTorch's zero gradient where the operands are equal.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;

TEST_CASE("l1_loss value and gradient, zero where a == b", "[cpu]") {
  std::vector<float> va = test::random_values(12, 81), vb = test::random_values(12, 82);
  vb[0] = va[0];  // equal operands: PyTorch's gradient there is 0 (sign(0) = 0)
  vb[5] = va[5];
  Tensor a = Tensor::from_vector(va, {2, 2, 3}), b = Tensor::from_vector(vb, {2, 2, 3});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor loss = engine::l1_loss(a, b);
  double expected = 0;
  std::vector<float> expected_da(12), expected_db(12);
  for (int i = 0; i < 12; ++i) {
    expected += std::fabs(double(va[i]) - vb[i]) / 12;
    const float sign = va[i] > vb[i] ? 1.f : va[i] < vb[i] ? -1.f : 0.f;
    expected_da[i] = sign / 12;
    expected_db[i] = -sign / 12;
  }
  CHECK(loss.item() == Approx(expected).epsilon(1e-6));
  loss.backward();
  test::expect_close(a.grad().to_vector(), expected_da, 1e-8, 1e-6, "da");
  test::expect_close(b.grad().to_vector(), expected_db, 1e-8, 1e-6, "db");
  CHECK(a.grad().to_vector()[0] == 0.f);
  CHECK(b.grad().to_vector()[5] == 0.f);
  REQUIRE_THROWS_WITH(engine::l1_loss(a, Tensor::zeros({12})),
                      Catch::Contains("l1_loss") && Catch::Contains("[2, 2, 3]") && Catch::Contains("[12]"));
}
