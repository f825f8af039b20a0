// Walks the op table on the cuda device (a GPU, or the emulator): forward outputs and the
// gradients of every input must match the CPU op's. Tolerance: the kernels sum in another order
// than the CPU ops (which accumulate reductions in double), so |cuda - cpu| <= 1e-4 + 1e-4 |cpu|
// on these small shapes, where float32 rounding of sums of at most a few hundred terms of
// magnitude ~1 stays below 1e-5.
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "op_cases.h"

using engine::Device;
using engine::Tensor;

namespace {

struct Result {
  Tensor output;
  std::vector<Tensor> grads;
};

Result run(const test::OpCase& c, Device device) {
  std::vector<Tensor> inputs = test::make_inputs(c, 21, device);
  for (Tensor& t : inputs) t.set_requires_grad(true);
  Tensor y = c.fn(inputs);
  Tensor upstream = test::random_tensor(y.shape(), 5, -1.f, 1.f, device);
  return {y, engine::grad({y}, inputs, {upstream}, false, false, true)};
}

}  // namespace

TEST_CASE("op table: the cuda device matches the CPU, forward and backward", "[cuda]") {
  if (!engine::cuda_available()) {
    WARN("skipped: this build has no usable cuda device");
    return;
  }
  for (const auto& c : test::op_cases()) {
    DYNAMIC_SECTION(c.op << " (" << c.label << ")") {
      Result cpu = run(c, Device::cpu());
      Result cuda = run(c, Device::cuda());
      REQUIRE(cuda.output.device() == Device::cuda());
      test::expect_close(cuda.output.to(Device::cpu()), cpu.output, 1e-4, 1e-4, c.op + " forward");
      for (size_t i = 0; i < cpu.grads.size(); ++i) {
        REQUIRE(cpu.grads[i].defined() == cuda.grads[i].defined());
        if (!cpu.grads[i].defined()) continue;
        test::expect_close(cuda.grads[i].to(Device::cpu()), cpu.grads[i], 1e-4, 1e-4,
                           c.op + " gradient of input " + std::to_string(i));
      }
    }
  }
}
