// cat and narrow: first and second order (each one's backward is made of the other).
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("cat and narrow: first and second order", "[gradcheck]") {
  Tensor a = test::random_tensor({2, 2, 3}, 131), b = test::random_tensor({2, 1, 3}, 132);
  test::gradcheck([](const Inputs& v) { return engine::cat({v[0], v[1]}, 1); }, {a, b}, "cat dim 1");
  test::gradcheck([](const Inputs& v) { return engine::cat({v[1], v[0], v[1]}, -2); }, {a, b},
                  "cat with a repeated input");
  test::gradcheck([](const Inputs& v) { return engine::narrow(v[0], 2, 1, 2); }, {a}, "narrow");
  test::gradgradcheck([](const Inputs& v) {
    Tensor y = engine::cat({v[0] * v[1], v[1]}, 1);
    return y * y;
  }, {a, b}, "cat");
  test::gradgradcheck([](const Inputs& v) {
    Tensor y = engine::narrow(v[0], 0, 1, 1);
    return y * y * y;
  }, {a}, "narrow");
}
