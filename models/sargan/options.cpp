// The flags of `sargan --model SARGAN` and `sargan convert` (contract in options.h).
#include "models/sargan/options.h"

#include <CLI/CLI.hpp>

#include "models/cli.h"

namespace models::sargan {

void add_options(CLI::App& app, Options& o) {
  app.add_option("--image_dir", o.image_dir, "SARGAN: input images (class sub-folders, a flat folder or one file)")
      ->check(not_empty());
  app.add_option("--model_save_dir", o.model_save_dir, "SARGAN: folder holding sargan_G.ckpt or sargan_G.safetensors")
      ->check(not_empty());
  app.add_option("--weights", o.weights, "SARGAN: the generator weights file (.ckpt or .safetensors)")->check(not_empty());
  TrainConfig& t = o.config;
  app.add_option("--c_dim", t.c_dim, "SARGAN: number of expressions")->capture_default_str();
  app.add_option("--g_conv_dim", t.g_conv_dim, "SARGAN: generator width")->capture_default_str();
  app.add_option("--d_conv_dim", t.d_conv_dim, "SARGAN: discriminator width")->capture_default_str();
  app.add_option("--d_repeat_num", t.d_repeat_num, "SARGAN: discriminator depth")->capture_default_str();
  app.add_option("--crop", o.crop, "SARGAN: centre (crop to a square) or none (keep the aspect)")
      ->capture_default_str();
  app.add_option("--batch_size", t.batch_size, "SARGAN test: images per forward")->capture_default_str();
  app.add_option("--sample_dir", t.sample_dir, "SARGAN train: sample grids")->capture_default_str();
  app.add_option("--log_dir", t.log_dir, "SARGAN train: metrics.csv and loss.png")->capture_default_str();
  app.add_option("--lambda_cls", t.lambda_cls, "SARGAN train: weight of the classification losses")->capture_default_str();
  app.add_option("--lambda_rec", t.lambda_rec, "SARGAN train: weight of the reconstruction loss")->capture_default_str();
  app.add_option("--lambda_gp", t.lambda_gp, "SARGAN train: weight of the gradient penalty")->capture_default_str();
  app.add_option("--num_iters", t.num_iters, "SARGAN train: iterations")->capture_default_str();
  app.add_option("--num_iters_decay", t.num_iters_decay, "SARGAN train: iterations of lr decay (the last ones)")
      ->capture_default_str();
  app.add_option("--g_lr", t.g_lr, "SARGAN train: G learning rate")->capture_default_str();
  app.add_option("--d_lr", t.d_lr, "SARGAN train: D learning rate")->capture_default_str();
  app.add_option("--n_critic", t.n_critic, "SARGAN train: D updates per G update")->capture_default_str();
  app.add_option("--beta1", t.beta1, "SARGAN train: Adam beta1")->capture_default_str();
  app.add_option("--beta2", t.beta2, "SARGAN train: Adam beta2")->capture_default_str();
  app.add_option("--resume_iters", t.resume_iters, "SARGAN train: resume from this step, or 'latest'");
  app.add_option("--lr_decay", t.lr_decay, "SARGAN train: authors (their schedule, ends at 0.9998 lr with the "
                 "defaults) or linear (to 0 at num_iters)")->capture_default_str();
  app.add_option("--log_step", t.log_step, "SARGAN train: log line and CSV row every N steps")->capture_default_str();
  app.add_option("--sample_step", t.sample_step, "SARGAN train: sample grid and loss plot every N steps")
      ->capture_default_str();
  app.add_option("--model_save_step", t.model_save_step, "SARGAN train: checkpoint every N steps")
      ->capture_default_str();
  app.add_option("--lr_update_step", t.lr_update_step, "SARGAN train: lr decay every N steps")->capture_default_str();
  app.add_option("--keep_last", t.keep_last, "SARGAN train: checkpoints kept (0: all)")->capture_default_str();
  app.add_option("--seed", t.seed, "SARGAN train: seed of the initial weights, the data order and the draws")
      ->capture_default_str();
  app.add_option("--dist_timeout", t.dist_timeout, "SARGAN train under mpirun/srun: seconds a rank waits for the "
                 "others in a collective before the job stops, naming the silent ranks")->capture_default_str();
  app.add_flag("--cuda_graph", t.cuda_graph, "SARGAN on the cuda device: replay repeated work from CUDA graphs, "
               "the same results with far fewer launches (train, one process: each kind of iteration after its first "
               "run; test: each batch shape's forward after its first)");
  app.add_option("--batch_log", t.batch_log, "SARGAN train: write every sample of every step (file index, flip, "
                 "label, target, alpha) to this file (.rank<r> appended under mpirun)");
}

CLI::App* add_convert_command(CLI::App& app, ConvertOptions& o) {
  CLI::App* convert = app.add_subcommand("convert", "SARGAN: rewrite weights between .ckpt and .safetensors");
  convert->add_option("in", o.in, "the weights file to read (.ckpt or .safetensors)")->required();
  convert->add_option("out", o.out, "the file to write; its extension picks the format")->required();
  return convert;
}

}  // namespace models::sargan
