// The flags both model families read, and the choice of a family (contract in cli.h).
#include "models/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>

#include "engine/check.h"

namespace models {

void add_common_options(CLI::App& app, CommonOptions& o) {
  app.add_option("--model", o.model, "SARGAN, LSRF or OMP")->capture_default_str();
  app.add_option("--mode", o.mode, "train, test_inthewild or test")->capture_default_str();
  app.add_option("--train_dataset_dir", o.train_dataset_dir, "training pairs: trainA/*.png -> trainB/*.png");
  app.add_option("--test_dataset_dir", o.test_dataset_dir, "test images (*.jpg), or testA/testB pairs for --mode test");
  app.add_option("--weights_dir", o.weights_dir, "folder of the weights files (read, or written by train)");
  app.add_option("--result_dir,--results_dir", o.results_dir, "output folder (created if absent)")
      ->check(not_empty())
      ->capture_default_str();
  app.add_option("--image_size", o.image_size, "images are resized to image_size x image_size")->capture_default_str();
  app.add_option("--device", o.device, "SARGAN, and LSRF/OMP training: auto, cpu or cuda")->capture_default_str();
}

ModelFamily model_family(const std::string& model) {
  std::string name = model;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  if (name == "SARGAN") return ModelFamily::sargan;
  if (name == "LSRF" || name == "OMP") return ModelFamily::lsrf;
  ENGINE_FAIL("unknown --model '", model, "' (expected SARGAN, LSRF or OMP)");
}

const CLI::Validator& not_empty() {
  static const CLI::Validator validator(
      [](const std::string& value) { return value.empty() ? std::string("must not be empty") : std::string(); },
      "NONEMPTY");
  return validator;
}

engine::Device resolve_device(const std::string& name) {
  if (name == "auto" && engine::cuda_emulated()) return engine::Device::cpu();
  return engine::Device::parse(name);
}

}  // namespace models
