#pragma once
// The SARGAN flags of the `sargan` executable: the authors' main.py flags (--image_dir,
// --model_save_dir, --result_dir, the network sizes) and ours (--weights, --device, --crop,
// --batch_size in test mode, the `convert` subcommand) and the training flags (train_config.h). The seed README's --test_dataset_dir,
// --weights_dir and --results_dir live in models::CliOptions, shared with LSRF/OMP.
#include <cstdint>
#include <string>

#include "models/sargan/train_config.h"

namespace CLI {
class App;
}

namespace models::sargan {

struct Options {
  // The authors' layout (--mode test)
  std::string image_dir;       // ImageFolder layout, a flat folder or one image file
  std::string model_save_dir;  // holds sargan_G.ckpt or sargan_G.safetensors
  std::string result_dir;
  std::string weights;         // a weights file, instead of the one found in the folder
  // Network sizes (the authors' defaults)
  int64_t c_dim = 7;
  int64_t g_conv_dim = 64;
  int64_t d_conv_dim = 64;
  int64_t d_repeat_num = 6;
  // Ours
  std::string device = "auto";  // auto | cpu | cuda
  std::string crop = "centre";  // centre | none
  int batch_size = 1;           // test modes: images per forward, each giving c_dim samples
  // `sargan convert IN OUT`
  bool convert = false;
  std::string convert_in, convert_out;
  // --mode train: the solver's flags (the folders, sizes, batch_size and device above are copied in)
  TrainConfig train;
};

// Registers the flags above and the `convert` subcommand on the app.
void add_options(CLI::App& app, Options& options);

}  // namespace models::sargan
