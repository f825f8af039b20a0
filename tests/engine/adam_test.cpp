// Adam against a plain double-precision loop of the update rule in engine/adam.h, parameter
// skipping, learning-rate changes and state save/load. PyTorch parity is in tests/golden/.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/adam.h"
#include "test_util.h"

using engine::NamedTensors;
using engine::Tensor;

namespace {

Tensor parameter(const engine::Shape& shape, uint64_t seed) {
  Tensor p = test::random_tensor(shape, seed);
  p.set_requires_grad(true);
  return p;
}

struct Reference {
  std::vector<double> p, m, v;
  void step(const std::vector<float>& g, int t, double lr, double b1, double b2, double eps) {
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * double(g[i]) * g[i];
      p[i] -= lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
  }
};

}  // namespace

TEST_CASE("Adam follows the update rule; lr changes between steps; no-grad parameters skipped", "[cpu]") {
  Tensor a = parameter({7, 5}, 1), b = parameter({3}, 2);
  const std::vector<float> b_initial = b.to_vector();
  engine::Adam adam({{"a", a}, {"b", b}}, {1e-2, 0.5, 0.999, 1e-8});
  Reference ref;
  for (float x : a.to_vector()) ref.p.push_back(x);
  ref.m.assign(ref.p.size(), 0.0);
  ref.v.assign(ref.p.size(), 0.0);
  const double lrs[] = {1e-2, 1e-2, 3e-3, 3e-3};
  for (int t = 1; t <= 4; ++t) {
    adam.set_lr(lrs[t - 1]);
    // Gradients from 1e-6 (where eps matters) to 10.
    const std::vector<float> g = test::random_values(35, 10 + t, -1.f, 1.f);
    std::vector<float> scaled(g.size());
    for (size_t i = 0; i < g.size(); ++i) scaled[i] = g[i] * std::pow(10.f, float(i % 8) - 6.f);
    a.set_grad(Tensor::from_vector(scaled, {7, 5}));
    adam.step();
    ref.step(scaled, t, lrs[t - 1], 0.5, 0.999, 1e-8);
    CHECK(adam.step_count() == t);
    std::vector<float> expected(ref.p.begin(), ref.p.end());
    // Parameters are O(1) and each step moves them by up to lr: a few float ulps of |p| after
    // four steps of float arithmetic against the double loop.
    test::expect_close(a, Tensor::from_vector(expected, {7, 5}), 1e-6, 1e-6, "a after step " + std::to_string(t));
  }
  CHECK(b.to_vector() == b_initial);  // never had a gradient
  adam.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("Adam state: saved and loaded, the next step is bit-identical", "[cpu]") {
  Tensor a = parameter({4, 3}, 3), b = parameter({5}, 4);
  engine::Adam adam({{"a", a}, {"b", b}}, {1e-3, 0.5, 0.999, 1e-8});
  for (int t = 0; t < 2; ++t) {
    a.set_grad(test::random_tensor({4, 3}, 20 + t));
    b.set_grad(test::random_tensor({5}, 30 + t));
    adam.step();
  }
  const NamedTensors state = adam.state();
  REQUIRE(state.size() == 5);
  CHECK(state.back().first == "step");
  CHECK(state.back().second.to_vector() == std::vector<float>{2.f});
  CHECK(state[0].first == "a.exp_avg");
  CHECK(state[3].first == "b.exp_avg_sq");

  Tensor a2 = parameter({4, 3}, 0), b2 = parameter({5}, 0);
  a2.set_grad(Tensor());
  engine::Adam resumed({{"a", a2}, {"b", b2}}, {1e-3, 0.5, 0.999, 1e-8});
  resumed.load_state(state);
  CHECK(resumed.step_count() == 2);
  // Copy the parameters over, then take the same third step in both.
  for (auto [dst, src] : {std::pair{a2, a}, std::pair{b2, b}})
    engine::device_copy(dst.device(), dst.data(), src.device(), src.data(), sizeof(float) * src.numel());
  const Tensor ga = test::random_tensor({4, 3}, 40), gb = test::random_tensor({5}, 41);
  a.set_grad(ga), b.set_grad(gb), a2.set_grad(ga), b2.set_grad(gb);
  adam.step();
  resumed.step();
  CHECK(a.to_vector() == a2.to_vector());
  CHECK(b.to_vector() == b2.to_vector());
  // The loaded state is a copy: stepping one optimiser leaves the other's state alone.
  CHECK(adam.state()[0].second.to_vector() == resumed.state()[0].second.to_vector());
  CHECK_FALSE(state[0].second.same(resumed.state()[0].second));
}

TEST_CASE("Adam::load_state names a missing key or a wrong shape and changes nothing", "[cpu]") {
  Tensor a = parameter({2, 2}, 5);
  engine::Adam adam({{"a", a}}, {});
  NamedTensors state = adam.state();
  NamedTensors missing(state.begin() + 1, state.end());
  CHECK_THROWS_WITH(adam.load_state(missing), Catch::Contains("missing key 'a.exp_avg'"));
  NamedTensors wrong = state;
  wrong[1].second = Tensor::zeros({4});
  wrong.back().second = Tensor::from_vector({3.f}, {1});
  CHECK_THROWS_WITH(adam.load_state(wrong), Catch::Contains("'a.exp_avg_sq' has shape [4], expected [2, 2]"));
  CHECK(adam.step_count() == 0);
  CHECK_THROWS_WITH(engine::Adam({{"a", a}}, {1e-3, 1.0, 0.999, 1e-8}), Catch::Contains("betas"));
}
