// The SARGAN training step against PyTorch: two iterations of the authors' solver.py loop
// (tests/fixtures/trainer/, made by tools/fixtures/make_trainer_fixtures.py) from the same initial weights,
// batches, target permutations and alphas. Every loss term, the gradient penalty, every gradient
// and every parameter after each Adam step must match.
//
// Tolerances (float32 on both sides; PyTorch's oneDNN convolutions and our im2col + sgemm sum in
// different orders, ~1e-7 relative per op, grown through ~20 layers and a double backward):
//   loss terms   rtol 1e-4, atol 1e-6: values of order 0.01..10 computed with a few hundred
//                thousand float ops; measured worst ~1e-6 relative.
//   gradients    atol 1e-4 * max|g| of the tensor, rtol 2e-3: the GP's second-order terms cancel
//                partly, so small elements carry larger relative error than the large ones.
//   parameters   atol 2e-5 (2% of lr = 1e-3), rtol 0: Adam's first steps move each element by
//                about lr * g / (|g| + eps), which is insensitive to small gradient errors; a wrong
//                sign or a missing term moves an element by 2 lr = 2e-3. Except where the gradient
//                is near rounding noise (|g| below twice the gradient tolerance 1e-4 max|g|, e.g.
//                mathematically 0): a gradient known only to +-50% moves the element by an
//                arbitrary part of +-lr in the second step (which divides by the root mean square
//                of both steps' gradients), so only Adam's bound (3 lr per step) is checked there;
//                such elements must stay under 10% of the total (measured: 6-7% in G, 4-5% in D).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <map>

#include "engine/torch_checkpoint.h"
#include "models/sargan/trainer.h"
#include "models/sargan/weights.h"
#include "test_util.h"
#include "tiny_networks.h"

using namespace models::sargan;
using engine::Tensor;

namespace {

std::string fixture(const std::string& name) { return test::source_dir("tests/fixtures/trainer/" + name); }

TrainConfig fixture_config() {
  TrainConfig c = test::tiny_networks();
  c.n_critic = 1;
  c.lambda_cls = 0.7;
  c.lambda_rec = 3;
  c.lambda_gp = 10;
  c.g_lr = c.d_lr = 1e-3;
  c.batch_size = 3;
  return c;
}

std::vector<int64_t> labels_of(const Tensor& t) {
  std::vector<int64_t> out;
  for (float v : t.to_vector()) out.push_back(int64_t(v));
  return out;
}

float max_abs(const Tensor& t) {
  float m = 0;
  for (float v : t.to_vector()) m = std::max(m, std::abs(v));
  return m;
}

void check_loss(double actual, const Tensor& expected, const std::string& what) {
  INFO(what);
  const double e = expected.item();
  CHECK(std::abs(actual - e) <= 1e-6 + 1e-4 * std::abs(e));
}

// Gradients and parameters of `net` against "<prefix>/grad/<name>" and "<prefix>/param/<name>".
void check_module(const engine::Module& net, const std::map<std::string, Tensor>& expected, const std::string& prefix,
                  int steps) {
  size_t total = 0, undetermined = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    const auto grad = expected.find(prefix + "/grad/" + name);
    if (grad == expected.end()) {  // never run (G's top-level att_func): no gradient, unchanged
      CHECK_FALSE(p.grad().defined());
      continue;
    }
    REQUIRE(p.grad().defined());
    test::expect_close(p.grad(), grad->second, 1e-4 * max_abs(grad->second), 2e-3, prefix + " grad " + name);
    // Elements whose gradient is lost in rounding noise (e.g. the centre tap on a constant
    // one-hot channel before an instance norm: exactly 0 in exact arithmetic) get an arbitrary
    // Adam direction on both sides; only the bound of an Adam move (lr per step, x3) holds there.
    const std::vector<float> actual = p.to_vector(), want = expected.at(prefix + "/param/" + name).to_vector(),
                             g = grad->second.to_vector();
    const float noise = 1e-4f * max_abs(grad->second);  // the gradient tolerance
    for (size_t i = 0; i < want.size(); ++i) {
      const bool determined = std::abs(g[i]) > 2 * noise;
      const double tolerance = determined ? 2e-5 : 3e-3 * steps;
      if (std::abs(actual[i] - want[i]) > tolerance) {
        FAIL_CHECK(prefix << " param " << name << "[" << i << "]: got " << actual[i] << ", expected " << want[i]
                          << " (gradient " << g[i] << (determined ? "" : ", within noise") << ")");
        break;
      }
      if (!determined) ++undetermined;
      ++total;
    }
  }
  CHECK(total > 0);
  INFO(prefix << ": " << undetermined << " of " << total << " elements near the noise");
  CHECK(undetermined * 10 < total);  // the noise-level elements are a small minority
}

}  // namespace

