// Finite-difference checks of the convolution ops: first order for all three with and without
// bias, second order (the gradient of a gradient) for each, and the WGAN-GP gradient penalty of a
// two-layer conv + leaky-ReLU critic differentiated with respect to the critic's weights.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Conv2dOptions;
using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("conv2d: first and second order, with and without bias", "[gradcheck]") {
  struct Case {
    const char* name;
    engine::Shape x, w;
    Conv2dOptions options;
  };
  const Case cases[] = {
      {"3x3 s1 p1", {2, 2, 5, 4}, {3, 2, 3, 3}, {1, 1}},
      {"4x4 s2 p1", {1, 2, 6, 5}, {2, 2, 4, 4}, {2, 1}},
      {"3x3 s2 p0", {1, 1, 7, 6}, {2, 1, 3, 3}, {2, 0}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const Conv2dOptions options = c.options;
    Tensor x = test::random_tensor(c.x, 1), w = test::random_tensor(c.w, 2), b = test::random_tensor({c.w[0]}, 3);
    test::gradcheck([options](const Inputs& v) { return engine::conv2d(v[0], v[1], v[2], options); },
                    {x, w, b}, std::string("conv2d with bias, ") + c.name);
    test::gradcheck([options](const Inputs& v) { return engine::conv2d(v[0], v[1], Tensor(), options); },
                    {x, w}, std::string("conv2d, ") + c.name);
    test::gradgradcheck([options](const Inputs& v) { return engine::conv2d(v[0], v[1], v[2], options); },
                        {x, w, b}, std::string("conv2d with bias, ") + c.name);
  }
}

TEST_CASE("conv_transpose2d: first and second order, with and without bias", "[gradcheck]") {
  Tensor x = test::random_tensor({2, 2, 3, 4}, 4), w = test::random_tensor({2, 3, 4, 4}, 5);
  Tensor b = test::random_tensor({3}, 6);
  const Conv2dOptions up{2, 1};
  test::gradcheck([up](const Inputs& v) { return engine::conv_transpose2d(v[0], v[1], v[2], up); }, {x, w, b},
                  "conv_transpose2d 4x4 s2 p1 with bias");
  test::gradcheck([up](const Inputs& v) { return engine::conv_transpose2d(v[0], v[1], Tensor(), up); }, {x, w},
                  "conv_transpose2d 4x4 s2 p1");
  test::gradcheck(
      [](const Inputs& v) { return engine::conv_transpose2d(v[0], v[1], Tensor(), {2, 1}, {6, 8}); },
      {x, test::random_tensor({2, 3, 3, 3}, 7)}, "conv_transpose2d 3x3 s2 p1, output_size +1");
  test::gradgradcheck([up](const Inputs& v) { return engine::conv_transpose2d(v[0], v[1], v[2], up); },
                      {x, w, b}, "conv_transpose2d 4x4 s2 p1 with bias");
}

TEST_CASE("conv2d_weight_grad: first and second order", "[gradcheck]") {
  const Conv2dOptions options{2, 1};
  Tensor x = test::random_tensor({2, 2, 5, 6}, 8), dy = test::random_tensor({2, 3, 3, 3}, 9);
  const engine::Shape w_shape{3, 2, 3, 3};
  const auto f = [options, w_shape](const Inputs& v) {
    return engine::conv2d_weight_grad(v[0], v[1], w_shape, options);
  };
  test::gradcheck(f, {x, dy}, "conv2d_weight_grad 3x3 s2 p1");
  test::gradgradcheck(f, {x, dy}, "conv2d_weight_grad 3x3 s2 p1");
}

TEST_CASE("a convolution's gradient is differentiable through a nonlinear composition", "[gradcheck]") {
  // Second-order terms that do not vanish: the gradient of <conv(x, w)^2, r> depends on x and w
  // through the convolution itself, and is then differentiated again.
  Tensor x = test::random_tensor({1, 2, 5, 5}, 10), w = test::random_tensor({2, 2, 3, 3}, 11);
  test::gradgradcheck(
      [](const Inputs& v) {
        Tensor y = engine::conv2d(v[0], v[1], Tensor(), {1, 1});
        return engine::conv_transpose2d(y * y, v[1], Tensor(), {1, 1});
      },
      {x, w}, "conv_transpose2d(conv2d(x, w)^2, w)");
}

namespace {

// The critic D(x) = conv2d(leaky_relu(conv2d(x, w1, b1, s2 p1)), w2, b2, s1 p0) (its first layer
// as two ops, or fused as SARGAN's critic runs it) and the WGAN-GP penalty mean((||dD/dx||_2 - 1)^2)
// over the batch, as a function of D's parameters.
Tensor gradient_penalty(const Tensor& x_values, const Inputs& params, bool fused) {
  Tensor x = x_values.detach();
  x.set_requires_grad(true);
  Tensor hidden = fused ? engine::conv2d_leaky_relu(x, params[0], params[1], 0.2f, {2, 1})
                        : engine::leaky_relu(engine::conv2d(x, params[0], params[1], {2, 1}), 0.2f);
  Tensor critic = engine::conv2d(hidden, params[2], params[3], {1, 0});
  Tensor g = engine::grad({engine::sum(critic)}, {x}, {}, true, true)[0];
  Tensor norm = engine::sqrt(engine::sum(g * g, {1, 2, 3}));
  return engine::mean(engine::pow(norm - 1.f, 2.f));
}

}  // namespace

TEST_CASE("the gradient penalty of a conv critic differentiates to its weights", "[gradcheck]") {
  Tensor x = test::random_tensor({2, 2, 6, 6}, 12);
  Inputs params = {test::random_tensor({3, 2, 4, 4}, 13), test::random_tensor({3}, 14),
                   test::random_tensor({1, 3, 2, 2}, 15), test::random_tensor({1}, 16)};
  for (Tensor& p : params) p.set_requires_grad(true);
  for (const bool fused : {false, true}) {
    INFO((fused ? "conv2d_leaky_relu" : "conv2d, then leaky_relu"));
    const std::vector<Tensor> analytic = engine::grad({gradient_penalty(x, params, fused)}, params, {}, false, false, true);
    // Central differences with grad mode on: the penalty itself takes a gradient. The step is small
    // so that no hidden pre-activation crosses leaky_relu's kink; the penalty is float, so its
    // rounding (about 1e-7 relative) over a 2e-3 step stays far inside the tolerance. b2 shifts D
    // by a constant, so the penalty does not depend on it: autograd may leave its gradient unset,
    // and the differences must then be exactly zero.
    const float step = 1e-3f;
    for (size_t k = 0; k < params.size(); ++k) {
      const std::vector<float> base = params[k].to_vector();
      std::vector<float> numeric(base.size());
      for (size_t i = 0; i < base.size(); ++i) {
        auto penalty_at = [&](float value) {
          std::vector<float> shifted = base;
          shifted[i] = value;
          Inputs moved = params;
          moved[k] = Tensor::from_vector(shifted, params[k].shape());
          return double(gradient_penalty(x, moved, fused).item());
        };
        const float plus = base[i] + step, minus = base[i] - step;
        numeric[i] = static_cast<float>((penalty_at(plus) - penalty_at(minus)) / (double(plus) - minus));
      }
      const std::vector<float> got =
          analytic[k].defined() ? analytic[k].to_vector() : std::vector<float>(base.size(), 0.f);
      test::expect_close(got, numeric, 2e-3, 2e-2, "gradient penalty, parameter " + std::to_string(k));
    }
  }
}
