#pragma once
// The configuration of a SARGAN training run: the authors' solver flags and defaults (StarGAN's
// main.py), plus ours. Kept apart from trainer.h so that the command line can hold one without
// the networks' headers. On the `sargan` command line (models/sargan/options.h) the solver's
// flags, the network sizes and batch_size are bound to these fields directly; run_train fills
// image_dir, model_save_dir, result_dir (the seed README's aliases resolved), image_size and
// device from the other flags.
#include <cstdint>
#include <string>

namespace models::sargan {

struct TrainConfig {
  // Folders (the authors' flags)
  std::string image_dir;
  std::string model_save_dir = "sargan/models";
  std::string sample_dir = "sargan/samples";
  std::string log_dir = "sargan/logs";
  std::string result_dir = "sargan/results";  // recorded in config.json (the CLI's default: ./results/)
  // Model
  int image_size = 128;
  int64_t c_dim = 7, g_conv_dim = 64, d_conv_dim = 64, d_repeat_num = 6;
  int64_t hourglass_dim = 64;  // not a flag: the authors' value, kept so their Generator loads ours
  // Training (the authors' defaults)
  double lambda_cls = 1, lambda_rec = 1, lambda_gp = 10;
  int batch_size = 1;
  int64_t num_iters = 200000, num_iters_decay = 100000;
  double g_lr = 1e-4, d_lr = 1e-4;
  int64_t n_critic = 5;
  double beta1 = 0.5, beta2 = 0.999;
  std::string resume_iters;         // "" (start afresh), a step, or "latest"
  std::string lr_decay = "authors";  // authors (their quirk: ends at lr0 (1 - 1 / lr_update_step)) | linear
  // Monitoring and checkpoints
  int64_t log_step = 10, sample_step = 100, model_save_step = 1000, lr_update_step = 5000;
  int keep_last = 3;  // checkpoints kept (the newest); 0 keeps all, as the authors do
  // Ours
  std::string device = "auto";
  uint64_t seed = 0;
  bool progress_bar = true;  // on train()'s log stream (redrawn in place when it is stderr on a terminal)
  // Capture each kind of iteration (with a G step, without) in a CUDA graph after one ordinary
  // run of it, and replay it from then on: one launch instead of hundreds (docs/training.md,
  // "CUDA graphs"). The cuda device and one process only; the same bits as without.
  bool cuda_graph = false;
  // Multi-rank runs (docs/distributed.md)
  double dist_timeout = 300;  // seconds a collective may wait for the other ranks before the job stops
  std::string batch_log;      // "": none; else every sample of every step, one line each (per rank: .rank<r>)
};

}  // namespace models::sargan
