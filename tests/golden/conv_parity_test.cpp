// conv2d and conv_transpose2d forward and backward against PyTorch 1.13 (tests/fixtures/torch/
// conv2d.json and conv_transpose2d.json from tools/fixtures/make_torch_fixtures.py), on SARGAN's
// kernel/stride/padding combinations at tiny sizes.
//
// Tolerance: inputs are O(1), weights O(0.5); each output sums at most 245 products (7x7x5) and
// each weight gradient at most 144, in a different order from PyTorch's (its im2col + sgemm
// blocking vs ours). Float32 reordering errors are ~sqrt(terms) * 6e-8 * |terms|: observed at most
// 2.4e-6 (the 7x7 case, |y| = 6.5), 5e-7 elsewhere. atol 2e-5 + rtol 1e-5 leaves a margin of about
// ten while still catching any indexing error (which moves values by O(0.1)).
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "golden/fixture.h"

using engine::Tensor;

namespace {

constexpr double kAtol = 2e-5, kRtol = 1e-5;

void check_conv_file(const char* file, bool transposed) {
  const test::TorchFixture fixture(file);
  for (const auto& c : fixture.json()["cases"]) {
    const std::string name = c["name"];
    INFO(file << " case " << name);
    const bool has_bias = c["bias"];
    const engine::Conv2dOptions options{c["stride"].get<int>(), c["padding"].get<int>()};
    Tensor x = fixture.tensor(name + ".x", true), w = fixture.tensor(name + ".weight", true);
    Tensor b = has_bias ? fixture.tensor(name + ".bias", true) : Tensor();
    const Tensor y = transposed ? engine::conv_transpose2d(x, w, b, options) : engine::conv2d(x, w, b, options);
    test::expect_close(y, fixture.tensor(name + ".y"), kAtol, kRtol, name + " y");

    std::vector<Tensor> inputs{x, w};
    if (has_bias) inputs.push_back(b);
    const auto grads = engine::grad({y}, inputs, {fixture.tensor(name + ".grad_y")});
    test::expect_close(grads[0], fixture.tensor(name + ".grad_x"), kAtol, kRtol, name + " grad_x");
    test::expect_close(grads[1], fixture.tensor(name + ".grad_weight"), kAtol, kRtol, name + " grad_weight");
    if (has_bias)
      test::expect_close(grads[2], fixture.tensor(name + ".grad_bias"), kAtol, kRtol, name + " grad_bias");
  }
}

}  // namespace

TEST_CASE("conv2d forward and backward match PyTorch", "[golden]") { check_conv_file("conv2d.json", false); }

TEST_CASE("conv_transpose2d forward and backward match PyTorch", "[golden]") {
  check_conv_file("conv_transpose2d.json", true);
}
