// The SARGAN training step: the authors' WGAN-GP D step and G step (contract in trainer.h).
#include "models/sargan/trainer.h"

#include <cmath>
#include <cstdio>
#include <ostream>

#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/device.h"
#include "engine/ops.h"
#include "engine/perf.h"

namespace models::sargan {

using engine::Tensor;

void validate(const TrainConfig& c) {
  ENGINE_CHECK(c.c_dim >= 1 && c.g_conv_dim >= 1 && c.d_conv_dim >= 1 && c.d_repeat_num >= 1,
               "--c_dim, --g_conv_dim, --d_conv_dim and --d_repeat_num must be positive");
  if (c.image_size < min_generator_size || c.image_size % 4 != 0)
    ENGINE_FAIL("--image_size must be a multiple of 4 and at least ", min_generator_size, ", got ", c.image_size);
  if (c.image_size % (int64_t(1) << c.d_repeat_num) != 0)
    ENGINE_FAIL("--image_size ", c.image_size, " must be a multiple of 2^d_repeat_num = ",
                int64_t(1) << c.d_repeat_num, " (the discriminator halves it d_repeat_num times)");
  if (c.batch_size < 1) ENGINE_FAIL("--batch_size must be at least 1, got ", c.batch_size);
  if (c.num_iters < 1) ENGINE_FAIL("--num_iters must be at least 1, got ", c.num_iters);
  if (c.num_iters_decay < 1) ENGINE_FAIL("--num_iters_decay must be at least 1, got ", c.num_iters_decay);
  if (c.n_critic < 1) ENGINE_FAIL("--n_critic must be at least 1, got ", c.n_critic);
  for (int64_t v : {c.log_step, c.sample_step, c.model_save_step, c.lr_update_step})
    if (v < 1) ENGINE_FAIL("--log_step, --sample_step, --model_save_step and --lr_update_step must be positive");
  if (!(c.g_lr >= 0 && c.d_lr >= 0)) ENGINE_FAIL("--g_lr and --d_lr must be non-negative");
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1))
    ENGINE_FAIL("--beta1 and --beta2 must lie in [0, 1)");
  if (c.lr_decay != "authors" && c.lr_decay != "linear")
    ENGINE_FAIL("--lr_decay must be authors or linear, got '", c.lr_decay, "'");
  if (c.keep_last < 0) ENGINE_FAIL("--keep_last must be 0 (keep all) or more, got ", c.keep_last);
}

GeneratorConfig generator_config(const TrainConfig& c) { return {c.g_conv_dim, c.c_dim, c.hourglass_dim}; }

DiscriminatorConfig discriminator_config(const TrainConfig& c) {
  return {c.image_size, c.d_conv_dim, c.c_dim, c.d_repeat_num};
}

double scheduled_lr(const TrainConfig& c, double lr0, int64_t step) {
  const int64_t decay_start = c.num_iters - c.num_iters_decay;
  double lr = lr0;
  // The authors' loop body runs after iteration i with i + 1 = s, for each s <= step.
  for (int64_t s = c.lr_update_step; s <= step; s += c.lr_update_step) {
    if (s <= decay_start) continue;
    if (c.lr_decay == "linear")
      lr = lr0 * double(std::max<int64_t>(0, c.num_iters - s)) / double(c.num_iters_decay);
    else
      lr -= lr0 / double(c.num_iters_decay);
  }
  return lr;
}

monitor::NamedValues IterationLosses::named() const {
  monitor::NamedValues out = {{"D/loss_real", d_real}, {"D/loss_fake", d_fake}, {"D/loss_cls", d_cls}, {"D/loss_gp", d_gp}};
  if (has_g) {
    out.emplace_back("G/loss_fake", g_fake);
    out.emplace_back("G/loss_rec", g_rec);
    out.emplace_back("G/loss_cls", g_cls);
  }
  return out;
}

