// Three torch.optim.Adam steps (lr 1e-3, 1e-3, then 2e-4; betas (0.5, 0.999) as SARGAN; eps 1e-8)
// against PyTorch 1.13 (tests/fixtures/torch/adam.json from tools/fixtures/make_torch_fixtures.py): parameters
// after every step and the final moment estimates.
//
// Tolerance: the kernel performs PyTorch's float operations in PyTorch's order; what may differ
// is the contraction of a * b + c into one fused multiply-add (by PyTorch's vectorised kernels or
// by our compiler), one rounding of the moments (~1e-7 relative) and of the update (lr-sized,
// ~1e-10 absolute). Observed bit-identical with this build (g++ -O3 -march=x86-64-v3); parameters
// are O(1): atol 2e-7 (about two ulps at 1) allows another compiler's contraction choices.
#include <catch2/catch.hpp>

#include "engine/adam.h"
#include "golden/fixture.h"

using engine::Tensor;

TEST_CASE("Adam steps match torch.optim.Adam", "[golden]") {
  const test::TorchFixture fixture("adam.json");
  const auto& json = fixture.json();
  Tensor p1 = fixture.tensor("p1.initial", true), p2 = fixture.tensor("p2.initial", true);
  const auto lrs = json["lr"].get<std::vector<double>>();
  engine::Adam adam({{"p1", p1}, {"p2", p2}},
                    {lrs[0], json["beta1"].get<double>(), json["beta2"].get<double>(), json["eps"].get<double>()});
  const int steps = json["steps"];
  for (int step = 1; step <= steps; ++step) {
    const std::string s = std::to_string(step);
    adam.set_lr(lrs[step - 1]);
    p1.set_grad(fixture.tensor("p1.grad." + s));
    p2.set_grad(fixture.tensor("p2.grad." + s));
    adam.step();
    test::expect_close(p1, fixture.tensor("p1.after." + s), 2e-7, 0, "p1 after step " + s);
    test::expect_close(p2, fixture.tensor("p2.after." + s), 2e-7, 0, "p2 after step " + s);
  }
  const auto state = adam.state();
  // Moments: exp_avg is O(grad) and exp_avg_sq O(grad^2), down to 1e-9 for p1's small gradients:
  // relative tolerance of a few float roundings.
  test::expect_close(state[0].second, fixture.tensor("p1.exp_avg"), 0, 1e-6, "p1.exp_avg");
  test::expect_close(state[1].second, fixture.tensor("p1.exp_avg_sq"), 0, 1e-6, "p1.exp_avg_sq");
  test::expect_close(state[2].second, fixture.tensor("p2.exp_avg"), 0, 1e-6, "p2.exp_avg");
  test::expect_close(state[3].second, fixture.tensor("p2.exp_avg_sq"), 0, 1e-6, "p2.exp_avg_sq");
  CHECK(state[4].second.item() == float(steps));
}
