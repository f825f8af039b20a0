#pragma once
// SARGAN training: the authors' WGAN-GP algorithm (StarGAN's solver.py), checkpoints that resume
// bit-exactly, and the monitoring of a run. docs/training.md describes the whole.
//
// One iteration, with a batch x and its labels lab_org, lab_trg = lab_org permuted (Philox
// permutation), c_org / c_trg their one-hot vectors:
//   D step  d_loss = -mean(D_src(x)) + mean(D_src(G(x, c_trg))) + l_cls CE(D_cls(x), lab_org) + l_gp GP
//           with x^ = a x + (1 - a) G(x, c_trg) (a ~ U(0,1) per sample, no history) and
//           GP = mean_n (||d sum(D_src(x^)) / d x^_n||_2 - 1)^2 taken with create_graph; Adam on D.
//   G step  (every n_critic-th iteration) fake = G(x, c_trg);
//           g_loss = -mean(D_src(fake)) + l_rec mean|x - G(fake, c_org)| + l_cls CE(D_cls(fake), lab_trg);
//           Adam on G.
// A checkpoint of step s (every model_save_step) is, in model_save_dir:
//   <s>-G.safetensors, <s>-D.safetensors   the weights, PyTorch key names
//   <s>-state.safetensors                  both Adam states; metadata: step, RNG and loader state, lrs
//   checkpoint                             "latest complete step" marker, written last
// every file atomically, so a run killed at any moment leaves the previous checkpoint usable.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/adam.h"
#include "engine/communicator.h"
#include "engine/cuda_graph.h"
#include "engine/device.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "engine/stream.h"
#include "models/monitor/monitor.h"
#include "models/sargan/dataset.h"
#include "models/sargan/networks.h"
#include "models/sargan/train_config.h"

namespace models::sargan {

// Throws engine::Error naming the first flag with an impossible value.
void validate(const TrainConfig& config);
GeneratorConfig generator_config(const TrainConfig& config);
DiscriminatorConfig discriminator_config(const TrainConfig& config);

// The learning rate in force after `step` iterations, starting from lr0. "authors": at every
// lr_update_step-th step beyond num_iters - num_iters_decay, lr -= lr0 / num_iters_decay (in double,
// subtraction by subtraction as their code). "linear": at the same steps lr = lr0 (num_iters - step)
// / num_iters_decay, reaching 0 at num_iters.
double scheduled_lr(const TrainConfig& config, double lr0, int64_t step);

// The loss terms of one iteration; the G terms only when the iteration had a G step.
struct IterationLosses {
  double d_real = 0, d_fake = 0, d_cls = 0, d_gp = 0;
  bool has_g = false;
  double g_fake = 0, g_rec = 0, g_cls = 0;
  // The authors' names and order: D/loss_real D/loss_fake D/loss_cls D/loss_gp [G/loss_fake
  // G/loss_rec G/loss_cls].
  monitor::NamedValues named() const;
};

// The randomness of one iteration, drawn by Trainer::iteration or given by a test.
struct IterationInputs {
  engine::Tensor x;                    // [N,3,S,S], any device (moved to the trainer's)
  std::vector<int64_t> labels;         // lab_org
  std::vector<int64_t> target_labels;  // lab_trg
  std::vector<float> alpha;            // N values in [0, 1)
};

// G, D, their Adam optimisers and the generator of the per-iteration randomness.
//
// Data parallel (docs/distributed.md): with a communicator of N ranks, every rank builds the same
// G and D (same seed), draws the same per-iteration numbers for the whole global batch, and
// trains on its slice (rank r: positions [r B/N, (r+1) B/N) of the global batch B); after each
// backward pass the gradients are averaged over the ranks (the mean of the slices' mean losses is
// the global mean loss, as the slices are equal), so every rank applies the same Adam step. The
// losses returned are the ranks' average.
class Trainer {
 public:
  // Builds G and D from the configuration, initialised from Philox(seed), on `device`.
  // `comm` (may be null: one process) must outlive the trainer.
  Trainer(const TrainConfig& config, engine::Device device, engine::Communicator* comm = nullptr);

