#pragma once
// --precision fp32|tf32 for the executables that run models: the CUDA convolutions' arithmetic
// (engine/precision.h). Left out, ENGINE_PRECISION or fp32 applies.
#include <CLI/CLI.hpp>
#include <string>

#include "engine/precision.h"

inline CLI::Option* add_precision_option(CLI::App& app) {
  return app
      .add_option_function<std::string>(
          "--precision", [](const std::string& p) { engine::set_precision(engine::parse_precision(p)); },
          "CUDA convolutions: fp32 (default, exact parity) or tf32 (tensor cores, relative error near 1e-3); "
          "the cpu always computes fp32")
      ->check(CLI::IsMember({"fp32", "tf32"}));
}
