// upsample_nearest2d: first and second order, integer and non-integer ratios.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("upsample_nearest2d: first and second order", "[gradcheck]") {
  Tensor x = test::random_tensor({1, 2, 3, 5}, 111);
  test::gradcheck([](const Inputs& v) { return engine::upsample_nearest2d(v[0], 5, 3); }, {x},
                  "upsample 3x5 -> 5x3");
  test::gradcheck([](const Inputs& v) { return engine::upsample_nearest2d_x2(v[0]); }, {x},
                  "upsample x2");
  test::gradgradcheck([](const Inputs& v) {
    Tensor u = engine::upsample_nearest2d(v[0], 4, 7);
    return u * u;
  }, {x}, "upsample 3x5 -> 4x7");
}
