// The autograd engine's contract: accumulation into .grad, grad() without side effects,
// create_graph for second order, freed graphs, no-grad scope, detach, anomaly mode.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

namespace {
Tensor leaf(std::vector<float> values, Shape shape) {
  Tensor t = Tensor::from_vector(values, shape);
  t.set_requires_grad(true);
  return t;
}
}  // namespace

TEST_CASE("backward accumulates into .grad across calls, as PyTorch does", "[cpu]") {
  Tensor x = leaf({1, 2, 3}, {3});
  engine::sum(x * x).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{2, 4, 6});
  engine::sum(x * 3.f).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{5, 7, 9});
}

TEST_CASE("a tensor used twice gets both contributions", "[cpu]") {
  Tensor x = leaf({2}, {1});
  Tensor y = x * x + x;  // dy/dx = 2x + 1
  engine::sum(y).backward();
  CHECK(x.grad().item() == 5.f);
}

TEST_CASE("grad() returns gradients and leaves .grad untouched", "[cpu]") {
  Tensor x = leaf({1, -2}, {2});
  Tensor w = leaf({3, 4}, {2});
  auto grads = engine::grad({engine::sum(x * w)}, {x});
  CHECK(grads[0].to_vector() == std::vector<float>{3, 4});
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(w.grad().defined());
  CHECK_FALSE(grads[0].requires_grad());
}

TEST_CASE("create_graph makes the gradient differentiable (gradient-penalty shape)", "[cpu]") {
  // f = sum(w * x^2); df/dx = 2 w x; penalty = sum((df/dx)^2) = 4 sum(w^2 x^2);
  // d penalty / dw = 8 w x^2.
  Tensor x = leaf({1, 2}, {2});
  Tensor w = leaf({0.5f, -1}, {2});
  Tensor f = engine::sum(w * x * x);
  Tensor g = engine::grad({f}, {x}, {}, false, true)[0];
  REQUIRE(g.requires_grad());
  CHECK(g.to_vector() == std::vector<float>{1, -4});
  engine::sum(g * g).backward();
  CHECK(w.grad().to_vector() == std::vector<float>{4, -32});
  CHECK(x.grad().to_vector() == std::vector<float>{2, 16});  // 8 w^2 x
}

TEST_CASE("running a freed graph twice is refused with a hint", "[cpu]") {
  Tensor x = leaf({1}, {1});
  Tensor y = engine::sum(x * x);
  y.backward();
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("retain_graph"));
  Tensor z = engine::sum(x * x);
  z.backward(Tensor(), true);
  z.backward();
  CHECK(x.grad().item() == 2.f + 2.f + 2.f);
}

TEST_CASE("no-grad scope records nothing; detach cuts history", "[cpu]") {
  Tensor x = leaf({1, 2}, {2});
  {
    engine::NoGradGuard no_grad;
    Tensor y = x * 2.f;
    CHECK_FALSE(y.requires_grad());
  }
  Tensor d = (x * 2.f).detach();
  CHECK_FALSE(d.requires_grad());
  Tensor y = engine::sum(d * x);
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<float>{2, 4});
}

TEST_CASE("grad() on an unused input needs allow_unused", "[cpu]") {
  Tensor x = leaf({1}, {1}), unused = leaf({1}, {1});
  Tensor y = engine::sum(x * 2.f);
  REQUIRE_THROWS_WITH(engine::grad({y}, {unused}, {}, true), Catch::Contains("allow_unused"));
  auto grads = engine::grad({y}, {x, unused}, {}, false, false, true);
  CHECK(grads[0].item() == 2.f);
  CHECK_FALSE(grads[1].defined());
}

TEST_CASE("second order through a fused backward is refused, not silently zero", "[cpu]") {
  Tensor x = leaf({0.3f}, {1});
  Tensor g = engine::grad({engine::sum(engine::sigmoid(x))}, {x}, {}, false, true)[0];
  REQUIRE_THROWS_WITH(engine::grad({engine::sum(g)}, {x}), Catch::Contains("sigmoid_backward"));
}

TEST_CASE("anomaly mode names the op that made a NaN, forward and backward", "[cpu]") {
  engine::set_anomaly_mode(true);
  Tensor x = leaf({-1, 4}, {2});
  CHECK_THROWS_WITH(engine::sqrt(x), Catch::Contains("'sqrt'") && Catch::Contains("NaN"));
  Tensor zero = leaf({0}, {1});
  Tensor y = engine::sum(engine::sqrt(zero));  // forward is fine, d sqrt/dx at 0 is Inf
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("backward of 'sqrt'"));
  engine::set_anomaly_mode(false);
  Tensor quiet = engine::sqrt(x);
  CHECK(std::isnan(quiet.to_vector()[0]));
}

TEST_CASE("reshape is a view that shares storage and differentiates", "[cpu]") {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = x.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.data() == x.data());
  engine::sum(r * r).backward();
  CHECK(x.grad().shape() == Shape{2, 3});
  CHECK(x.grad().to_vector() == std::vector<float>{2, 4, 6, 8, 10, 12});
  REQUIRE_THROWS_WITH(x.reshape({4, -1}), Catch::Contains("[2, 3]"));
}