  // G(x, c_trg) of `in` with autograd history: the fake images that the D step (detached) and
  // the G step of one iteration can share, since G has no randomness and is not updated between
  // the two steps.
  engine::Tensor fake_images(const IterationInputs& in);
  // One D step (and the losses it saw). `shared_fake` is fake_images(in) when a G step will reuse it;
  // undefined, the D step computes G(x, c_trg) itself, without history. Throws engine::Error
  // naming the term and `step() + 1` when a loss is not finite, before any parameter changes.
  IterationLosses d_step(const IterationInputs& in, const engine::Tensor& shared_fake = engine::Tensor());
  // One G step; `shared_fake` as for d_step (undefined: computed here, with history). The same
  // check. Fills the G fields of `losses`.
  void g_step(const IterationInputs& in, IterationLosses& losses,
              const engine::Tensor& shared_fake = engine::Tensor());
  // A whole iteration on a global batch: draws lab_trg (permutation of the labels) and then alpha
  // from rng(), takes this rank's slice, runs the D step, the G step when (step + 1) % n_critic
  // == 0, advances step() and the lr schedule. Throws when the batch does not split evenly.
  // With a G step, G(x, c_trg) is computed once (fake_images) for both steps: the same bits as
  // computing it in each, one generator forward less, G's activations held through the D step.
  // With config.cuda_graph, the second iteration of each kind (with a G step, without) is
  // captured in a CUDA graph and every later one replays it (the first of each kind runs as
  // without: it sets up workspaces). The same bits, and the same error on a non-finite loss, with
  // the parameters and Adam moments as they were (the replay skips the updates on the device;
  // only the optimisers' step counts have advanced).
  IterationLosses iteration(const Batch& batch);
  // CUDA graphs captured so far (0, 1 or 2) and the kernels, copies and memsets in them.
  int cuda_graphs() const;
  std::size_t cuda_graph_nodes() const;

  // G(x, c_k) for every expression k, no history: the columns of a sample grid (on the cpu).
  std::vector<engine::Tensor> translate_all(const engine::Tensor& x);

  // Throws naming the first parameter of G or D holding a NaN or an infinity.
  void check_parameters_finite() const;

  // One line per sample of this rank's slice at every iteration (batch_log): "step position index
  // flip label target alpha", alpha in hex float; the lines of all ranks sorted equal the lines of
  // a single-process run.
  void set_batch_log(std::ostream* out) { batch_log_ = out; }

  int64_t step() const { return step_; }
  void set_step(int64_t step);  // also sets both learning rates from the schedule
  Generator& generator() { return *g_; }
  Discriminator& discriminator() { return *d_; }
  engine::Adam& g_optimizer() { return *g_opt_; }
  engine::Adam& d_optimizer() { return *d_opt_; }
  engine::Philox& rng() { return rng_; }
  engine::Device device() const { return device_; }
  const TrainConfig& config() const { return config_; }

 private:
  // The iteration's inputs on the trainer's device: all that the device work of a step reads.
  struct DeviceInputs {
    engine::Tensor x;             // [N,3,S,S]
    engine::Tensor c_org, c_trg;  // one-hot [N,c_dim] of labels and target_labels
    engine::Tensor alpha;         // [N,1,1,1]
    engine::Labels labels, target_labels;
  };
  DeviceInputs upload(const IterationInputs& in) const;
  void refill(DeviceInputs& d, const IterationInputs& in) const;  // in place: a graph reads them
  // The steps' device work. `read` (may be empty) gets the loss terms before the backward pass.
  // staged_guard null: Adam's step(); else its apply_step half (begin_step ran before), guarded
  // by apply_step below. Return the loss terms (D: real, fake, cls, gp; G: fake, rec, cls), detached.
  using LossReader = std::function<void(const std::vector<engine::Tensor>&)>;
  std::vector<engine::Tensor> d_step_on(const DeviceInputs& in, const engine::Tensor& shared_fake,
                                        const LossReader& read, engine::Tensor* staged_guard);
  std::vector<engine::Tensor> g_step_on(const DeviceInputs& in, const engine::Tensor& shared_fake,
                                        const LossReader& read, engine::Tensor* staged_guard);
  // step() when staged_guard is null; else *staged_guard becomes loss (+ the guard it held, if
  // any), on the device, and apply_step skips the update when it is not finite: in a graph, a
  // diverged step changes nothing, and the host sees the loss after the replay.
  static void apply_step(engine::Adam& optimizer, const engine::Tensor& loss, engine::Tensor* staged_guard);
  // The loss values (averaged over the ranks), checked finite (iteration = step() + 1).
  void read_d_losses(const std::vector<engine::Tensor>& terms, IterationLosses& losses);
  void read_g_losses(const std::vector<engine::Tensor>& terms, IterationLosses& losses);
  IterationLosses eager_iteration(const IterationInputs& in, bool with_g_step);
  IterationLosses graphed_iteration(const IterationInputs& in, bool with_g_step);
  std::vector<float> one_hot_values(const std::vector<int64_t>& labels) const;
  engine::Tensor one_hot(const std::vector<int64_t>& labels) const;
  // With a communicator: the gradients of `net` and the loss values averaged over the ranks.
  void average_gradients(engine::Module& net);
  void average_losses(std::vector<double>& values);

