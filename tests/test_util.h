#pragma once
// Shared test helpers: tolerance comparison that reports the worst element (llm.c's
// validate_result), finite-difference gradient checks of first and second order, seeded inputs,
// and the location of ../shared test data.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/image.h"
#include "engine/tensor.h"

namespace test {

// |actual - expected| <= atol + rtol * |expected| for every element; on failure the message names
// the worst element, its index and the share of the tolerance it used.
void expect_close(const std::vector<float>& actual, const std::vector<float>& expected, double atol,
                  double rtol, const std::string& what);
void expect_close(const engine::Tensor& actual, const engine::Tensor& expected, double atol,
                  double rtol, const std::string& what);

// Uniform values in [lo, hi) from a seeded generator (same sequence on every machine).
std::vector<float> random_values(int64_t count, uint64_t seed, float lo = -1.f, float hi = 1.f);
engine::Tensor random_tensor(const engine::Shape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f,
                             engine::Device device = engine::Device::cpu());

using TensorFn = std::function<engine::Tensor(const std::vector<engine::Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-2;   // central-difference step, relative to max(1, |x|)
  double atol = 2e-3;
  double rtol = 2e-2;
};

// Checks autograd's gradient of f at `inputs` against central differences of the projection
// <f(inputs), r> for a fixed random r (accumulated in double). Inputs must require grad.
void gradcheck(const TensorFn& f, const std::vector<engine::Tensor>& inputs, const std::string& what,
               GradcheckOptions options = {});
// Second order: checks the gradient of <grad_inputs(<f, r>), s> (computed with create_graph)
// against central differences of the first-order gradients.
void gradgradcheck(const TensorFn& f, const std::vector<engine::Tensor>& inputs,
                   const std::string& what, GradcheckOptions options = {});

// How two 8-bit images differ, value by value (after REQUIRE-ing equal sizes and channels).
struct PixelDifference {
  int max = 0;
  double mean = 0.0;
  size_t differing = 0;  // values that are not equal
  size_t count = 0;      // values compared
};
PixelDifference compare_pixels(const engine::Image& ours, const engine::Image& theirs);

// A fresh folder under the system's temporary directory, removed when the object dies; declared
// before anything whose background threads write there, it outlives them.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// ../shared beside the checkout, or "" (after a visible WARN) when it is absent.
std::string shared_dir(const std::string& relative);
std::string source_dir(const std::string& relative);

}  // namespace test
