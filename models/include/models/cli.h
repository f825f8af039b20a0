#pragma once
// The `sargan` command line after parsing (apps/sargan.cpp parses, models::run acts). The flags are
// the authors' main.py flags, so their README commands run verbatim:
//   sargan --test_dataset_dir ./testing_imgs/ --weights_dir ./pre-trained_models/ --model LSRF
//          --image_size 128 --f 1 --mode test_inthewild --results_dir ./results/
// Each model family adds its fields here and a branch in models::run (models/common/cli.cpp).
#include <string>

#include "engine/device.h"
#include "models/sargan/options.h"

namespace models {

struct CliOptions {
  std::string model = "SARGAN";  // SARGAN | LSRF | OMP (any letter case)
  std::string mode = "test_inthewild";  // train | test_inthewild | test
  std::string train_dataset_dir;
  std::string test_dataset_dir;
  std::string weights_dir;
  std::string results_dir = "./results/";
  int image_size = 128;
  // LSRF / OMP
  int f = 5;            // nonzero weights per output pixel
  double beta = 60.0;   // LSRF locality weight
  double lamda = 0.4;   // ridge penalty (the authors' spelling)
  // SARGAN (models/sargan/options.h); its --device also serves LSRF/OMP training
  sargan::Options sargan;
};

// Runs the command; returns the process exit code. User errors (missing files, bad flags) throw
// engine::Error with a one-line message for the app to print.
int run(const CliOptions& options);

// --device: cpu, cuda, or auto = the cuda device when there is one, except in a build whose cuda
// device is the CPU emulator: it exists to test the kernels and is far slower than the cpu.
engine::Device resolve_device(const std::string& name);

}  // namespace models
