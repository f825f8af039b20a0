// instance_norm2d: first order for x, weight and bias (the backward is fused: once-differentiable).
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("instance_norm2d: first order, affine and not, fused ReLU", "[gradcheck]") {
  Tensor x = test::random_tensor({2, 3, 3, 4}, 121, -2.f, 2.f);
  Tensor w = test::random_tensor({3}, 122, 0.5f, 1.5f), b = test::random_tensor({3}, 123);
  test::gradcheck([](const Inputs& v) { return engine::instance_norm2d(v[0], v[1], v[2]); }, {x, w, b},
                  "instance_norm2d affine");
  test::gradcheck([](const Inputs& v) { return engine::instance_norm2d(v[0], {}, {}); }, {x},
                  "instance_norm2d");
  Tensor single_channel = test::random_tensor({1, 1, 2, 5}, 124);
  test::gradcheck([](const Inputs& v) { return engine::instance_norm2d(v[0], v[1], {}); },
                  {single_channel, test::random_tensor({1}, 125, 0.5f, 1.5f)}, "instance_norm2d C = 1");
  // Bias 0.3 keeps pre-activations away from the ReLU kink, where differences are not gradients.
  test::gradcheck([](const Inputs& v) { return engine::instance_norm2d_relu(v[0], v[1], v[2]); },
                  {x, w, Tensor::full({3}, 0.3f)}, "instance_norm2d_relu");
}