  TrainConfig config_;
  engine::Device device_;
  engine::Philox rng_;
  std::unique_ptr<Generator> g_;
  std::unique_ptr<Discriminator> d_;
  std::unique_ptr<engine::Adam> g_opt_, d_opt_;
  int64_t step_ = 0;
  engine::Communicator* comm_ = nullptr;
  std::ostream* batch_log_ = nullptr;
  // config.cuda_graph: the stream every iteration runs on, the inputs the graphs read, and per
  // kind of iteration (index: with a G step) its graph and the loss terms it writes.
  struct GraphedIteration {
    bool warmed_up = false;
    engine::CudaGraph graph;
    std::vector<engine::Tensor> d_terms, g_terms;
  };
  std::unique_ptr<engine::Stream> stream_;
  std::unique_ptr<DeviceInputs> graph_inputs_;
  GraphedIteration graphed_[2];
};

// ---- checkpoints (trainer_checkpoint.cpp) ----

// Writes the checkpoint of trainer.step() (files of the header comment), then the marker, then
// removes the checkpoints older than the newest keep_last (0: none removed). Refuses (throws)
// parameters that are not finite, so a diverged run never replaces a good checkpoint.
void save_checkpoint(Trainer& trainer, const LoaderState& loader, const std::string& dir, int keep_last);

// The step named by the marker in `dir`, or -1 when there is none.
int64_t latest_checkpoint_step(const std::string& dir);

// Restores the checkpoint of `spec` ("latest" or a step) from `dir` into the trainer: weights,
// both Adam states, the step, the RNG state and the lrs; returns the loader state to continue
// from. The authors' <s>-G.ckpt / <s>-D.ckpt (when no <s>-G.safetensors exists) restore the
// weights only: a warning on `log` says that Adam starts cold and the data order starts afresh,
// and nullopt is returned. Throws naming what is missing.
std::optional<LoaderState> load_checkpoint(Trainer& trainer, const std::string& dir, const std::string& spec,
                                           std::ostream& log);

// The configuration as JSON (every field, plus the resolved device), atomically.
void write_config_json(const TrainConfig& config, const std::string& device, const std::string& path);

// ---- a whole run (trainer_run.cpp) ----

struct TrainReport {
  int64_t first_step = 0, last_step = 0;  // iterations run: first_step + 1 .. last_step
  double seconds = 0;
  int rank = 0, ranks = 1;        // this process's rank and the rank count (1: not under MPI)
  double seconds_averaging = 0;   // of `seconds`, inside the gradient and loss averages
  int64_t skipped_files = 0;
};

// Trains from config (resuming when config.resume_iters is set) until num_iters: checkpoints,
// samples, CSV (<log_dir>/metrics.csv), loss plot (<log_dir>/loss.png), log lines on `log`.
// Launched by mpirun/srun, every rank trains its slice and rank 0 alone writes all of these
// (every rank reads the checkpoint to resume).
// A non-finite loss throws engine::Error naming the term and the iteration, leaving the last
// checkpoint as it was.
TrainReport train(const TrainConfig& config, std::ostream& log);

}  // namespace models::sargan
