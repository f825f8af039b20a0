// cat and narrow against plain loops, along the first, a middle and the last dimension.
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

namespace {

// Element (i0, i1, i2) of a contiguous [s0, s1, s2] array.
int64_t at(const Shape& s, int64_t i0, int64_t i1, int64_t i2) { return (i0 * s[1] + i1) * s[2] + i2; }

}  // namespace

TEST_CASE("cat along each dimension against plain loops, with gradients as slices", "[cpu]") {
  const Shape base{2, 3, 4};
  for (int64_t dim = 0; dim < 3; ++dim) {
    INFO("dim " << dim);
    Shape sa = base, sb = base;
    sb[dim] = dim + 1;  // the second input has a different size along dim
    Tensor a = test::random_tensor(sa, 61), b = test::random_tensor(sb, 62);
    a.set_requires_grad(true);
    b.set_requires_grad(true);
    Tensor y = engine::cat({a, b}, dim - 3);  // negative dims count from the end
    Shape sy = base;
    sy[dim] = sa[dim] + sb[dim];
    REQUIRE(y.shape() == sy);
    const auto va = a.to_vector(), vb = b.to_vector(), vy = y.to_vector();
    Tensor dy = test::random_tensor(sy, 63);
    const auto vdy = dy.to_vector();
    std::vector<float> expected_da(va.size()), expected_db(vb.size());
    for (int64_t i = 0; i < sy[0]; ++i)
      for (int64_t j = 0; j < sy[1]; ++j)
        for (int64_t k = 0; k < sy[2]; ++k) {
          int64_t idx[3] = {i, j, k};
          const bool from_a = idx[dim] < sa[dim];
          if (!from_a) idx[dim] -= sa[dim];
          const int64_t src = at(from_a ? sa : sb, idx[0], idx[1], idx[2]);
          CHECK(vy[at(sy, i, j, k)] == (from_a ? va : vb)[src]);
          (from_a ? expected_da : expected_db)[src] = vdy[at(sy, i, j, k)];
        }
    y.backward(dy);
    CHECK(a.grad().to_vector() == expected_da);
    CHECK(b.grad().to_vector() == expected_db);
  }
}

TEST_CASE("cat of SARGAN's image and expression channels", "[cpu]") {
  // [N,3,H,W] image and [N,7,H,W] label maps -> [N,10,H,W].
  Tensor image = test::random_tensor({2, 3, 4, 5}, 64), labels = test::random_tensor({2, 7, 4, 5}, 65);
  Tensor y = engine::cat({image, labels}, 1);
  REQUIRE(y.shape() == Shape{2, 10, 4, 5});
  test::expect_close(engine::narrow(y, 1, 0, 3), image, 0, 0, "image channels");
  test::expect_close(engine::narrow(y, 1, 3, 7), labels, 0, 0, "label channels");
}

TEST_CASE("narrow against a plain loop, with its gradient padded by zeros", "[cpu]") {
  Tensor x = test::random_tensor({3, 5, 2}, 66);
  x.set_requires_grad(true);
  Tensor y = engine::narrow(x, 1, 1, 3);
  REQUIRE(y.shape() == Shape{3, 3, 2});
  const auto vx = x.to_vector(), vy = y.to_vector();
  std::vector<float> expected_dx(vx.size(), 0.f);
  const auto vdy = test::random_values(y.numel(), 67);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 2; ++k) {
        CHECK(vy[(i * 3 + j) * 2 + k] == vx[(i * 5 + j + 1) * 2 + k]);
        expected_dx[(i * 5 + j + 1) * 2 + k] = vdy[(i * 3 + j) * 2 + k];
      }
  y.backward(Tensor::from_vector(vdy, y.shape()));
  CHECK(x.grad().to_vector() == expected_dx);
}

TEST_CASE("cat and narrow refuse mismatched shapes and ranges", "[cpu]") {
  Tensor a = Tensor::zeros({2, 3, 4}), b = Tensor::zeros({2, 2, 5});
  REQUIRE_THROWS_WITH(engine::cat({a, b}, 1), Catch::Contains("cat") && Catch::Contains("[2, 2, 5]"));
  REQUIRE_THROWS_WITH(engine::cat({a}, 3), Catch::Contains("cat") && Catch::Contains("dimension 3"));
  REQUIRE_THROWS_WITH(engine::cat({}, 0), Catch::Contains("cat"));
  REQUIRE_THROWS_WITH(engine::narrow(a, 2, 2, 3),
                      Catch::Contains("narrow") && Catch::Contains("start 2 length 3"));
}
