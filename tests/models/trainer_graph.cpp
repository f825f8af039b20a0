// SARGAN training iterations captured in CUDA graphs (TrainConfig::cuda_graph) against the same
// iterations run op by op: the same loss values and the same parameter and Adam-state bits,
// through the warm-up, the capture and the replays of both kinds of iteration, a batch of
// another size in between, and the learning-rate schedule moving under the graphs.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/check.h"
#include "models/sargan/trainer.h"
#include "test_util.h"
#include "tiny_networks.h"

using namespace models::sargan;
using engine::Tensor;

namespace {

TrainConfig small_config() {
  TrainConfig c = test::tiny_networks();
  c.n_critic = 2;  // iterations with a G step and without: two graphs
  c.batch_size = 3;
  c.g_lr = c.d_lr = 1e-3;
  c.num_iters = 8;  // the linear decay starts at step 4 and moves the lr every step
  c.num_iters_decay = 4;
  c.lr_update_step = 1;
  c.lr_decay = "linear";
  return c;
}

Batch batch_of(int64_t images, int seed) {
  Batch b;
  b.images = test::random_tensor({images, 3, 32, 32}, seed);
  for (int64_t k = 0; k < images; ++k) b.labels.push_back((seed + 3 * k) % 7);
  return b;
}

// Parameters and Adam moments bit for bit; with `counts`, also the optimisers' step counts and
// learning rates (and the "step" entry of their state).
void check_same_state(Trainer& graphed, Trainer& eager, bool counts = true) {
  for (auto [a, b] : {std::pair<engine::Module*, engine::Module*>{&graphed.generator(), &eager.generator()},
                      {&graphed.discriminator(), &eager.discriminator()}}) {
    const auto pa = a->named_parameters(), pb = b->named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (size_t i = 0; i < pa.size(); ++i) {
      INFO(pa[i].first);
      CHECK(pa[i].second.to_vector() == pb[i].second.to_vector());
    }
  }
  for (auto [a, b] : {std::pair<engine::Adam*, engine::Adam*>{&graphed.g_optimizer(), &eager.g_optimizer()},
                      {&graphed.d_optimizer(), &eager.d_optimizer()}}) {
    if (counts) {
      CHECK(a->step_count() == b->step_count());
      CHECK(a->lr() == b->lr());
    }
    const auto sa = a->state(), sb = b->state();
    REQUIRE(sa.size() == sb.size());
    for (size_t i = 0; i < sa.size(); ++i) {
      INFO(sa[i].first);
      if (counts || sa[i].first != "step") CHECK(sa[i].second.to_vector() == sb[i].second.to_vector());
    }
  }
}

bool cuda_device_or_warn() {
  if (engine::cuda_available()) return true;
  WARN("no cuda device (real or emulated) in this build: CUDA graph training is not tested here");
  return false;
}

TrainConfig with_graphs(TrainConfig c) {
  c.cuda_graph = true;
  return c;
}

// Two trainers from one configuration (so the same initial weights): op by op, and with graphs.
struct TrainerPair {
  const TrainConfig config = small_config();
  Trainer eager{config, engine::Device::cuda()};
  Trainer graphed{with_graphs(config), engine::Device::cuda()};
};

}  // namespace

TEST_CASE("trainer: iterations replayed from CUDA graphs give the op-by-op iterations' bits", "[trainer][cuda]") {
  if (!cuda_device_or_warn()) return;
  TrainerPair pair;
  Trainer &eager = pair.eager, &graphed = pair.graphed;
  // Iterations 1-2 run op by op (one of each kind), 3 and 4 capture and replay, 5 has a batch of
  // 2 (op by op: the graphs read 3 images), 6-8 replay.
  const int graphs_after[] = {0, 0, 1, 2, 2, 2, 2, 2};
  for (int k = 0; k < 8; ++k) {
    INFO("iteration " << k + 1);
    const Batch batch = batch_of(k == 4 ? 2 : 3, 30 + k);
    const IterationLosses want = eager.iteration(batch);
    const IterationLosses got = graphed.iteration(batch);
    REQUIRE(got.has_g == want.has_g);
    CHECK(got.named() == want.named());
    CHECK(graphed.cuda_graphs() == graphs_after[k]);
    check_same_state(graphed, eager);
  }
  CHECK(eager.cuda_graphs() == 0);
  // Both graphs hold the whole iteration: the forward and backward passes of G and D, Adam.
  CHECK(graphed.cuda_graph_nodes() > 200);
  CHECK(graphed.g_optimizer().lr() < pair.config.g_lr);  // the schedule moved while the graphs replayed
}

TEST_CASE("trainer: CUDA graphs need the cuda device", "[trainer]") {
  CHECK_THROWS_WITH(Trainer(with_graphs(small_config()), engine::Device::cpu()),
                    Catch::Matchers::Contains("--cuda_graph needs the cuda device and one process (got cpu)"));
}

TEST_CASE("trainer: a non-finite loss in a replayed iteration stops training with nothing updated", "[trainer][cuda]") {
  if (!cuda_device_or_warn()) return;
  TrainerPair pair;
  Trainer &eager = pair.eager, &graphed = pair.graphed;
  for (int k = 0; k < 5; ++k) {  // both graphs captured by iteration 4
    const Batch batch = batch_of(3, 50 + k);
    eager.iteration(batch);
    graphed.iteration(batch);
  }
  REQUIRE(graphed.cuda_graphs() == 2);
  // Iteration 6 (with a G step) on an image holding a NaN: every loss is NaN. Op by op, the D
  // step throws before its update; the replay runs both updates guarded, so they change nothing.
  Batch poisoned = batch_of(3, 60);
  std::vector<float> values = poisoned.images.to_vector();
  values[123] = std::nanf("");
  poisoned.images = Tensor::from_vector(values, poisoned.images.shape());
  for (Trainer* t : {&eager, &graphed})
    CHECK_THROWS_WITH(t->iteration(poisoned), Catch::Matchers::Contains("non-finite loss D/loss_real = nan at iteration 6"));
  // Parameters and moments as before the iteration; the graphed optimisers' step counts advanced.
  check_same_state(graphed, eager, /*counts=*/false);
  CHECK(graphed.d_optimizer().step_count() == eager.d_optimizer().step_count() + 1);
  CHECK(graphed.g_optimizer().step_count() == eager.g_optimizer().step_count() + 1);
  CHECK(graphed.step() == 5);
}
