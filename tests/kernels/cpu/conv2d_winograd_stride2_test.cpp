// The Winograd kernels of 4x4 stride-2 convs (kernels/conv2d_winograd_stride2.h) against a direct
// 7-loop convolution accumulated in double, forward and input gradient, on shapes with odd and
// non-square sizes (inputs whose last row or column no tap reaches), partial edge tiles, pads 0-3,
// channel counts 1-70 (not multiples of the 6-channel GEMM kernel) and many 16-tile panels.
// Legend: N batch, Ci/Co channels, H/W input size, p padding.
#include "kernels/conv2d_winograd_stride2.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "test_util.h"
#include "conv_reference.h"

using kernels::Conv2dShape;
using kernels::cpu::Winograd4x4s2Pass;

namespace {

struct Stride2Case {
  const char* name;
  int64_t n, c_in, h, w, c_out, pad;
  Conv2dShape shape() const { return test::square_conv_shape(n, c_in, h, w, c_out, 4, 2, pad); }
};

const Stride2Case cases[] = {
    {"one tile, C=1", 1, 1, 8, 8, 1, 1},
    {"one output, pad 0", 1, 2, 4, 4, 3, 0},
    {"odd sizes, partial tiles", 2, 3, 13, 9, 4, 1},
    {"H != W, pad 2", 1, 5, 11, 6, 7, 2},
    {"pad 0, odd H", 1, 4, 9, 10, 5, 0},
    {"pad 2 on a 1x1 map", 2, 4, 1, 1, 5, 2},
    {"pad 3", 1, 2, 5, 4, 3, 3},
    {"Ci=70 Co=1", 1, 70, 12, 14, 1, 1},
    {"Ci=1 Co=70", 1, 1, 10, 9, 70, 1},
    {"Co not a multiple of 6, several panels", 2, 13, 37, 35, 11, 1},
    // A 70 x 68 output: 18 x 17 = 306 tiles, 20 panels of 16, the last with 2.
    {"many panels", 1, 8, 140, 136, 9, 1},
    {"SARGAN D 3 (128 -> 256 at 32x32), channels cut to 32 -> 40", 1, 32, 32, 32, 40, 1},
};

// The batch through the kernels as a caller would: weights once, then image by image, each image
// in two ranges of panels (the second empty when there is one panel), with the workspace and the
// output filled with NaN beforehand so that a read of unwritten scratch or an output element left
// unwritten shows.
std::vector<float> run_winograd(const Conv2dShape& s, Winograd4x4s2Pass pass, const std::vector<float>& w,
                                const std::vector<float>& in, int64_t in_image, int64_t out_image) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> u(kernels::cpu::winograd4x4s2_weights_size(s, pass), nan);
  kernels::cpu::winograd4x4s2_transform_weights(s, pass, w.data(), u.data());
  std::vector<float> out(s.n * out_image, nan);
  std::vector<float> workspace(kernels::cpu::winograd4x4s2_workspace_size(s, pass), nan);
  const int64_t panels = kernels::cpu::winograd4x4s2_panels(s, pass);
  for (int64_t n = 0; n < s.n; ++n)
    for (const auto& [begin, end] : {std::pair{int64_t{0}, (panels + 1) / 2}, std::pair{(panels + 1) / 2, panels}})
      kernels::cpu::winograd4x4s2_image(s, pass, u.data(), in.data() + n * in_image, out.data() + n * out_image,
                                        workspace.data(), begin, end);
  return out;
}

// F(4x4, 2x2) in float: each output is within this share of its magnitude. Measured worst over
// these cases: see the test's output on failure and docs/ops/conv2d.md; one misplaced term of
// size 0.25 would be over 2e-4 of the magnitude even with Ci = 70.
constexpr double tolerance = 1e-5;

}  // namespace

TEST_CASE("winograd4x4s2 forward and input gradient match direct loops", "[conv2d_winograd]") {
  for (const Stride2Case& c : cases) {
    const Conv2dShape s = c.shape();
    INFO("case: " << c.name);
    REQUIRE(kernels::cpu::winograd4x4s2_supports(s));
    const int64_t in_plane = s.h_in * s.w_in, out_plane = s.h_out * s.w_out;
    const auto x = test::random_values(s.n * s.c_in * in_plane, 1);
    const auto w = test::random_values(s.c_out * s.c_in * 16, 2);
    const auto dy = test::random_values(s.n * s.c_out * out_plane, 3);
    const test::ConvReference ref = test::direct_conv(s, x, w, dy);
    test::expect_within_magnitude(
        run_winograd(s, Winograd4x4s2Pass::forward, w, x, s.c_in * in_plane, s.c_out * out_plane), ref.y,
        test::winograd_channel_magnitude(s, x, w, false), tolerance, "forward");
    test::expect_within_magnitude(
        run_winograd(s, Winograd4x4s2Pass::backward_input, w, dy, s.c_out * out_plane, s.c_in * in_plane), ref.dx,
        test::winograd_channel_magnitude(s, dy, w, true), tolerance, "input gradient");
  }
}

TEST_CASE("winograd4x4s2 supports only 4x4 stride-2 convs of consistent shape", "[conv2d_winograd]") {
  const Conv2dShape good = Stride2Case{"", 1, 128, 64, 64, 256, 1}.shape();
  CHECK(kernels::cpu::winograd4x4s2_supports(good));
#if defined(__AVX2__) && defined(__FMA__)  // built with the same flags as the kernels
  CHECK(kernels::cpu::winograd4x4s2_applies(good, Winograd4x4s2Pass::forward));
  CHECK(kernels::cpu::winograd4x4s2_applies(good, Winograd4x4s2Pass::backward_input));
  // The discriminator's first conv: 3 input channels, so the input gradient's GEMMs are 3 rows.
  const Conv2dShape rgb = Stride2Case{"", 8, 3, 128, 128, 64, 1}.shape();
  CHECK(kernels::cpu::winograd4x4s2_applies(rgb, Winograd4x4s2Pass::forward));
  CHECK_FALSE(kernels::cpu::winograd4x4s2_applies(rgb, Winograd4x4s2Pass::backward_input));
  // One panel of 16 tiles per image: the choice follows the image, never the batch (the two
  // paths give other bits, and an image must get the same ones in any batch).
  Conv2dShape one_panel = Stride2Case{"", 1, 128, 32, 32, 256, 1}.shape();
  for (const int64_t n : {1, 2, 3}) {
    one_panel.n = n;
    CHECK(kernels::cpu::winograd4x4s2_applies(one_panel, Winograd4x4s2Pass::forward));
    CHECK(kernels::cpu::winograd4x4s2_applies(one_panel, Winograd4x4s2Pass::backward_input));
  }
  // An 8x8 output: 4 tiles, a panel three-quarters empty.
  CHECK_FALSE(
      kernels::cpu::winograd4x4s2_applies(Stride2Case{"", 8, 256, 16, 16, 512, 1}.shape(), Winograd4x4s2Pass::forward));
#else  // the portable GEMM kernel does not beat the BLAS
  CHECK_FALSE(kernels::cpu::winograd4x4s2_applies(good, Winograd4x4s2Pass::forward));
#endif
  Conv2dShape s = good;
  s.stride = 1;
  CHECK_FALSE(kernels::cpu::winograd4x4s2_supports(s));
  s = good;
  s.k_h = s.k_w = 3;
  CHECK_FALSE(kernels::cpu::winograd4x4s2_supports(s));
  s = good;
  s.h_out = 31;  // not (H + 2 pad - 4) / 2 + 1
  CHECK_FALSE(kernels::cpu::winograd4x4s2_supports(s));
}
