// First- and second-order finite-difference checks of the elementwise ops and reductions.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("binary ops with broadcasting: first and second order", "[gradcheck]") {
  Tensor a = test::random_tensor({2, 3, 2, 2}, 1), b = test::random_tensor({2, 1, 2, 2}, 2, 0.5f, 1.5f);
  test::gradcheck([](const Inputs& x) { return x[0] + x[1]; }, {a, b}, "add");
  test::gradcheck([](const Inputs& x) { return x[0] - x[1]; }, {a, b}, "sub");
  test::gradcheck([](const Inputs& x) { return x[0] * x[1]; }, {a, b}, "mul");
  test::gradcheck([](const Inputs& x) { return x[0] / x[1]; }, {a, b}, "div");
  test::gradgradcheck([](const Inputs& x) { return x[0] * x[1] * x[0]; }, {a, b}, "mul");
  test::gradgradcheck([](const Inputs& x) { return (x[0] - x[1]) * (x[0] + x[1]); }, {a, b}, "add/sub");
}

TEST_CASE("unary ops: first order, and second order on the gradient-penalty path", "[gradcheck]") {
  Tensor x = test::random_tensor({3, 5}, 3, -2.f, 2.f);
  Tensor positive = test::random_tensor({3, 5}, 4, 0.5f, 2.f);
  test::gradcheck([](const Inputs& v) { return engine::leaky_relu(v[0], 0.01f); }, {x}, "leaky_relu");
  test::gradcheck([](const Inputs& v) { return engine::relu(v[0]); }, {x}, "relu");
  test::gradcheck([](const Inputs& v) { return engine::sigmoid(v[0]); }, {x}, "sigmoid");
  test::gradcheck([](const Inputs& v) { return engine::tanh(v[0]); }, {x}, "tanh");
  test::gradcheck([](const Inputs& v) { return engine::abs(v[0]); }, {x}, "abs");
  test::gradcheck([](const Inputs& v) { return engine::clamp(v[0], -0.5f, 0.5f); }, {x}, "clamp");
  test::gradcheck([](const Inputs& v) { return engine::sqrt(v[0]); }, {positive}, "sqrt");
  test::gradcheck([](const Inputs& v) { return engine::pow(v[0], 3.f); }, {x}, "pow");
  test::gradgradcheck([](const Inputs& v) { return engine::sqrt(v[0]); }, {positive}, "sqrt");
  test::gradgradcheck([](const Inputs& v) { return engine::pow(v[0], 3.f); }, {x}, "pow");
  test::gradgradcheck([](const Inputs& v) { return engine::leaky_relu(v[0] * v[0] - 1.f, 0.2f) * v[0]; },
                      {x}, "leaky_relu");
}

TEST_CASE("reductions, expand and reshape: first and second order", "[gradcheck]") {
  Tensor x = test::random_tensor({2, 3, 4}, 5);
  test::gradcheck([](const Inputs& v) { return engine::sum(v[0], {0, 2}); }, {x}, "sum dims");
  test::gradcheck([](const Inputs& v) { return engine::mean(v[0], {1}, true); }, {x}, "mean keepdim");
  test::gradcheck([](const Inputs& v) { return engine::expand(v[0].reshape({2, 1, 12}), {2, 3, 12}); },
                  {x}, "expand");
  test::gradgradcheck([](const Inputs& v) { return engine::pow(engine::sum(v[0] * v[0], {2}), 1.5f); },
                      {x}, "sum");
  test::gradgradcheck([](const Inputs& v) { return engine::mean(engine::expand(v[0].reshape({2, 1, 12}), {2, 3, 12}) * v[0].reshape({2, 1, 12})); },
                      {x}, "expand/mean/reshape");
}