Trainer::Trainer(const TrainConfig& config, engine::Device device, engine::Communicator* comm)
    : config_(config), device_(device), rng_(config.seed), comm_(comm) {
  validate(config);
  if (comm_ && config.batch_size % comm_->size() != 0)
    ENGINE_FAIL("--batch_size ", config.batch_size, " (the global batch) must be a multiple of the ", comm_->size(),
                " ranks, so that every rank's slice weighs the same in the averaged gradient");
  g_ = std::make_unique<Generator>(generator_config(config), rng_);
  d_ = std::make_unique<Discriminator>(discriminator_config(config), rng_);
  g_->to(device);
  d_->to(device);
  if (config.cuda_graph) {
    if (!device.is_cuda() || comm_)
      ENGINE_FAIL("--cuda_graph needs the cuda device and one process (got ", device.str(),
                  comm_ ? ", several ranks" : "", ")");
    stream_ = std::make_unique<engine::Stream>();
  }
  g_opt_ = std::make_unique<engine::Adam>(g_->named_parameters(),
                                          engine::AdamOptions{config.g_lr, config.beta1, config.beta2, 1e-8});
  d_opt_ = std::make_unique<engine::Adam>(d_->named_parameters(),
                                          engine::AdamOptions{config.d_lr, config.beta1, config.beta2, 1e-8});
}

void Trainer::set_step(int64_t step) {
  step_ = step;
  g_opt_->set_lr(scheduled_lr(config_, config_.g_lr, step));
  d_opt_->set_lr(scheduled_lr(config_, config_.d_lr, step));
}

std::vector<float> Trainer::one_hot_values(const std::vector<int64_t>& labels) const {
  std::vector<float> values(labels.size() * size_t(config_.c_dim), 0.f);
  for (size_t n = 0; n < labels.size(); ++n) {
    ENGINE_CHECK(labels[n] >= 0 && labels[n] < config_.c_dim, "label ", labels[n], " outside 0..", config_.c_dim - 1);
    values[n * size_t(config_.c_dim) + size_t(labels[n])] = 1.f;
  }
  return values;
}

Tensor Trainer::one_hot(const std::vector<int64_t>& labels) const {
  return Tensor::from_vector(one_hot_values(labels), {int64_t(labels.size()), config_.c_dim}, device_);
}

namespace {

// Stops the run on a NaN or infinite loss, before the optimiser can use it. Under the emulator's
// ENGINE_EMU_PROFILE=sampled the values are placeholders (engine/perf.h), not losses.
double finite_value(double v, const char* term, int64_t iteration) {
  if (!std::isfinite(v) && !engine::perf::sampled_blocks_only())
    ENGINE_FAIL("non-finite loss ", term, " = ", v, " at iteration ", iteration,
                "; training stopped, the last checkpoint is left as it was (lower the learning rates?)");
  return v;
}

void check_inputs(const IterationInputs& in) {
  const int64_t n = in.x.size(0);
  ENGINE_CHECK(int64_t(in.labels.size()) == n && int64_t(in.target_labels.size()) == n &&
                   int64_t(in.alpha.size()) == n,
               "IterationInputs: ", n, " images but ", in.labels.size(), " labels, ", in.target_labels.size(),
               " targets, ", in.alpha.size(), " alphas");
}

// dst's values from src (same shape), in place.
void copy_into(const Tensor& dst, const Tensor& src) {
  ENGINE_CHECK(dst.shape() == src.shape(), "copy_into: shape ", engine::shape_str(src.shape()), " into ",
               engine::shape_str(dst.shape()));
  engine::device_copy(dst.device(), dst.data(), src.device(), src.data(), sizeof(float) * size_t(src.numel()));
}

std::vector<Tensor> detached(const std::vector<Tensor>& terms) {
  std::vector<Tensor> out;
  for (const Tensor& t : terms) out.push_back(t.detach());
  return out;
}

}  // namespace

Trainer::DeviceInputs Trainer::upload(const IterationInputs& in) const {
  check_inputs(in);
  const int64_t n = in.x.size(0);
  DeviceInputs d;
  d.x = in.x.detach().to(device_);
  d.c_org = one_hot(in.labels);
  d.c_trg = one_hot(in.target_labels);
  d.alpha = Tensor::from_vector(in.alpha, {n, 1, 1, 1}, device_);
  d.labels = engine::Labels(in.labels, config_.c_dim, device_);
  d.target_labels = engine::Labels(in.target_labels, config_.c_dim, device_);
  return d;
}

