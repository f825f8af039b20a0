#pragma once
// The `sargan --model LSRF|OMP` commands (flags: models/cli.h for CommonOptions, options.h for Options):
//   --mode test_inthewild  every *.jpg/*.jpeg in --test_dataset_dir (natural order) through the
//                          weights <weights_dir>/<model>_weights_N2HAS_f-<f>_img-size_<S>.npz, each
//                          written as <results_dir>/<name>_y_1_test.png; an unreadable image is
//                          skipped with one warning, and the exit code is 1 only if none succeeded
//   --mode train           <train_dataset_dir>/trainA|trainB -> the weights file in --weights_dir;
//                          --device (models::resolve_device) is where the correlation GEMMs run
//   --mode test            paired <test_dataset_dir>/testA|testB: writes the outputs as above and
//                          reports the mean absolute error to the targets, the model's beside the
//                          identity's (the input itself), in grey levels of the [0, 1]-scaled images
// --device (models::resolve_device) is also where the inference's sparse products run.
// Progress and the summary go to `log` (stderr in the app).
#include <iosfwd>
#include <string>

#include "models/cli.h"
#include "models/lsrf/options.h"

namespace models::lsrf {

struct PairedScore {
  int pairs = 0;
  double model_mae = 0.0;     // mean |W x - t| * 255
  double identity_mae = 0.0;  // mean |x - t| * 255
};

// The mode of common.mode for the model of common.model (LSRF or OMP); returns the process exit code.
int run(const CommonOptions& common, const Options& options, std::ostream& log);

// The evaluation behind --mode test, without writing images.
PairedScore score_pairs(const std::string& weights_path, const std::string& dataset_dir, int image_size);

}  // namespace models::lsrf
