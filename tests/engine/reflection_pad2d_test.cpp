// reflection_pad2d forward and backward against PyTorch's documented example and plain loops.
#include <catch2/catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

namespace {

// Padded index -> input index: distance past an edge is mirrored back inside (edge not repeated).
int64_t mirror(int64_t padded, int64_t size, int64_t pad) {
  const int64_t i = padded - pad;
  if (i < 0) return -i;
  if (i > size - 1) return (size - 1) - (i - (size - 1));
  return i;
}

}  // namespace

TEST_CASE("reflection_pad2d matches the PyTorch documentation example (p = H - 1)", "[cpu]") {
  // nn.ReflectionPad2d(2)(torch.arange(9.).reshape(1, 1, 3, 3)), from the PyTorch docs.
  std::vector<float> values(9);
  for (int i = 0; i < 9; ++i) values[i] = float(i);
  Tensor y = engine::reflection_pad2d(Tensor::from_vector(values, {1, 1, 3, 3}), 2);
  REQUIRE(y.shape() == Shape{1, 1, 7, 7});
  const std::vector<float> expected{8, 7, 6, 7, 8, 7, 6,  //
                                    5, 4, 3, 4, 5, 4, 3,  //
                                    2, 1, 0, 1, 2, 1, 0,  //
                                    5, 4, 3, 4, 5, 4, 3,  //
                                    8, 7, 6, 7, 8, 7, 6,  //
                                    5, 4, 3, 4, 5, 4, 3,  //
                                    2, 1, 0, 1, 2, 1, 0};
  CHECK(y.to_vector() == expected);
}

TEST_CASE("reflection_pad2d forward and backward against plain loops", "[cpu]") {
  struct Case { int64_t n, c, h, w, p; };
  for (const Case k : {Case{2, 3, 4, 6, 3}, Case{1, 1, 5, 3, 2}, Case{1, 2, 3, 3, 0}, Case{1, 1, 2, 7, 1}}) {
    INFO("shape " << k.n << "x" << k.c << "x" << k.h << "x" << k.w << " padding " << k.p);
    Tensor x = test::random_tensor({k.n, k.c, k.h, k.w}, 11);
    x.set_requires_grad(true);
    Tensor y = engine::reflection_pad2d(x, int(k.p));
    const int64_t oh = k.h + 2 * k.p, ow = k.w + 2 * k.p;
    REQUIRE(y.shape() == Shape{k.n, k.c, oh, ow});
    Tensor dy = test::random_tensor(y.shape(), 12);
    const auto vx = x.to_vector(), vdy = dy.to_vector();
    std::vector<float> expected(y.numel()), expected_dx(x.numel(), 0.f);
    for (int64_t plane = 0; plane < k.n * k.c; ++plane)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const int64_t src = plane * k.h * k.w + mirror(i, k.h, k.p) * k.w + mirror(j, k.w, k.p);
          expected[(plane * oh + i) * ow + j] = vx[src];
          expected_dx[src] += vdy[(plane * oh + i) * ow + j];
        }
    test::expect_close(y.to_vector(), expected, 0, 0, "forward");
    y.backward(dy);
    test::expect_close(x.grad().to_vector(), expected_dx, 1e-6, 1e-6, "backward");
  }
}

TEST_CASE("reflection_pad2d refuses padding that reaches the border", "[cpu]") {
  Tensor x = Tensor::zeros({1, 1, 3, 5});
  REQUIRE_THROWS_WITH(engine::reflection_pad2d(x, 3),
                      Catch::Contains("reflection_pad2d") && Catch::Contains("[1, 1, 3, 5]"));
  REQUIRE_THROWS_WITH(engine::reflection_pad2d(Tensor::zeros({3, 5}), 1),
                      Catch::Contains("reflection_pad2d") && Catch::Contains("4 dimensions"));
}
