// cross_entropy against a direct log-sum-exp in double, including logits that overflow exp().
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;

TEST_CASE("cross_entropy value and gradient against log-sum-exp in double", "[cpu]") {
  const int64_t n = 4, k = 7;
  // Rows at very different scales: the last row's logits overflow a float exp() if not shifted.
  std::vector<float> values = test::random_values(n * k, 71, -3.f, 3.f);
  for (int64_t j = 0; j < k; ++j) values[3 * k + j] = 200.f + 10.f * values[3 * k + j];
  const std::vector<int64_t> labels{0, 6, 3, 2};
  Tensor logits = Tensor::from_vector(values, {n, k});
  logits.set_requires_grad(true);
  Tensor loss = engine::cross_entropy(logits, labels);
  REQUIRE(loss.shape() == engine::Shape{});
  double expected = 0;
  std::vector<float> expected_grad(n * k);
  for (int64_t i = 0; i < n; ++i) {
    double total = 0;
    for (int64_t j = 0; j < k; ++j) total += std::exp(double(values[i * k + j]) - 200.0);
    const double lse = 200.0 + std::log(total);
    expected += (lse - values[i * k + labels[i]]) / n;
    for (int64_t j = 0; j < k; ++j)
      expected_grad[i * k + j] = float((std::exp(values[i * k + j] - lse) - (j == labels[i])) / n);
  }
  CHECK(std::isfinite(loss.item()));
  CHECK(loss.item() == Approx(expected).epsilon(1e-5));
  loss.backward();
  test::expect_close(logits.grad().to_vector(), expected_grad, 1e-7, 1e-5, "dlogits");
}

TEST_CASE("cross_entropy refuses labels out of range and a wrong count", "[cpu]") {
  Tensor logits = Tensor::zeros({2, 3});
  REQUIRE_THROWS_WITH(engine::cross_entropy(logits, {0, 3}),
                      Catch::Contains("cross_entropy") && Catch::Contains("got 3 at index 1"));
  REQUIRE_THROWS_WITH(engine::cross_entropy(logits, {0}),
                      Catch::Contains("cross_entropy") && Catch::Contains("expected 2 labels"));
  REQUIRE_THROWS_WITH(engine::cross_entropy(Tensor::zeros({2, 3, 1}), {0, 1}),
                      Catch::Contains("cross_entropy") && Catch::Contains("2 dimensions"));
}
