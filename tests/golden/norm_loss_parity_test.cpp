// instance_norm2d and cross_entropy forward and backward against PyTorch 1.13
// (tests/fixtures/torch/instance_norm.json, cross_entropy.json from tools/fixtures/make_torch_fixtures.py).
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "golden/fixture.h"

using engine::Tensor;

TEST_CASE("instance_norm2d forward and backward match PyTorch", "[golden]") {
  const test::TorchFixture fixture("instance_norm.json");
  Tensor x = fixture.tensor("x", true), w = fixture.tensor("weight", true), b = fixture.tensor("bias", true);
  const Tensor y = engine::instance_norm2d(x, w, b, fixture.json()["eps"].get<float>());
  // Planes of 20 values with |x| up to 3.5: mean and variance differ from PyTorch's by float
  // rounding of 20-term sums (~1e-7 relative); normalised outputs are O(2): observed 2.4e-7.
  test::expect_close(y, fixture.tensor("y"), 5e-6, 1e-5, "y");
  const auto grads = engine::grad({y}, {x, w, b}, {fixture.tensor("grad_y")});
  // The input gradient subtracts two plane means from grad_y * rstd, a cancellation that can lose
  // a few more bits: observed 1.8e-7, allowed 1e-5.
  test::expect_close(grads[0], fixture.tensor("grad_x"), 1e-5, 1e-5, "grad_x");
  // grad_weight and grad_bias sum 40 products of O(1): observed 2.4e-7 and 4.8e-7 (|value| 5.6).
  test::expect_close(grads[1], fixture.tensor("grad_weight"), 1e-5, 1e-5, "grad_weight");
  test::expect_close(grads[2], fixture.tensor("grad_bias"), 1e-5, 1e-5, "grad_bias");
}

TEST_CASE("cross_entropy forward and backward match PyTorch", "[golden]") {
  const test::TorchFixture fixture("cross_entropy.json");
  Tensor logits = fixture.tensor("logits", true);
  const auto labels = fixture.json()["labels"].get<std::vector<int64_t>>();
  const Tensor loss = engine::cross_entropy(logits, labels);
  // log-sum-exp of 5 logits up to |4|, averaged over 6 rows: a loss of O(2), a few ulps (observed
  // equal).
  test::expect_close(loss, fixture.tensor("loss"), 1e-6, 1e-6, "loss");
  const auto grads = engine::grad({loss}, {logits});
  // (softmax - onehot) / N: each element a few ulps of values <= 1/6 (observed 1.5e-8).
  test::expect_close(grads[0], fixture.tensor("grad_logits"), 1e-7, 1e-5, "grad_logits");
}
