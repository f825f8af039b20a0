// upsample_nearest2d against index tables produced by PyTorch and against plain loops.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

namespace {

// PyTorch 1.13's CPU rule (UpSample.h nearest_idx), written out independently of the kernels.
int64_t torch_nearest(int64_t dst, int64_t in, int64_t out) {
  if (in == out) return dst;
  if (out == 2 * in) return dst / 2;
  const float scale = float(in) / float(out);
  return std::min<int64_t>(int64_t(std::floor(float(dst) * scale)), in - 1);
}

std::vector<float> row_sources(int64_t in, int64_t out) {
  std::vector<float> values(in);
  for (int64_t i = 0; i < in; ++i) values[i] = float(i);
  Tensor y = engine::upsample_nearest2d(Tensor::from_vector(values, {1, 1, 1, in}), 1, out);
  return y.to_vector();
}

}  // namespace

TEST_CASE("upsample_nearest2d picks the sources PyTorch picks for non-integer ratios", "[cpu]") {
  // F.interpolate(torch.arange(float(i)).view(1, 1, 1, i), size=(1, o), mode='nearest') in
  // PyTorch 1.13 gives these source indices.
  CHECK(row_sources(3, 5) == std::vector<float>{0, 0, 1, 1, 2});
  CHECK(row_sources(5, 3) == std::vector<float>{0, 1, 3});
  CHECK(row_sources(4, 7) == std::vector<float>{0, 0, 1, 1, 2, 2, 3});
  CHECK(row_sources(7, 4) == std::vector<float>{0, 1, 3, 5});
  // 26 -> 22: the float scale puts 11 * 26/22 = 13 just below 13, so PyTorch reads 12 where the
  // exact rational rule would read 13; an integer-arithmetic rule fails here.
  CHECK(row_sources(26, 22) == std::vector<float>{0,  1,  2,  3,  4,  5,  7,  8,  9,  10, 11,
                                                  12, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24});
  CHECK(row_sources(6, 74)[37] == 2.f);  // exact rule: 3
}

TEST_CASE("upsample_nearest2d forward and backward against plain loops", "[cpu]") {
  struct Case { int64_t n, c, h, w, oh, ow; };
  for (const Case k : {Case{2, 3, 3, 5, 5, 3}, Case{1, 2, 4, 3, 8, 6}, Case{1, 1, 3, 4, 3, 4},
                       Case{1, 1, 5, 7, 11, 2}, Case{1, 2, 6, 6, 4, 9}}) {
    INFO(k.h << "x" << k.w << " -> " << k.oh << "x" << k.ow);
    Tensor x = test::random_tensor({k.n, k.c, k.h, k.w}, 21);
    x.set_requires_grad(true);
    Tensor y = engine::upsample_nearest2d(x, k.oh, k.ow);
    REQUIRE(y.shape() == Shape{k.n, k.c, k.oh, k.ow});
    Tensor dy = test::random_tensor(y.shape(), 22);
    const auto vx = x.to_vector(), vdy = dy.to_vector();
    std::vector<float> expected(y.numel()), expected_dx(x.numel(), 0.f);
    for (int64_t plane = 0; plane < k.n * k.c; ++plane)
      for (int64_t i = 0; i < k.oh; ++i)
        for (int64_t j = 0; j < k.ow; ++j) {
          const int64_t src = (plane * k.h + torch_nearest(i, k.h, k.oh)) * k.w + torch_nearest(j, k.w, k.ow);
          expected[(plane * k.oh + i) * k.ow + j] = vx[src];
          expected_dx[src] += vdy[(plane * k.oh + i) * k.ow + j];
        }
    test::expect_close(y.to_vector(), expected, 0, 0, "forward");
    y.backward(dy);
    test::expect_close(x.grad().to_vector(), expected_dx, 1e-6, 1e-6, "backward");
  }
  Tensor x = test::random_tensor({1, 2, 3, 4}, 23);
  test::expect_close(engine::upsample_nearest2d_x2(x), engine::upsample_nearest2d(x, 6, 8), 0, 0, "x2");
}

TEST_CASE("upsample_nearest2d refuses bad sizes", "[cpu]") {
  REQUIRE_THROWS_WITH(engine::upsample_nearest2d(Tensor::zeros({1, 1, 2, 2}), 0, 3),
                      Catch::Contains("upsample_nearest2d") && Catch::Contains("0x3"));
  REQUIRE_THROWS_WITH(engine::upsample_nearest2d(Tensor::zeros({2, 2}), 3, 3),
                      Catch::Contains("upsample_nearest2d"));
}
