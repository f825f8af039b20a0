// Elementwise ops, broadcasting and reductions against plain loops.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

TEST_CASE("add/sub/mul/div broadcast a [N,1,H,W] map over [N,C,H,W]", "[cpu]") {
  const Shape big{2, 3, 4, 5}, map{2, 1, 4, 5};
  Tensor a = test::random_tensor(big, 1), b = test::random_tensor(map, 2, 0.5f, 1.5f);
  const auto va = a.to_vector(), vb = b.to_vector();
  std::vector<float> sum(va.size()), diff(va.size()), prod(va.size()), quot(va.size());
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 20; ++i) {
        const size_t ia = (n * 3 + c) * 20 + i, ib = n * 20 + i;
        sum[ia] = va[ia] + vb[ib];
        diff[ia] = va[ia] - vb[ib];
        prod[ia] = va[ia] * vb[ib];
        quot[ia] = va[ia] / vb[ib];
      }
  test::expect_close((a + b).to_vector(), sum, 0, 0, "add");
  test::expect_close((a - b).to_vector(), diff, 0, 0, "sub");
  test::expect_close((a * b).to_vector(), prod, 0, 0, "mul");
  test::expect_close((a / b).to_vector(), quot, 0, 0, "div");
  test::expect_close((b * a).to_vector(), prod, 0, 0, "mul, broadcast operand first");
}

TEST_CASE("broadcasting a [C] vector against [N,C,1,1] and a scalar", "[cpu]") {
  Tensor a = test::random_tensor({2, 3, 1, 1}, 3), b = test::random_tensor({4}, 4);
  Tensor y = a + b;
  REQUIRE(y.shape() == Shape{2, 3, 1, 4});
  const auto va = a.to_vector(), vb = b.to_vector(), vy = y.to_vector();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) CHECK(vy[i * 4 + j] == va[i] + vb[j]);
  Tensor s = Tensor::scalar(2.5f);
  test::expect_close((a * s).to_vector(), (a * 2.5f).to_vector(), 0, 0, "scalar tensor");
}

TEST_CASE("incompatible shapes are refused naming the op and both shapes", "[cpu]") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  REQUIRE_THROWS_WITH(a + b, Catch::Contains("add") && Catch::Contains("[2, 3]") && Catch::Contains("[4]"));
}

TEST_CASE("unary ops match their definitions", "[cpu]") {
  Tensor x = test::random_tensor({3, 7}, 5, -2.f, 2.f);
  const auto v = x.to_vector();
  auto check = [&](const Tensor& y, auto f, const char* name) {
    std::vector<float> expected;
    for (float e : v) expected.push_back(f(e));
    test::expect_close(y.to_vector(), expected, 1e-6, 1e-6, name);
  };
  check(engine::relu(x), [](float e) { return e > 0 ? e : 0.f; }, "relu");
  check(engine::leaky_relu(x, 0.01f), [](float e) { return e > 0 ? e : 0.01f * e; }, "leaky_relu");
  check(engine::sigmoid(x), [](float e) { return 1.f / (1.f + std::exp(-e)); }, "sigmoid");
  check(engine::tanh(x), [](float e) { return std::tanh(e); }, "tanh");
  check(engine::abs(x), [](float e) { return std::fabs(e); }, "abs");
  check(engine::clamp(x, -0.5f, 0.7f), [](float e) { return std::min(std::max(e, -0.5f), 0.7f); }, "clamp");
  check(engine::sqrt(engine::abs(x)), [](float e) { return std::sqrt(std::fabs(e)); }, "sqrt");
  check(engine::pow(x, 2.f), [](float e) { return e * e; }, "pow");
  check(3.f - x * 2.f, [](float e) { return 3.f - 2.f * e; }, "scalar arithmetic");
}

TEST_CASE("sum and mean over all and over given dims", "[cpu]") {
  const Shape shape{2, 3, 4, 5};
  Tensor x = test::random_tensor(shape, 6);
  const auto v = x.to_vector();
  std::vector<float> over_nhw(3, 0.f), over_c(2 * 20, 0.f);
  double total = 0;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 20; ++i) {
        const float e = v[(n * 3 + c) * 20 + i];
        over_nhw[c] += e;
        over_c[n * 20 + i] += e;
        total += e;
      }
  test::expect_close(engine::sum(x, {0, 2, 3}).to_vector(), over_nhw, 1e-5, 1e-5, "sum over N,H,W");
  Tensor keep = engine::sum(x, {1}, true);
  REQUIRE(keep.shape() == Shape{2, 1, 4, 5});
  test::expect_close(keep.to_vector(), over_c, 1e-5, 1e-5, "sum over C keepdim");
  REQUIRE(engine::sum(x).shape() == Shape{});
  CHECK(engine::sum(x).item() == Approx(total).epsilon(1e-6));
  CHECK(engine::mean(x).item() == Approx(total / 120).epsilon(1e-6));
  test::expect_close(engine::mean(x, {-1, -2}).to_vector(),
                     (engine::sum(x, {2, 3}) * (1.f / 20.f)).to_vector(), 1e-6, 1e-6, "mean over H,W");
}

TEST_CASE("expand, repeat and sum_to", "[cpu]") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3, 1});
  Tensor e = engine::expand(x, {2, 3, 2});
  CHECK(e.to_vector() == std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  Tensor r = engine::repeat(Tensor::from_vector({1, 2}, {1, 2}), {2, 2});
  CHECK(r.to_vector() == std::vector<float>{1, 2, 1, 2, 1, 2, 1, 2});
  CHECK(engine::sum_to(e, {3, 1}).to_vector() == std::vector<float>{4, 8, 12});
}
