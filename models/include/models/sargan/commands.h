#pragma once
// The `sargan --model SARGAN` commands (flags: models/cli.h for CommonOptions, options.h for Options
// and ConvertOptions; apps/sargan.cpp chooses the command):
//   --mode test            --image_dir, --model_save_dir (or --weights), --result_dir
//   --mode test_inthewild  --test_dataset_dir, --weights_dir (or --weights), --results_dir
//   --mode train           --image_dir (or --train_dataset_dir), --model_save_dir (or --weights_dir),
//                          the solver flags of train_config.h (models/sargan/trainer.h)
//   convert IN OUT         .ckpt <-> .safetensors
// Both test modes translate every image into each expression: <result>/<name>_SARGAN_<EXP>.png
// and <name>_grid.png (name: the file name up to its first '.'). A file that cannot be decoded is
// skipped with one warning naming it; the exit code is 1 only when nothing was translated. User
// errors (missing folder, no images, unwritable output, wrong checkpoint) throw engine::Error with
// a one-line message. Progress goes to `log` (stderr), the summary line to `out` (stdout).
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dir_walk.h"
#include "models/cli.h"
#include "models/sargan/networks.h"
#include "models/sargan/options.h"
#include "models/sargan/translator.h"

namespace models::sargan {

// The test modes and train, by common.mode; returns the process exit code.
int run(const CommonOptions& common, const Options& options, std::ostream& log, std::ostream& out);
// --mode train: options.config with its folders (aliases resolved), image_size and device filled
// in from the flags, then train().
int run_train(const CommonOptions& common, const Options& options, std::ostream& log, std::ostream& out);
// `convert IN OUT`; the summary line goes to `out`.
int run_convert(const ConvertOptions& options, std::ostream& out);

// The image files under `path`, as torchvision's ImageFolder finds them (extensions .jpg .jpeg
// .png .ppm .bmp .pgm .tif .tiff .webp, any letter case; each sub-folder searched recursively,
// sorted), plus the images directly in `path`; `path` may also be one image file. Throws when
// `path` does not exist. Each folder is entered once; FIFOs, devices, dangling or looping links
// and unreadable names are skipped with one `warn` line each (engine/dir_walk.h).
std::vector<std::string> list_images(const std::string& path, const engine::WarnFn& warn = {});

// <dir>/sargan_G.ckpt, else <dir>/sargan_G.safetensors, skipping an empty (0-byte) one; logs the
// file chosen and why; throws naming both when neither is usable.
std::string find_generator_weights(const std::string& dir, std::ostream& log);

struct TranslateJob {
  std::string input;       // folder or file
  std::string weights;     // generator weights file
  std::string output_dir;  // created if absent
  int image_size = 128;
  Crop crop = Crop::centre;
  GeneratorConfig generator;
  engine::Device device = engine::Device::cpu();
  int batch_size = 1;  // images per forward
  bool cuda_graph = false;  // replay each batch shape's forward from a CUDA graph (Translator)
};

struct TranslateReport {
  int translated = 0;
  int skipped = 0;
  double seconds = 0.0;
  bool cuda_graph = false;  // the last batch was replayed from a CUDA graph
};

// The memory a translation needs, estimated from a measured peak (about 4 KiB per pixel per
// image for --g_conv_dim 16, scaled with the width); translate_images refuses in one line when
// this exceeds MemAvailable, before allocating anything.
uint64_t translate_memory_bytes(const TranslateJob& job);

// The work behind both test modes; warnings and progress go to `log` (a bar redrawn in place when
// `log` is std::cerr on a terminal, else a line every 5 s and at the end: models/monitor/progress_bar.h).
TranslateReport translate_images(const TranslateJob& job, std::ostream& log);

}  // namespace models::sargan
