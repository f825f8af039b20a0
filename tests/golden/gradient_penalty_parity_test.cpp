// The WGAN-GP penalty on a two-layer critic (conv 4x4/2 + leaky_relu(0.01) + conv 3x3/1) against
// PyTorch 1.13 (tests/fixtures/torch/gradient_penalty.json from tools/fixtures/make_torch_fixtures.py):
//   g = autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
//   gp = ((g.view(N, -1).norm(2, dim=1) - 1) ** 2).mean();  gp.backward()
// This differentiates the convolutions' backward a second time, as training the critic does.
//
// Tolerance: every value passes through two convolutions of at most 48 terms forward, their
// transposes backward, and again for the second-order pass; values are O(0.1..2). Reordered
// float32 sums give a few 1e-7 per stage: observed at most 4.8e-7 (grad_w2, |value| 1.7), the gp
// value equal (composite) or 1.8e-7 off (fused). atol 5e-6 + rtol 1e-5 leaves a margin of ten or
// more, while a wrong second-order term changes the gradients by O(10%).
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "golden/fixture.h"

using engine::Tensor;

namespace {

constexpr double kAtol = 5e-6, kRtol = 1e-5;

struct Critic {
  Tensor w1, b1, w2, b2;
  float slope;
  Tensor operator()(const Tensor& x) const {
    const Tensor h = engine::leaky_relu(engine::conv2d(x, w1, b1, {2, 1}), slope);
    return engine::conv2d(h, w2, b2, {1, 1});
  }
};

// A parameter that gp does not reach has .grad None in PyTorch; a zero gradient reaching it
// (b1's, through the piecewise-constant slope of leaky_relu) may be left undefined here.
std::vector<float> grad_values(const Tensor& p) {
  return p.grad().defined() ? p.grad().to_vector() : std::vector<float>(p.numel(), 0.f);
}

void check_parameter_grads(const test::TorchFixture& fixture, const Critic& d, const std::string& what) {
  const std::pair<const char*, Tensor> params[] = {{"w1", d.w1}, {"b1", d.b1}, {"w2", d.w2}, {"b2", d.b2}};
  for (const auto& [name, p] : params) {
    const std::string key = std::string("grad_") + name;
    if (fixture.has(key)) {
      test::expect_close(grad_values(p), fixture.tensor(key).to_vector(), kAtol, kRtol, what + " " + key);
    } else {
      INFO(what << ": PyTorch leaves " << name << ".grad None");
      CHECK(grad_values(p) == std::vector<float>(p.numel(), 0.f));
    }
  }
}

Critic load_critic(const test::TorchFixture& fixture) {
  return {fixture.tensor("w1", true), fixture.tensor("b1", true), fixture.tensor("w2", true),
          fixture.tensor("b2", true), fixture.json()["slope"].get<float>()};
}

}  // namespace

TEST_CASE("gradient penalty value and parameter gradients match PyTorch", "[golden]") {
  const test::TorchFixture fixture("gradient_penalty.json");
  const Critic d = load_critic(fixture);
  Tensor x_hat = fixture.tensor("x_hat", true);
  const Tensor out = d(x_hat);
  test::expect_close(out, fixture.tensor("d"), kAtol, kRtol, "D(x_hat)");
  const Tensor g = engine::grad({engine::sum(out)}, {x_hat}, {}, true, true)[0];
  test::expect_close(g, fixture.tensor("grad_x_hat"), kAtol, kRtol, "dD/dx_hat");

  const int64_t n = g.size(0);
  const Tensor norms = engine::sqrt(engine::sum(engine::pow(g.reshape({n, -1}), 2.f), {1}));
  const Tensor gp = engine::mean(engine::pow(norms - 1.f, 2.f));
  test::expect_close(gp.reshape({}), fixture.tensor("gp"), kAtol, kRtol, "gp");
  gp.backward();
  check_parameter_grads(fixture, d, "composite gp");
}

TEST_CASE("fused gradient_penalty op gives PyTorch's value and parameter gradients", "[golden]") {
  const test::TorchFixture fixture("gradient_penalty.json");
  const Critic d = load_critic(fixture);
  Tensor x_hat = fixture.tensor("x_hat", true);
  const Tensor g = engine::grad({engine::sum(d(x_hat))}, {x_hat}, {}, true, true)[0];
  const Tensor gp = engine::gradient_penalty(g);
  test::expect_close(gp.reshape({}), fixture.tensor("gp"), kAtol, kRtol, "fused gp");
  gp.backward();
  check_parameter_grads(fixture, d, "fused gp");
}
