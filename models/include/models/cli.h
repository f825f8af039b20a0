#pragma once
// The `sargan` executable's command line: the flags both model families read, and how the app
// chooses the command. apps/sargan.cpp registers each struct's flags once and runs one command:
//   make-faces       models::data::run_make_faces(MakeFacesOptions)       models/data/faces.h
//   convert IN OUT   models::sargan::run_convert(ConvertOptions)            models/sargan/options.h
//   --model SARGAN   models::sargan::run(CommonOptions, sargan::Options)    models/sargan/options.h
//   --model LSRF|OMP models::lsrf::run(CommonOptions, lsrf::Options)        models/lsrf/options.h
// The flags are the authors' main.py flags, so their README commands run verbatim:
//   sargan --test_dataset_dir ./testing_imgs/ --weights_dir ./pre-trained_models/ --model LSRF
//          --image_size 128 --f 1 --mode test_inthewild --results_dir ./results/
// A flag one family reads is a field of that family's Options, registered by its add_options; a
// flag both read is a field here, registered by add_common_options (models/common/cli.cpp).
#include <string>

#include "engine/device.h"

namespace CLI {
class App;
class Validator;
}  // namespace CLI

namespace models {

struct CommonOptions {
  std::string model = "SARGAN";         // SARGAN | LSRF | OMP (any letter case): model_family
  std::string mode = "test_inthewild";  // train | test_inthewild | test
  std::string train_dataset_dir;        // SARGAN: --image_dir, when given, wins
  std::string test_dataset_dir;         // SARGAN: --image_dir, when given, wins
  std::string weights_dir;              // SARGAN: --model_save_dir, when given, wins
  // One option, two spellings: --result_dir (the authors') and --results_dir (the seed README's)
  std::string results_dir = "./results/";
  int image_size = 128;
  std::string device = "auto";  // auto | cpu | cuda: where SARGAN runs, and the LSRF/OMP products (resolve_device)
};

// Registers the flags above on the app.
void add_common_options(CLI::App& app, CommonOptions& options);

enum class ModelFamily { sargan, lsrf };

// --model in any letter case: SARGAN, or LSRF and OMP (one family); throws engine::Error naming
// the value otherwise.
ModelFamily model_family(const std::string& model);

// The check of a folder or file flag: an empty value given explicitly is a mistake (an unset
// shell variable), not a request for the default, refused by the parser ("--flag: must not be empty").
const CLI::Validator& not_empty();

// --device: cpu, cuda, or auto = the cuda device when there is one, except in a build whose cuda
// device is the CPU emulator: it exists to test the kernels and is far slower than the cpu.
engine::Device resolve_device(const std::string& name);

}  // namespace models