TEST_CASE("trainer: two iterations match the authors' solver in PyTorch", "[trainer]") {
  std::map<std::string, Tensor> expected;
  for (auto& [name, t] : engine::load_torch_checkpoint(fixture("expected.pt"))) expected[name] = t;
  Trainer trainer(fixture_config(), engine::Device::cpu());
  load_generator(trainer.generator(), fixture("g.ckpt"));
  load_discriminator(trainer.discriminator(), fixture("d.ckpt"));

  for (int k = 1; k <= 2; ++k) {
    const std::string it = std::to_string(k);
    IterationInputs in;
    in.x = expected.at("x" + it);
    in.labels = labels_of(expected.at("labels" + it));
    in.target_labels = labels_of(expected.at("targets" + it));
    in.alpha = expected.at("alpha" + it).to_vector();

    IterationLosses losses = trainer.d_step(in);
    const std::string d = "d" + it;
    check_loss(losses.d_real, expected.at(d + "/loss_real"), d + "/loss_real");
    check_loss(losses.d_fake, expected.at(d + "/loss_fake"), d + "/loss_fake");
    check_loss(losses.d_cls, expected.at(d + "/loss_cls"), d + "/loss_cls");
    check_loss(losses.d_gp, expected.at(d + "/loss_gp"), d + "/loss_gp");
    check_module(trainer.discriminator(), expected, d, k);

    trainer.g_step(in, losses);
    const std::string g = "g" + it;
    REQUIRE(losses.has_g);
    check_loss(losses.g_fake, expected.at(g + "/loss_fake"), g + "/loss_fake");
    check_loss(losses.g_rec, expected.at(g + "/loss_rec"), g + "/loss_rec");
    check_loss(losses.g_cls, expected.at(g + "/loss_cls"), g + "/loss_cls");
    check_module(trainer.generator(), expected, g, k);
    trainer.set_step(k);
  }
}

// Trainer::iteration computes G(x, c_trg) once for the D and the G step of an iteration; the
// reference computes it in each step, as the authors do. Same weights, same input, and G's forward
// does not depend on whether history is recorded: every loss and parameter must match bit for bit.
TEST_CASE("trainer: sharing G(x, c_trg) between the D and G steps gives the recomputing path's bits", "[trainer]") {
  TrainConfig c = fixture_config();
  c.n_critic = 2;  // iterations without a G step (no shared forward) and with one
  Trainer shared(c, engine::Device::cpu()), recomputed(c, engine::Device::cpu());
  for (int k = 0; k < 4; ++k) {
    INFO("iteration " << k + 1);
    Batch batch;
    batch.images = test::random_tensor({c.batch_size, 3, c.image_size, c.image_size}, 20 + k);
    batch.labels = {k % 7, (k + 3) % 7, (k + 5) % 7};
    const IterationLosses ours = shared.iteration(batch);

    IterationInputs in;  // Trainer::iteration's draws, in its order
    in.x = batch.images;
    in.labels = batch.labels;
    for (int64_t j : recomputed.rng().permutation(c.batch_size)) in.target_labels.push_back(batch.labels[size_t(j)]);
    in.alpha = recomputed.rng().uniform(c.batch_size);
    IterationLosses expected = recomputed.d_step(in);
    if ((k + 1) % c.n_critic == 0) recomputed.g_step(in, expected);
    recomputed.set_step(k + 1);

    REQUIRE(ours.has_g == expected.has_g);
    CHECK(ours.named() == expected.named());
    for (auto [a, b] : {std::pair<engine::Module*, engine::Module*>{&shared.generator(), &recomputed.generator()},
                        {&shared.discriminator(), &recomputed.discriminator()}}) {
      const auto pa = a->named_parameters(), pb = b->named_parameters();
      REQUIRE(pa.size() == pb.size());
      for (size_t i = 0; i < pa.size(); ++i) {
        INFO(pa[i].first);
        CHECK(pa[i].second.to_vector() == pb[i].second.to_vector());
      }
    }
  }
}

TEST_CASE("trainer: the learning-rate schedules", "[trainer]") {
  TrainConfig c;  // the authors' defaults: 200000 iterations, decay over the last 100000 every 5000
  CHECK(scheduled_lr(c, 1e-4, 0) == 1e-4);
  CHECK(scheduled_lr(c, 1e-4, 100000) == 1e-4);  // 100000 is not beyond num_iters - num_iters_decay
  CHECK(scheduled_lr(c, 1e-4, 104999) == 1e-4);
  CHECK(scheduled_lr(c, 1e-4, 105000) == 1e-4 - 1e-4 / 100000);
  // The quirk: 20 subtractions of lr0 / 100000 leave 0.9998 lr0 at the end.
  CHECK(std::abs(scheduled_lr(c, 1e-4, 200000) - 0.9998e-4) < 1e-15);
  c.lr_decay = "linear";
  CHECK(scheduled_lr(c, 1e-4, 100000) == 1e-4);
  CHECK(std::abs(scheduled_lr(c, 1e-4, 150000) - 0.5e-4) < 1e-18);
  CHECK(std::abs(scheduled_lr(c, 1e-4, 154999) - 0.5e-4) < 1e-18);  // changes only at update steps
  CHECK(scheduled_lr(c, 1e-4, 200000) == 0.0);
  c.lr_decay = "cosine";
  CHECK_THROWS_WITH(validate(c), Catch::Contains("--lr_decay must be authors or linear"));
}
