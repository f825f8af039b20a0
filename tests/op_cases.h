#pragma once
// The table of ops: every differentiable op of engine/ops.h once, with small inputs that exercise
// its awkward cases (odd sizes, batch 1, C = 1, H != W, every stride and padding SARGAN uses).
// The gradcheck suite walks it for finite-difference checks, the cuda suite to compare the cuda
// device against the CPU, and a test fails when an op declared in ops.h is missing from it.
#include <string>
#include <vector>

#include "test_util.h"

namespace test {

struct InputSpec {
  engine::Shape shape;
  float lo = -1.f, hi = 1.f;
};

struct OpCase {
  std::string op;     // the ops.h function name
  std::string label;  // what this case exercises
  std::vector<InputSpec> inputs;
  TensorFn fn;
  bool second_order = false;  // on the gradient-penalty path: checked to second order
  GradcheckOptions tolerance = {};
};

const std::vector<OpCase>& op_cases();
std::vector<engine::Tensor> make_inputs(const OpCase& op_case, uint64_t seed,
                                        engine::Device device = engine::Device::cpu());

// The names of the ops declared in engine/include/engine/ops.h, read from the header itself.
std::vector<std::string> declared_ops();

}  // namespace test
