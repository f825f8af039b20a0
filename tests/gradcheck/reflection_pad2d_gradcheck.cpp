// reflection_pad2d: first and second order (its backward is an op whose backward is the forward).
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("reflection_pad2d: first and second order", "[gradcheck]") {
  Tensor x = test::random_tensor({1, 2, 3, 4}, 101);
  test::gradcheck([](const Inputs& v) { return engine::reflection_pad2d(v[0], 2); }, {x},
                  "reflection_pad2d p = H - 1");
  // Squared so that the gradient depends on x and the second pass runs pad's backward backward.
  test::gradgradcheck([](const Inputs& v) {
    Tensor p = engine::reflection_pad2d(v[0], 2);
    return p * p;
  }, {x}, "reflection_pad2d");
}
