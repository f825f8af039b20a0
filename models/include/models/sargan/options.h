#pragma once
// The flags of `sargan --model SARGAN` (commands.h runs it): the authors' main.py flags
// (--image_dir, --model_save_dir, the network sizes, the solver's) and ours (--weights, --crop,
// --batch_size in the test modes), and the `convert` subcommand's. The flags LSRF/OMP read too
// (--mode, the seed README's folders, --result_dir/--results_dir, --image_size, --device) are
// models::CommonOptions (models/cli.h).
#include <string>

#include "models/sargan/train_config.h"

namespace CLI {
class App;
}

namespace models::sargan {

struct Options {
  // The authors' folder flags as given; "" (absent): the seed README's flag stands in
  // (--test_dataset_dir or --train_dataset_dir, --weights_dir), then TrainConfig's default.
  std::string image_dir;       // ImageFolder layout, a flat folder or one image file
  std::string model_save_dir;  // holds sargan_G.ckpt or sargan_G.safetensors; train writes checkpoints there
  // The test modes
  std::string weights;          // a weights file, instead of the one found in the folder
  std::string crop = "centre";  // centre | none
  // --c_dim, --g_conv_dim, --d_conv_dim, --d_repeat_num, --batch_size and the solver's flags, bound
  // to the trainer's config; the test modes read the sizes and --batch_size (images per forward)
  // from it too. Its folders, image_size and device are no flags of their own: run_train fills
  // them from the folder flags above and CommonOptions.
  TrainConfig config;
};

// Registers the flags above on the app.
void add_options(CLI::App& app, Options& options);

// `sargan convert IN OUT`: rewrites a weights file between .ckpt and .safetensors.
struct ConvertOptions {
  std::string in;   // .ckpt or .safetensors, told apart by content
  std::string out;  // its extension picks the format
};

// Adds the `convert` subcommand; it ran when the returned subcommand's parsed() is true.
CLI::App* add_convert_command(CLI::App& app, ConvertOptions& options);

}  // namespace models::sargan
