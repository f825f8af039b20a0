// Dispatch of the `sargan` command line to the model families (contract in cli.h).
#include "models/cli.h"

#include <algorithm>
#include <cctype>

#include "engine/check.h"
#include "models/lsrf/commands.h"
#include "models/sargan/commands.h"

namespace models {

int run(const CliOptions& options) {
  std::string model = options.model;
  std::transform(model.begin(), model.end(), model.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  if (model == "SARGAN" || options.sargan.convert) return sargan::run(options);
  if (model == "LSRF" || model == "OMP") return lsrf::run(options);
  ENGINE_FAIL("unknown --model '", options.model, "' (expected SARGAN, LSRF or OMP)");
}

engine::Device resolve_device(const std::string& name) {
  if (name == "auto" && engine::cuda_emulated()) return engine::Device::cpu();
  return engine::Device::parse(name);
}

}  // namespace models
