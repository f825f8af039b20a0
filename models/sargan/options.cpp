// The SARGAN flags on the `sargan` command line (contract in options.h).
#include "models/sargan/options.h"

#include <CLI/CLI.hpp>

namespace models::sargan {

void add_options(CLI::App& app, Options& o) {
  app.add_option("--image_dir", o.image_dir, "SARGAN: input images (class sub-folders, a flat folder or one file)");
  app.add_option("--model_save_dir", o.model_save_dir, "SARGAN: folder holding sargan_G.ckpt or sargan_G.safetensors");
  app.add_option("--result_dir", o.result_dir, "SARGAN: output folder (default: --results_dir)");
  app.add_option("--weights", o.weights, "SARGAN: the generator weights file (.ckpt or .safetensors)");
  app.add_option("--c_dim", o.c_dim, "SARGAN: number of expressions")->capture_default_str();
  app.add_option("--g_conv_dim", o.g_conv_dim, "SARGAN: generator width")->capture_default_str();
  app.add_option("--d_conv_dim", o.d_conv_dim, "SARGAN: discriminator width")->capture_default_str();
  app.add_option("--d_repeat_num", o.d_repeat_num, "SARGAN: discriminator depth")->capture_default_str();
  app.add_option("--device", o.device, "SARGAN: auto, cpu or cuda")->capture_default_str();
  app.add_option("--crop", o.crop, "SARGAN: centre (crop to a square) or none (keep the aspect)")
      ->capture_default_str();
  app.add_option("--batch_size", o.batch_size, "SARGAN test: images per forward")->capture_default_str();
  CLI::App* convert = app.add_subcommand("convert", "SARGAN: rewrite weights between .ckpt and .safetensors");
  convert->add_option("in", o.convert_in, "the weights file to read (.ckpt or .safetensors)")->required();
  convert->add_option("out", o.convert_out, "the file to write; its extension picks the format")->required();
  convert->callback([&o] { o.convert = true; });
}

}  // namespace models::sargan