void Trainer::refill(DeviceInputs& d, const IterationInputs& in) const {
  check_inputs(in);
  const int64_t n = in.x.size(0);
  copy_into(d.x, in.x);
  copy_into(d.c_org, Tensor::from_vector(one_hot_values(in.labels), {n, config_.c_dim}));
  copy_into(d.c_trg, Tensor::from_vector(one_hot_values(in.target_labels), {n, config_.c_dim}));
  copy_into(d.alpha, Tensor::from_vector(in.alpha, {n, 1, 1, 1}));
  d.labels.set(in.labels);
  d.target_labels.set(in.target_labels);
}

Tensor Trainer::fake_images(const IterationInputs& in) {
  check_inputs(in);
  return g_->forward(in.x.to(device_), one_hot(in.target_labels));
}

void Trainer::read_d_losses(const std::vector<Tensor>& terms, IterationLosses& losses) {
  const int64_t iteration = step_ + 1;
  std::vector<double> values;
  for (const Tensor& t : terms) values.push_back(t.item());
  average_losses(values);
  losses.d_real = finite_value(values[0], "D/loss_real", iteration);
  losses.d_fake = finite_value(values[1], "D/loss_fake", iteration);
  losses.d_cls = finite_value(values[2], "D/loss_cls", iteration);
  losses.d_gp = finite_value(values[3], "D/loss_gp", iteration);
}

void Trainer::read_g_losses(const std::vector<Tensor>& terms, IterationLosses& losses) {
  const int64_t iteration = step_ + 1;
  std::vector<double> values;
  for (const Tensor& t : terms) values.push_back(t.item());
  average_losses(values);
  losses.has_g = true;
  losses.g_fake = finite_value(values[0], "G/loss_fake", iteration);
  losses.g_rec = finite_value(values[1], "G/loss_rec", iteration);
  losses.g_cls = finite_value(values[2], "G/loss_cls", iteration);
}

void Trainer::apply_step(engine::Adam& optimizer, const Tensor& loss, Tensor* staged_guard) {
  if (!staged_guard) {
    optimizer.step();
    return;
  }
  // Not finite when this loss or an earlier step's is: the update is then skipped on the device.
  *staged_guard = staged_guard->defined() ? (*staged_guard + loss).detach() : loss.detach();
  optimizer.apply_step(*staged_guard);
}

