#include "test_util.h"

#include <catch2/catch.hpp>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace test {

using engine::Tensor;

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected, double atol,
                  double rtol, const std::string& what) {
  INFO(what);
  REQUIRE(actual.size() == expected.size());
  double worst_share = 0.0;
  size_t worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double tolerance = atol + rtol * std::fabs(expected[i]);
    const double error = std::fabs(double(actual[i]) - double(expected[i]));
    const bool same = error == 0.0 || (std::isnan(actual[i]) && std::isnan(expected[i]));
    const double share = same ? 0.0 : std::isnan(error) ? INFINITY : error / tolerance;
    if (share > worst_share || std::isnan(share)) {
      worst_share = std::isnan(share) ? INFINITY : share;
      worst = i;
    }
  }
  std::ostringstream report;
  if (!actual.empty())
    report << what << ": worst element " << worst << " got " << actual[worst] << " expected "
           << expected[worst] << ", " << 100.0 * worst_share << "% of tolerance (atol " << atol
           << ", rtol " << rtol << ")";
  INFO(report.str());
  CHECK(worst_share <= 1.0);
}

void expect_close(const Tensor& actual, const Tensor& expected, double atol, double rtol,
                  const std::string& what) {
  INFO(what << ": shapes " << engine::shape_str(actual.shape()) << " vs "
            << engine::shape_str(expected.shape()));
  REQUIRE(actual.shape() == expected.shape());
  expect_close(actual.to_vector(), expected.to_vector(), atol, rtol, what);
}

std::vector<float> random_values(int64_t count, uint64_t seed, float lo, float hi) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> distribution(lo, hi);
  std::vector<float> values(count);
  for (float& v : values) v = distribution(generator);
  return values;
}

Tensor random_tensor(const engine::Shape& shape, uint64_t seed, float lo, float hi, engine::Device device) {
  return Tensor::from_vector(random_values(engine::numel(shape), seed, lo, hi), shape, device);
}

namespace {

double projection(const Tensor& y, const std::vector<float>& r) {
  const std::vector<float> values = y.to_vector();
  double total = 0.0;
  for (size_t i = 0; i < values.size(); ++i) total += double(values[i]) * r[i];
  return total;
}

Tensor with_values(const Tensor& like, const std::vector<float>& values) {
  Tensor t = Tensor::from_vector(values, like.shape(), like.device());
  t.set_requires_grad(true);
  return t;
}

// Checks analytic(inputs) (one gradient per input) against central differences of scalar(inputs).
void compare_with_differences(const std::function<double(const std::vector<Tensor>&)>& scalar,
                              const std::vector<Tensor>& analytic, const std::vector<Tensor>& inputs,
                              const std::string& what, const GradcheckOptions& options) {
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::vector<float> base = inputs[k].to_vector();
    std::vector<float> numeric(base.size());
    for (size_t i = 0; i < base.size(); ++i) {
      const double step = options.eps * std::max(1.0, std::fabs(double(base[i])));
      std::vector<Tensor> shifted = inputs;
      std::vector<float> values = base;
      values[i] = static_cast<float>(base[i] + step);
      const double actual_plus = values[i] - double(base[i]);
      shifted[k] = with_values(inputs[k], values);
      const double plus = scalar(shifted);
      values[i] = static_cast<float>(base[i] - step);
      const double actual_minus = double(base[i]) - values[i];
      shifted[k] = with_values(inputs[k], values);
      const double minus = scalar(shifted);
      numeric[i] = static_cast<float>((plus - minus) / (actual_plus + actual_minus));
    }
    const std::vector<float> got =
        analytic[k].defined() ? analytic[k].to_vector() : std::vector<float>(base.size(), 0.f);
    expect_close(got, numeric, options.atol, options.rtol, what + ", input " + std::to_string(k));
  }
}

std::vector<Tensor> fresh_leaves(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) leaves.push_back(with_values(t, t.to_vector()));
  return leaves;
}

}  // namespace

void gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, const std::string& what,
               GradcheckOptions options) {
  std::vector<Tensor> leaves = fresh_leaves(inputs);
  Tensor y = f(leaves);
  const std::vector<float> r = random_values(y.numel(), 1234);
  Tensor r_tensor = Tensor::from_vector(r, y.shape(), y.device());
  std::vector<Tensor> analytic = engine::grad({y}, leaves, {r_tensor}, false, false, true);
  auto scalar = [&](const std::vector<Tensor>& xs) {
    engine::NoGradGuard no_grad;
    return projection(f(xs), r);
  };
  compare_with_differences(scalar, analytic, leaves, what, options);
}

void gradgradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, const std::string& what,
                   GradcheckOptions options) {
  std::vector<Tensor> leaves = fresh_leaves(inputs);
  Tensor y0 = f(leaves);
  const std::vector<float> r = random_values(y0.numel(), 1234);
  // h(xs) = sum_k <d<f(xs), r>/dx_k, s_k>, a scalar function of the inputs built from gradients.
  std::vector<std::vector<float>> s;
  for (size_t k = 0; k < leaves.size(); ++k) s.push_back(random_values(leaves[k].numel(), 99 + k));
  auto h = [&](const std::vector<Tensor>& xs, bool create_graph) {
    Tensor y = f(xs);
    Tensor r_tensor = Tensor::from_vector(r, y.shape(), y.device());
    std::vector<Tensor> grads = engine::grad({y}, xs, {r_tensor}, true, create_graph, true);
    Tensor total;
    for (size_t k = 0; k < xs.size(); ++k) {
      if (!grads[k].defined()) continue;
      Tensor term = engine::sum(grads[k] * Tensor::from_vector(s[k], xs[k].shape(), xs[k].device()));
      total = total.defined() ? total + term : term;
    }
    return total;
  };
  Tensor h_value = h(leaves, true);
  REQUIRE(h_value.defined());
  std::vector<Tensor> analytic;
  if (h_value.requires_grad()) {
    analytic = engine::grad({h_value}, leaves, {}, false, false, true);
  } else {
    analytic.resize(leaves.size());  // the gradient does not depend on the inputs: zero
  }
  auto scalar = [&](const std::vector<Tensor>& xs) { return double(h(xs, false).item()); };
  compare_with_differences(scalar, analytic, leaves, what + " (second order)", options);
}

PixelDifference compare_pixels(const engine::Image& ours, const engine::Image& theirs) {
  REQUIRE(ours.width == theirs.width);
  REQUIRE(ours.height == theirs.height);
  REQUIRE(ours.channels == theirs.channels);
  PixelDifference difference;
  difference.count = ours.pixels.size();
  double total = 0.0;
  for (size_t i = 0; i < ours.pixels.size(); ++i) {
    const int d = std::abs(int(ours.pixels[i]) - int(theirs.pixels[i]));
    difference.max = std::max(difference.max, d);
    difference.differing += d != 0;
    total += d;
  }
  difference.mean = difference.count ? total / double(difference.count) : 0.0;
  INFO("max difference " << difference.max << ", mean " << difference.mean << ", differing values "
                         << difference.differing << " of " << difference.count);
  return difference;
}

TempDir::TempDir(const std::string& name)
    : path(std::filesystem::temp_directory_path() /
           ("engine_test_" + std::to_string(getpid()) + "_" + name)) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor must not throw; a leftover folder is harmless
  std::filesystem::remove_all(path, ignored);
}

// The environment overrides the configured folders: tools/perf/gpu_check.sh runs the tests from a
// checkout copied to another path.
static std::filesystem::path configured(const char* variable, const char* built_in) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? value : built_in;
}

std::string shared_dir(const std::string& relative) {
  const std::filesystem::path path = configured("ENGINE_SHARED_DIR", ENGINE_SHARED_DIR) / relative;
  if (!std::filesystem::exists(path)) {
    WARN("skipped: test data " << path.string() << " is absent (../shared beside the checkout)");
    return "";
  }
  return path.string();
}

std::string source_dir(const std::string& relative) {
  return (configured("ENGINE_SOURCE_DIR", ENGINE_SOURCE_DIR) / relative).string();
}

}  // namespace test
