// Walks the op table on the cuda device: every op's gradient against central differences of the
// op itself running on that device, and the gradient-penalty-path ops to second order. Inputs
// and tolerances are the CPU gradcheck's (tests/gradcheck/op_table_gradcheck.cpp, seed 11), whose
// values keep clear of the kinks of clamp, abs and l1 by more than the difference step.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "engine/device.h"
#include "op_cases.h"

TEST_CASE("op table on the cuda device: gradients match finite differences", "[cuda]") {
  if (!engine::cuda_available()) {
    WARN("skipped: this build has no usable cuda device");
    return;
  }
  if (std::getenv("ENGINE_TEST_SMALL") != nullptr) {  // the sanitizer runs: kernels are covered above
    WARN("skipped under ENGINE_TEST_SMALL: thousands of emulated launches per op");
    return;
  }
  for (const auto& c : test::op_cases()) {
    DYNAMIC_SECTION(c.op << " (" << c.label << ")") {
      const auto inputs = test::make_inputs(c, 11, engine::Device::cuda());
      test::gradcheck(c.fn, inputs, c.op + " " + c.label + " on cuda", c.tolerance);
      if (c.second_order) test::gradgradcheck(c.fn, inputs, c.op + " " + c.label + " on cuda", c.tolerance);
    }
  }
}