std::vector<Tensor> Trainer::d_step_on(const DeviceInputs& in, const Tensor& shared_fake, const LossReader& read,
                                       Tensor* staged_guard) {
  const Tensor& x = in.x;
  auto [real_src, real_cls] = d_->forward(x);
  const Tensor loss_real = -engine::mean(real_src);
  const Tensor loss_cls = engine::cross_entropy(real_cls, in.labels);
  Tensor fake;  // the authors' x_fake.detach(): no history into G
  if (shared_fake.defined()) {
    fake = shared_fake.detach();
  } else {
    engine::NoGradGuard no_grad;
    fake = g_->forward(x, in.c_trg);
  }
  const Tensor loss_fake = engine::mean(d_->forward(fake).first);
  Tensor x_hat;
  {
    engine::NoGradGuard no_grad;  // x_hat is a new leaf, as alpha * x.data + (1 - alpha) * fake.data
    x_hat = in.alpha * x + (1.f - in.alpha) * fake;
  }
  x_hat.set_requires_grad(true);
  const Tensor hat_src = d_->forward(x_hat).first;
  const Tensor g = engine::grad({engine::sum(hat_src)}, {x_hat}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const Tensor loss_gp = engine::gradient_penalty(g);
  const std::vector<Tensor> terms = {loss_real, loss_fake, loss_cls, loss_gp};
  if (read) read(terms);
  const Tensor d_loss = loss_real + loss_fake + float(config_.lambda_cls) * loss_cls + float(config_.lambda_gp) * loss_gp;
  g_->zero_grad();
  d_->zero_grad();
  d_loss.backward();
  average_gradients(*d_);
  apply_step(*d_opt_, d_loss, staged_guard);
  return detached(terms);
}

std::vector<Tensor> Trainer::g_step_on(const DeviceInputs& in, const Tensor& shared_fake, const LossReader& read,
                                       Tensor* staged_guard) {
  const Tensor fake = shared_fake.defined() ? shared_fake : g_->forward(in.x, in.c_trg);
  // D's weights are constants here: the authors' backward also computes their gradients, only to
  // zero them before the next D step; not recording them saves D's weight gradients.
  const engine::FrozenParameters frozen_d(*d_);
  auto [src, cls] = d_->forward(fake);
  const Tensor loss_fake = -engine::mean(src);
  const Tensor loss_cls = engine::cross_entropy(cls, in.target_labels);
  const Tensor loss_rec = engine::l1_loss(in.x, g_->forward(fake, in.c_org));
  const std::vector<Tensor> terms = {loss_fake, loss_rec, loss_cls};
  if (read) read(terms);
  const Tensor g_loss = loss_fake + float(config_.lambda_rec) * loss_rec + float(config_.lambda_cls) * loss_cls;
  g_->zero_grad();
  d_->zero_grad();  // the D step's, applied already: free them
  g_loss.backward();
  average_gradients(*g_);
  apply_step(*g_opt_, g_loss, staged_guard);
  return detached(terms);
}

IterationLosses Trainer::d_step(const IterationInputs& in, const Tensor& shared_fake) {
  IterationLosses losses;
  d_step_on(upload(in), shared_fake, [&](const std::vector<Tensor>& terms) { read_d_losses(terms, losses); }, nullptr);
  return losses;
}

void Trainer::g_step(const IterationInputs& in, IterationLosses& losses, const Tensor& shared_fake) {
  g_step_on(upload(in), shared_fake, [&](const std::vector<Tensor>& terms) { read_g_losses(terms, losses); }, nullptr);
}

void Trainer::average_gradients(engine::Module& net) {
  if (!comm_) return;
  std::vector<Tensor> grads;
  // A parameter the graph does not reach (G's unused attention branch) has no gradient and Adam
  // skips it; the graph is the same on every rank, so every rank leaves out the same ones.
  for (const Tensor& p : net.parameters())
    if (p.grad().defined()) grads.push_back(p.grad());
  comm_->average(grads);
}

void Trainer::average_losses(std::vector<double>& values) {
  if (comm_) comm_->average(values);
}

IterationLosses Trainer::iteration(const Batch& batch) {
  const int64_t n = int64_t(batch.labels.size());
  // torch.randperm then torch.rand, in the authors' order, over the whole global batch: sample k
  // gets the same numbers whichever rank trains it.
  std::vector<int64_t> targets;
  for (int64_t k : rng_.permutation(n)) targets.push_back(batch.labels[size_t(k)]);
  const std::vector<float> alpha = rng_.uniform(n);
  const int ranks = comm_ ? comm_->size() : 1, rank = comm_ ? comm_->rank() : 0;
  ENGINE_CHECK(n % ranks == 0, "a batch of ", n, " images does not split over ", ranks,
               " ranks (the short last batch of an epoch? the number of images must be a multiple of ", ranks, ")");
  const int64_t first = n / ranks * rank, count = n / ranks;
  IterationInputs in;
  in.x = ranks == 1 ? batch.images : engine::narrow(batch.images, 0, first, count);
  in.labels.assign(batch.labels.begin() + first, batch.labels.begin() + first + count);
  in.target_labels.assign(targets.begin() + first, targets.begin() + first + count);
  in.alpha.assign(alpha.begin() + first, alpha.begin() + first + count);
  if (batch_log_) {
    for (int64_t k = first; k < first + count; ++k) {
      char a[32];
      std::snprintf(a, sizeof(a), "%a", double(alpha[size_t(k)]));
      *batch_log_ << step_ + 1 << " " << k << " " << batch.indices[size_t(k)] << " "
                  << (batch.flipped.empty() ? 0 : int(batch.flipped[size_t(k)])) << " " << batch.labels[size_t(k)]
                  << " " << targets[size_t(k)] << " " << a << "\n";
    }
  }
  const bool with_g_step = (step_ + 1) % config_.n_critic == 0;
  IterationLosses losses;
  if (stream_) {
    const engine::StreamGuard on_stream(*stream_);
    losses = graphed_iteration(in, with_g_step);
  } else {
    losses = eager_iteration(in, with_g_step);
  }
  set_step(step_ + 1);
  return losses;
}

IterationLosses Trainer::eager_iteration(const IterationInputs& in, bool with_g_step) {
  const DeviceInputs d = upload(in);
  const Tensor fake = with_g_step ? g_->forward(d.x, d.c_trg) : Tensor();
  IterationLosses losses;
  d_step_on(d, fake, [&](const std::vector<Tensor>& terms) { read_d_losses(terms, losses); }, nullptr);
  if (with_g_step) g_step_on(d, fake, [&](const std::vector<Tensor>& terms) { read_g_losses(terms, losses); }, nullptr);
  return losses;
}

IterationLosses Trainer::graphed_iteration(const IterationInputs& in, bool with_g_step) {
  GraphedIteration& kind = graphed_[with_g_step ? 1 : 0];
  // The first iteration of a kind runs as without graphs (lazy set-up happens outside the capture);
  // so does a batch of another size than the graphs read (the short last batch of an epoch).
  if (!kind.warmed_up || (graph_inputs_ && graph_inputs_->x.shape() != in.x.shape())) {
    kind.warmed_up = true;
    return eager_iteration(in, with_g_step);
  }
  if (graph_inputs_) {
    refill(*graph_inputs_, in);
  } else {
    graph_inputs_ = std::make_unique<DeviceInputs>(upload(in));
    graph_inputs_->x = graph_inputs_->x.clone();  // its own memory (upload may alias a cuda in.x)
  }
  d_opt_->begin_step();
  if (with_g_step) g_opt_->begin_step();
  if (!kind.graph.captured()) {
    kind.graph.capture([&] {
      const DeviceInputs& d = *graph_inputs_;
      const Tensor fake = with_g_step ? g_->forward(d.x, d.c_trg) : Tensor();
      Tensor guard;  // D's loss, then D's + G's: a non-finite one skips the Adam updates after it
      kind.d_terms = d_step_on(d, fake, nullptr, &guard);
      if (with_g_step) kind.g_terms = g_step_on(d, fake, nullptr, &guard);
    });
  }
  kind.graph.replay();
  IterationLosses losses;
  read_d_losses(kind.d_terms, losses);
  if (with_g_step) read_g_losses(kind.g_terms, losses);
  return losses;
}

int Trainer::cuda_graphs() const { return int(graphed_[0].graph.captured()) + int(graphed_[1].graph.captured()); }

std::size_t Trainer::cuda_graph_nodes() const { return graphed_[0].graph.nodes() + graphed_[1].graph.nodes(); }

std::vector<Tensor> Trainer::translate_all(const Tensor& x_cpu) {
  engine::NoGradGuard no_grad;
  const Tensor x = x_cpu.to(device_);
  std::vector<Tensor> columns = {x_cpu};
  for (int64_t k = 0; k < config_.c_dim; ++k)
    columns.push_back(g_->forward(x, one_hot(std::vector<int64_t>(size_t(x.size(0)), k))).to(engine::Device::cpu()));
  return columns;
}

void Trainer::check_parameters_finite() const {
  for (const engine::Module* net : {static_cast<const engine::Module*>(g_.get()), static_cast<const engine::Module*>(d_.get())})
    for (const auto& [name, p] : net->named_parameters())
      for (float v : p.to_vector())
        if (!std::isfinite(v))
          ENGINE_FAIL("non-finite value in ", net == g_.get() ? "G" : "D", " parameter '", name, "' after iteration ",
                      step_, "; not saving it");
}

}  // namespace models::sargan
