// The Winograd F(4x4, 3x3) kernels (kernels/conv2d_winograd.h) against a direct 7-loop
// convolution accumulated in double, forward and as the input gradient (the flipped-kernel conv
// with padding 2 - pad), on shapes with odd and non-square sizes, partial edge tiles, pads 0-2,
// channel counts 1-70 (not multiples of the 6-channel kernel) and many 16-tile panels.
// Legend: N batch, Ci/Co channels, H/W input size, p padding.
#include "kernels/conv2d_winograd.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"
#include "conv_reference.h"

using kernels::Conv2dShape;

namespace {

struct WinogradCase {
  const char* name;
  int64_t n, c_in, h, w, c_out, pad;
  Conv2dShape shape() const { return test::square_conv_shape(n, c_in, h, w, c_out, 3, 1, pad); }
};

const WinogradCase cases[] = {
    {"one tile, C=1", 1, 1, 6, 6, 1, 0},
    {"one output, pad 0", 1, 2, 3, 3, 3, 0},
    {"odd sizes, pad 1, partial tiles", 2, 3, 7, 5, 4, 1},
    {"H != W, pad 2 (a backward-input padding)", 1, 5, 9, 4, 7, 2},
    {"pad 2 on a 1x1 map", 2, 4, 1, 1, 5, 2},
    {"pad 3: whole patches of padding (no input gradient of this kind)", 1, 2, 4, 5, 3, 3},
    {"Ci=70 Co=1", 1, 70, 11, 13, 1, 0},
    {"Ci=1 Co=70", 1, 1, 10, 9, 70, 1},
    {"Co not a multiple of 6, several panels", 2, 13, 23, 21, 11, 0},
    // 18 x 17 = 306 tiles: 20 panels of 16, the last with 2.
    {"many panels", 1, 8, 70, 68, 9, 1},
    {"SARGAN hourglass (10x10, pad 0)", 1, 64, 10, 10, 64, 0},
};

// The batch through the kernels as a caller would: weights once, then image by image, with the
// workspace and the output filled with NaN beforehand so that a read of unwritten scratch or an
// output element left unwritten shows.
std::vector<float> run_winograd(const Conv2dShape& s, const std::vector<float>& x, const std::vector<float>& u) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> y(s.n * s.c_out * s.h_out * s.w_out, nan);
  std::vector<float> workspace(kernels::cpu::winograd3x3_workspace_size(s), nan);
  for (int64_t n = 0; n < s.n; ++n)
    kernels::cpu::winograd3x3_forward_image(s, u.data(), x.data() + n * s.c_in * s.h_in * s.w_in,
                                            y.data() + n * s.c_out * s.h_out * s.w_out, workspace.data());
  return y;
}

// F(4x4, 3x3) in float: each output is within this share of its winograd_tile_magnitude. Measured worst
// over these cases: 1.7e-6 (the transforms' constants, up to 8, amplify the rounding of a float
// dot product 10-30x); one misplaced term of size 0.25 would be 8e-4 even with Ci = 70.
constexpr double tolerance = 1e-5;

}  // namespace

TEST_CASE("winograd3x3 forward and input gradient match direct loops", "[conv2d_winograd]") {
  for (const WinogradCase& c : cases) {
    const Conv2dShape f = c.shape();  // the forward conv; pads 0-2 give input-gradient pads 2-0
    INFO("case: " << c.name);
    const auto x = test::random_values(f.n * f.c_in * f.h_in * f.w_in, 1);
    const auto w = test::random_values(f.c_out * f.c_in * 9, 2);
    const auto dy = test::random_values(f.n * f.c_out * f.h_out * f.w_out, 3);
    const test::ConvReference ref = test::direct_conv(f, x, w, dy);

    REQUIRE(kernels::cpu::winograd3x3_supports(f));
    std::vector<float> u(kernels::cpu::winograd3x3_weights_size(f));
    kernels::cpu::winograd3x3_transform_weights(f, w.data(), u.data());
    const std::vector<double> forward_abs = test::winograd_weight_abs(f, w, false);
    test::expect_within_magnitude(run_winograd(f, x, u), ref.y, test::winograd_tile_magnitude(f, x, forward_abs),
                                  tolerance, "forward");

    if (f.pad > 2) continue;  // the input gradient would need padding 2 - pad < 0
    const Conv2dShape b = kernels::transposed_stride1(f);
    REQUIRE(kernels::cpu::winograd3x3_supports(b));
    REQUIRE((b.c_in == f.c_out && b.c_out == f.c_in && b.h_out == f.h_in && b.w_out == f.w_in && b.pad == 2 - f.pad));
    u.assign(kernels::cpu::winograd3x3_weights_size(b), 0.f);
    kernels::cpu::winograd3x3_transform_weights_flipped(b, w.data(), u.data());
    const std::vector<double> flipped_abs = test::winograd_weight_abs(f, w, true);
    test::expect_within_magnitude(run_winograd(b, dy, u), ref.dx, test::winograd_tile_magnitude(b, dy, flipped_abs),
                                  tolerance, "input gradient");
  }
}

TEST_CASE("winograd3x3 supports only 3x3 stride-1 convs of consistent shape", "[conv2d_winograd]") {
  const Conv2dShape good = WinogradCase{"", 1, 256, 34, 34, 256, 0}.shape();
  CHECK(kernels::cpu::winograd3x3_supports(good));
#if defined(__AVX2__) && defined(__FMA__)  // built with the same flags as the kernels
  CHECK(kernels::cpu::winograd3x3_applies(good));
#else  // the portable GEMM kernel does not beat the BLAS
  CHECK_FALSE(kernels::cpu::winograd3x3_applies(good));
#endif
  Conv2dShape s = good;
  s.stride = 2;
  CHECK_FALSE(kernels::cpu::winograd3x3_supports(s));
  s = good;
  s.k_h = s.k_w = 4;
  CHECK_FALSE(kernels::cpu::winograd3x3_supports(s));
  s = good;
  s.h_out = 31;  // not H + 2 pad - 2
  CHECK_FALSE(kernels::cpu::winograd3x3_supports(s));
  s = WinogradCase{"", 1, 3, 34, 34, 64, 0}.shape();  // 3 input channels: too few to pay
  CHECK(kernels::cpu::winograd3x3_supports(s));
  CHECK_FALSE(kernels::cpu::winograd3x3_applies(s));
  s = WinogradCase{"", 1, 64, 10, 10, 64, 0}.shape();  // an 8x8 output: 4 tiles, too few to pay
  CHECK(kernels::cpu::winograd3x3_supports(s));
  CHECK_FALSE(kernels::cpu::winograd3x3_applies(s));
}
