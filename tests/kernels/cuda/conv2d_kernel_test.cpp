// kernels::cuda::conv2d_* (implicit GEMM) against kernels::cpu:: (im2col + sgemm) on a case
// table: SARGAN's kernel/stride/padding combinations, odd sizes that leave partial 64x64 tiles and
// partial 16-deep k steps, batch 1, C = 1, H != W, and reductions long enough for split-K in each
// of the three (few output tiles, K >= 256: split_slices in conv2d.cu). A second table aims at the
// data gradient's phase decomposition (all stride^2 phases in one launch, conv2d.cu): odd sizes
// whose phases differ in pixels, 3x3/2 kernels whose phases differ in taps, an image smaller than
// the stride, batch 1 and 3, C = 1, and SARGAN's stride-2 shapes (D 4/5/6 as they are at batch 1;
// G down/up at their image sizes with fewer channels, which the emulator would take minutes on).
// A third table runs every block tile shape (forced through set_conv_tile; the automatic rule
// picks by size, so small cases would otherwise never reach the 128x128, 16- or 4-wide tiles) with
// and without the float4 paths (k and pixel counts multiples of 4 or not, and pointers off 16-byte
// alignment, which the launcher must notice). A fourth table runs the forward's direct kernel (stride
// 1, at most 4 output channels), which must also give exactly the bits of its documented order.
// Tolerance |cuda - cpu| <= 1e-4 + 1e-4 |cpu|: sums of at most a few thousand products of values
// in [-1, 1], in another order than sgemm's.
// TF32 (kernels/precision.h; tensor-core tiles of 64x64, or 128x128 where the rule or
// set_conv_tile says large, and the fp32 tiles for narrow problems) runs the first two tables
// (not the D shapes at their real sizes), the third with the automatic rule and forced large,
// and a table for the 128x128 tile's warps, against the same fp32 CPU op, with
// |cuda - cpu| <= 1.1e-3 S + 1e-5, where S is the element's sum of |products| (the CPU op on
// |x|, |w|, |dy|). Each operand rounded to TF32 is off by at most 2^-11 of itself,
// so each product by at most 2^-10 + 2^-22 of its magnitude: 9.8e-4 S in all. The other 1.2e-4 S
// covers the two fp32 sums in different orders (measured errors are 1e-4-level relative to |cpu|
// above). The tests also require the error to exceed 1e-6 S somewhere in a table (in every case
// when the 128x128 is forced): fp32 arithmetic stays far below that, so the tensor-core path, not
// the fp32 one, produced the result. Narrow problems must give fp32's bits.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

#include "conv_reference.h"
#include "kernel_test_util.h"
#include "kernels/conv2d.h"
#if defined(ENGINE_CUDA_EMULATED)
#include "kernels/emu_profile.h"
#include "kernels/profile_flops.h"
#endif
#include "kernels/reflection_pad2d.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct ConvCase {
  int64_t n, c_in, h, w, c_out, k, stride, pad;
};

const ConvCase conv_cases[] = {
    {1, 10, 13, 11, 8, 7, 1, 3},   // generator input conv (3 + 7 channels), odd sizes
    {2, 3, 16, 12, 5, 4, 2, 1},    // down-sampling 4x4/2
    {1, 1, 9, 7, 1, 3, 1, 1},      // C = 1
    {1, 6, 9, 9, 70, 3, 2, 1},     // 3x3/2, more output channels than one tile
    {2, 5, 6, 8, 3, 3, 1, 0},      // after reflection padding
    {1, 17, 2, 2, 1, 3, 1, 1},     // PatchGAN head on a 2x2 map
    {2, 19, 2, 2, 7, 2, 1, 0},     // classification head
    {2, 4, 40, 36, 6, 3, 1, 1},    // N*Ho*Wo = 2880: backward_weight splits its reduction
    {1, 96, 2, 2, 3, 3, 1, 1},     // D's head, deep: forward splits K = 864 into 6 slices
    {1, 24, 4, 4, 96, 4, 2, 1},    // D's deep 4x4/2: backward_input splits K = 1536 (12), forward K = 384 (3)
    {1, 5, 7, 6, 4, 1, 2, 0},      // 1x1/2: input pixels that no tap reaches get dx = 0
};

// Stride 2, mostly 4x4 pad 1 (D's down-sampling convs, G down, and G up's conv_transpose2d, whose
// forward is conv2d_backward_input with the roles swapped).
const ConvCase phase_cases[] = {
    {1, 3, 9, 7, 5, 4, 2, 1},       // odd sizes: the four phases have 5x4, 5x3, 4x4, 4x3 pixels
    {3, 4, 11, 13, 6, 4, 2, 1},     // batch 3, odd sizes
    {3, 1, 8, 8, 1, 4, 2, 1},       // C = 1 in and out
    {1, 6, 7, 9, 4, 3, 2, 0},       // 3x3/2 (G attention down): phases of 4, 2, 2 and 1 taps
    {1, 6, 7, 9, 64, 3, 2, 0},      // the same split (K = 256, 2 slices): slice 2 is past 3 phases' taps
    {3, 5, 7, 9, 64, 4, 2, 1},      // batch 3, odd sizes, split into 2 slices: phases of unequal pixels
    {2, 3, 1, 5, 2, 3, 2, 1},       // one row: the phases of odd rows have no pixels
    {2, 5, 2, 3, 4, 4, 2, 1},       // 2x3 image, 1x1 output
    {2, 8, 16, 16, 16, 4, 2, 1},    // D 4 spatial shape, batch 2, channels cut to run in the emulator
    {3, 16, 8, 8, 96, 4, 2, 1},     // D 5 spatial shape, batch 3: the data gradient splits K = 384 (3)
    {1, 64, 4, 4, 128, 4, 2, 1},    // D 6 spatial shape: 4 phases x 1 tile, K = 512 in 4 slices
    {1, 8, 128, 128, 8, 4, 2, 1},   // G down 1 spatial shape: 4 phases x 64 m tiles each
    {1, 16, 64, 64, 16, 4, 2, 1},   // G down 2 spatial shape; as a transpose: G up 2 (32x32 -> 64x64)
    {1, 8, 64, 64, 32, 4, 2, 1},    // G up 1 as conv_transpose2d: its y (this dx) 64x64, 32x32 in
};

// D's deep layers at their real sizes, batch 1: ~40 s in the emulator, several minutes under the
// sanitizers, whose runs (ENGINE_TEST_SMALL) keep to the cut-down shapes above.
const ConvCase deep_phase_cases[] = {
    {1, 256, 16, 16, 512, 4, 2, 1},   // D 4 (data gradient: 4 phases x 4 tiles of 64x64, 16 slices)
    {1, 512, 8, 8, 1024, 4, 2, 1},    // D 5 (4 phases x 2 tiles of 16x256, 31 slices)
    {1, 1024, 4, 4, 2048, 4, 2, 1},   // D 6 (4 phases x 4 tiles of 4x256, 16 slices)
};

// For every tile shape: K = Ci Kh Kw and Ho Wo multiples of 4 (the forward's float4 loads of w and
// stores of y; the weight gradient's float4 stores when Ci Kh Kw is) or not.
const ConvCase tile_cases[] = {
    {1, 4, 8, 8, 8, 3, 1, 1},      // K = 36, 64 pixels: float4 paths
    {3, 5, 9, 7, 6, 3, 1, 1},      // batch 3, K = 45, 63 pixels: scalar paths
    {1, 1, 9, 12, 1, 3, 1, 1},     // C = 1 in and out, H != W: 108 pixels (float4 stores), K = 9
    {3, 3, 16, 12, 5, 4, 2, 1},    // batch 3, 4x4/2: K = 48, 8x6 outputs; phases
    {2, 6, 7, 9, 10, 3, 2, 0},     // 3x3/2: phases of 4, 2, 2 and 1 taps, odd sizes
    {1, 64, 6, 5, 20, 3, 1, 1},    // K = 576: split-K in the forward and the data gradient
    {2, 4, 40, 36, 6, 3, 1, 1},    // reduction 2880: split-K in the weight gradient
};

// TF32's 128x128 tile (the forward's and the data gradient's, where the rule gives 128x128;
// forced here): 2 x 2 tiles whose outputs reach every warp's 64x32 piece, partial tiles beside
// the full one. (The tile table's outputs have at most 20 channels: one warp column of four.)
const ConvCase mma_large_cases[] = {
    {1, 8, 12, 12, 130, 3, 1, 1},   // forward: 144 pixels x 130 channels
    {1, 130, 12, 12, 8, 3, 1, 1},   // data gradient: 144 pixels x 130 channels
    {1, 130, 24, 24, 8, 4, 2, 1},   // data gradient by phases: 4 x 144 pixels x 130 channels
};

// Stride 1 and at most 4 output channels: the direct kernel (kernels/cuda/conv2d_direct.cu), which
// the automatic rule picks for these (an output of at least 16x16, kernels of at most 7x7).
const ConvCase direct_cases[] = {
    {1, 10, 16, 16, 3, 7, 1, 3},   // G's output conv, 10 input channels: groups of 3, 3, 3 and 1
    {2, 5, 19, 37, 1, 3, 1, 1},    // 1 channel, batch 2, partial tiles along both sides
    {1, 3, 20, 17, 2, 5, 1, 2},    // 2 channels, 5x5
    {1, 2, 22, 40, 4, 7, 1, 0},    // 4 channels, no padding; 2 input channels: groups 2 and 3 have none
    {1, 6, 16, 16, 3, 1, 1, 0},    // 1x1
    {1, 3, 16, 18, 3, 3, 1, 3},    // padding past the kernel's reach: outer rows and columns of zeros
    {1, 8, 64, 64, 3, 7, 1, 3},    // G's output conv at 64x64, 8 channels: 4 x 2 tiles
    {1, 40, 16, 16, 3, 7, 1, 3},   // one tile: its 40 channels in 5 slices across blocks, groups of 2
    {2, 37, 17, 20, 1, 3, 1, 1},   // 4 tiles, 4 slices of 10, 10, 10 and 7 channels (groups 3, 3, 1, 0)
    {1, 16, 16, 16, 3, 3, 1, 1},   // one tile, 2 slices of 8 channels
};

// Gives the tile choice back to the rule when a test that forces shapes ends, passed or not.
struct AutomaticTileAtExit {
  ~AutomaticTileAtExit() { kernels::cuda::set_conv_tile(kernels::cuda::ConvTile::automatic); }
};
// The same for the Winograd mode, its 3x3 output tile and the tile choice.
struct WinogradModeAtExit {
  ~WinogradModeAtExit() {
    kernels::cuda::set_conv_winograd(kernels::cuda::ConvWinograd::automatic);
    kernels::cuda::set_winograd3x3_tile(kernels::cuda::Winograd3x3Tile::automatic);
    kernels::cuda::set_conv_tile(kernels::cuda::ConvTile::automatic);
  }
};

// Winograd wherever it is supported, on the given 3x3 output tile (a WinogradModeAtExit restores).
void force_winograd(kernels::cuda::Winograd3x3Tile tile) {
  kernels::cuda::set_conv_winograd(kernels::cuda::ConvWinograd::always);
  kernels::cuda::set_winograd3x3_tile(tile);
}

kernels::Conv2dShape shape_of(const ConvCase& c) {
  kernels::Conv2dShape s;
  s.n = c.n, s.c_in = c.c_in, s.h_in = c.h, s.w_in = c.w, s.c_out = c.c_out, s.k_h = c.k, s.k_w = c.k;
  s.stride = c.stride, s.pad = c.pad;
  s.h_out = (c.h + 2 * c.pad - c.k) / c.stride + 1;
  s.w_out = (c.w + 2 * c.pad - c.k) / c.stride + 1;
  return s;
}

std::vector<float> magnitudes(std::vector<float> v) {
  for (float& e : v) e = std::fabs(e);
  return v;
}

// Checks |actual - expected| <= 1.1e-3 S + 1e-5 (S: sums of |products|); returns the largest
// |actual - expected| / S.
double expect_within_tf32(const std::vector<float>& actual, const std::vector<float>& expected,
                          const std::vector<float>& sums, const std::string& what) {
  REQUIRE(actual.size() == expected.size());
  double worst_share = 0.0, largest = 0.0;
  size_t worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double error = std::fabs(double(actual[i]) - double(expected[i]));
    const double share = error / (1.1e-3 * sums[i] + 1e-5);
    if (!(share <= worst_share)) worst_share = share, worst = i;
    if (sums[i] > 0) largest = std::max(largest, error / sums[i]);
  }
  INFO(what << " (tf32): worst element " << worst << " got " << actual[worst] << " expected " << expected[worst]
            << " (sum of |products| " << sums[worst] << "), " << 100.0 * worst_share << "% of tolerance");
  CHECK(worst_share <= 1.0);
  return largest;
}

// offset > 0 passes every device pointer that many floats past an aligned allocation. Returns,
// for TF32, the largest |tf32 - cpu| / sum of |products| of the three results.
double check_against_cpu(const ConvCase& c, int offset = 0, kernels::Precision precision = kernels::Precision::fp32) {
  const kernels::Conv2dShape s = shape_of(c);
  INFO("x [" << c.n << "," << c.c_in << "," << c.h << "," << c.w << "] w [" << c.c_out << "," << c.c_in << ","
             << c.k << "," << c.k << "] stride " << c.stride << " pad " << c.pad << ", pointers offset " << offset);
  const int64_t x_size = s.n * s.c_in * s.h_in * s.w_in, w_size = s.c_out * s.c_in * s.k_h * s.k_w,
                y_size = s.n * s.c_out * s.h_out * s.w_out;
  const auto x = test::random_values(x_size, 1), w = test::random_values(w_size, 2), dy = test::random_values(y_size, 3);
  std::vector<float> y(y_size), dx(x_size), dw(w_size);
  kernels::cpu::conv2d_forward(s, x.data(), w.data(), y.data());
  kernels::cpu::conv2d_backward_input(s, dy.data(), w.data(), dx.data());
  kernels::cpu::conv2d_backward_weight(s, x.data(), dy.data(), dw.data());

  auto padded = [&](const std::vector<float>& v) {
    std::vector<float> p(offset, 0.f);
    p.insert(p.end(), v.begin(), v.end());
    return p;
  };
  DeviceBuffer<float> x_d(padded(x)), w_d(padded(w)), dy_d(padded(dy)), y_d(offset + y_size),
      dx_d(offset + x_size), dw_d(offset + w_size);
  auto tail = [&](const DeviceBuffer<float>& b) {
    const std::vector<float> all = b.to_host();
    return std::vector<float>(all.begin() + offset, all.end());
  };
  auto run = [&] {
    kernels::cuda::conv2d_forward(s, x_d.get() + offset, w_d.get() + offset, y_d.get() + offset, precision);
    kernels::cuda::conv2d_backward_input(s, dy_d.get() + offset, w_d.get() + offset, dx_d.get() + offset, precision);
    kernels::cuda::conv2d_backward_weight(s, x_d.get() + offset, dy_d.get() + offset, dw_d.get() + offset, precision);
    std::vector<float> all = tail(y_d), dx_h = tail(dx_d), dw_h = tail(dw_d);
    all.insert(all.end(), dx_h.begin(), dx_h.end());
    all.insert(all.end(), dw_h.begin(), dw_h.end());
    return all;
  };
  run();
  double largest = 0;
  if (precision == kernels::Precision::fp32) {
    test::expect_close(tail(y_d), y, 1e-4, 1e-4, "forward");
    test::expect_close(tail(dx_d), dx, 1e-4, 1e-4, "backward_input");
    test::expect_close(tail(dw_d), dw, 1e-4, 1e-4, "backward_weight");
  } else {
    const auto ax = magnitudes(x), aw = magnitudes(w), ady = magnitudes(dy);
    std::vector<float> y_sums(y_size), dx_sums(x_size), dw_sums(w_size);
    kernels::cpu::conv2d_forward(s, ax.data(), aw.data(), y_sums.data());
    kernels::cpu::conv2d_backward_input(s, ady.data(), aw.data(), dx_sums.data());
    kernels::cpu::conv2d_backward_weight(s, ax.data(), ady.data(), dw_sums.data());
    largest = std::max({expect_within_tf32(tail(y_d), y, y_sums, "forward"),
                        expect_within_tf32(tail(dx_d), dx, dx_sums, "backward_input"),
                        expect_within_tf32(tail(dw_d), dw, dw_sums, "backward_weight")});
  }
  kernel_test::require_schedule_independent(run, std::string("conv2d kernels, ") + kernels::precision_name(precision));
  return largest;
}

}  // namespace

TEST_CASE("conv2d kernels match the CPU on the case table", "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  for (const ConvCase& c : conv_cases) check_against_cpu(c);
}

TEST_CASE("conv2d stride-2 data gradient by phases matches the CPU", "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  for (const ConvCase& c : phase_cases) check_against_cpu(c);
  if (std::getenv("ENGINE_TEST_SMALL") == nullptr)
    for (const ConvCase& c : deep_phase_cases) check_against_cpu(c);
}

TEST_CASE("conv2d kernels match the CPU with every tile shape, float4 paths on and off", "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  const AutomaticTileAtExit restore;
  // The gradients have no fp32 128x128 instance (conv2d.cu, DataGradTiles): forced large, they run 64x64.
  const std::pair<ConvTile, const char*> tiles[] = {
      {ConvTile::large, "128x128"}, {ConvTile::medium, "64x64"}, {ConvTile::tall, "256x16"}, {ConvTile::wide, "16x256"},
      {ConvTile::tall4, "256x4"},   {ConvTile::wide4, "4x256"},   {ConvTile::tall32, "128x32"},
      {ConvTile::wide32, "32x128"}};
  for (const auto& [tile, name] : tiles) {
    INFO("tile " << name);
    kernels::cuda::set_conv_tile(tile);
    for (const ConvCase& c : tile_cases) check_against_cpu(c);
    check_against_cpu(tile_cases[0], 1);  // misaligned: the launcher must take the scalar paths
    check_against_cpu(tile_cases[3], 3);
  }
}

// Under the automatic rule the narrow problems run fp32 tiles, so only some cases have TF32's
// error; the table as a whole must.
TEST_CASE("conv2d TF32 tensor-core path matches the CPU within TF32's rounding", "[cuda][kernel][conv2d][tf32]") {
  REQUIRE_CUDA_DEVICE();
  double largest = 0;
  auto check = [&](const ConvCase& c, int offset = 0) {
    largest = std::max(largest, check_against_cpu(c, offset, kernels::Precision::tf32));
  };
  for (const ConvCase& c : conv_cases) check(c);
  for (const ConvCase& c : phase_cases) check(c);
  for (const ConvCase& c : tile_cases) check(c);  // float4 paths on and off
  check(tile_cases[0], 1);  // misaligned: scalar paths
  CHECK(largest > 1e-6);
}

// Forced large, every result comes from a tensor-core tile: each case must show TF32's error.
TEST_CASE("conv2d TF32 128x128 tile matches the CPU within TF32's rounding", "[cuda][kernel][conv2d][tf32]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  const AutomaticTileAtExit restore;
  kernels::cuda::set_conv_tile(ConvTile::large);  // the weight gradient has no TF32 128x128: it runs 64x64
  for (const ConvCase& c : tile_cases) CHECK(check_against_cpu(c, 0, kernels::Precision::tf32) > 1e-6);
  CHECK(check_against_cpu(tile_cases[0], 1, kernels::Precision::tf32) > 1e-6);
  for (const ConvCase& c : mma_large_cases) CHECK(check_against_cpu(c, 0, kernels::Precision::tf32) > 1e-6);
}

// TF32 has no narrow tiles: a problem with at most 16 outputs along a side (here every one of the
// three: 3 output channels, 5 input channels) runs the fp32 tile, and gives fp32's bits.
TEST_CASE("conv2d TF32 leaves narrow problems on the fp32 tiles and their bits", "[cuda][kernel][conv2d][tf32]") {
  REQUIRE_CUDA_DEVICE();
  const kernels::Conv2dShape s = shape_of({2, 5, 20, 18, 3, 3, 1, 1});
  const int64_t x_size = s.n * s.c_in * s.h_in * s.w_in, w_size = s.c_out * s.c_in * s.k_h * s.k_w,
                y_size = s.n * s.c_out * s.h_out * s.w_out;
  DeviceBuffer<float> x(test::random_values(x_size, 1)), w(test::random_values(w_size, 2)),
      dy(test::random_values(y_size, 3)), y(y_size), dx(x_size), dw(w_size);
  auto run = [&](kernels::Precision precision) {
    kernels::cuda::conv2d_forward(s, x.get(), w.get(), y.get(), precision);
    kernels::cuda::conv2d_backward_input(s, dy.get(), w.get(), dx.get(), precision);
    kernels::cuda::conv2d_backward_weight(s, x.get(), dy.get(), dw.get(), precision);
    return std::array<std::vector<float>, 3>{y.to_host(), dx.to_host(), dw.to_host()};
  };
  CHECK(run(kernels::Precision::tf32) == run(kernels::Precision::fp32));
}

// The direct kernel's sums in its order (conv2d_direct.cu): the input channels in `slices` slices
// of ceil(Ci / slices), each in 4 groups of ceil(slice / 4); each group one fmaf chain over its
// (ci, r, q) with x = 0 outside the image, a slice's sum ((g0 + g1) + g2) + g3, and the slices'
// sums added in slice order. A plain loop; the kernel must give exactly its bits.
std::vector<float> direct_kernel_order(const kernels::Conv2dShape& s, int64_t slices, const std::vector<float>& x,
                                       const std::vector<float>& w) {
  const int64_t slice_channels = (s.c_in + slices - 1) / slices, group_channels = (slice_channels + 3) / 4;
  std::vector<float> y(s.n * s.c_out * s.h_out * s.w_out);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t co = 0; co < s.c_out; ++co)
      for (int64_t oh = 0; oh < s.h_out; ++oh)
        for (int64_t ow = 0; ow < s.w_out; ++ow) {
          float total = 0.f;
          for (int64_t z = 0; z < slices; ++z) {
            const int64_t slice_end = std::min(s.c_in, (z + 1) * slice_channels);
            float slice_sum = 0.f;
            for (int64_t g = 0; g < 4; ++g) {
              const int64_t first = z * slice_channels + g * group_channels;
              float sum = 0.f;
              for (int64_t ci = first; ci < std::min(slice_end, first + group_channels); ++ci)
                for (int64_t r = 0; r < s.k_h; ++r)
                  for (int64_t q = 0; q < s.k_w; ++q) {
                    const int64_t ih = oh - s.pad + r, iw = ow - s.pad + q;
                    const bool inside = ih >= 0 && ih < s.h_in && iw >= 0 && iw < s.w_in;
                    const float v = inside ? x[((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw] : 0.f;
                    sum = std::fma(v, w[((co * s.c_in + ci) * s.k_h + r) * s.k_w + q], sum);
                  }
              slice_sum = g == 0 ? sum : slice_sum + sum;
            }
            total = z == 0 ? slice_sum : total + slice_sum;
          }
          y[((n * s.c_out + co) * s.h_out + oh) * s.w_out + ow] = total;
        }
  return y;
}

std::string case_name(const ConvCase& c) {
  return "x [" + std::to_string(c.n) + "," + std::to_string(c.c_in) + "," + std::to_string(c.h) + "," +
         std::to_string(c.w) + "] -> " + std::to_string(c.c_out) + " k" + std::to_string(c.k) + " pad " +
         std::to_string(c.pad);
}

// A direct kernel's result, run(), against the CPU's (1e-4 abs + rel), and bit for bit the plain
// loop in the kernel's order of the conv `s` (for a data gradient, the transposed conv) of `in`
// and `w`, under every emulator schedule. Returns it.
std::vector<float> check_direct(const std::function<std::vector<float>()>& run, const std::vector<float>& cpu,
                                const kernels::Conv2dShape& s, int slices, const std::vector<float>& in,
                                const std::vector<float>& w, const char* what) {
  const std::vector<float> out = run();
  test::expect_close(out, cpu, 1e-4, 1e-4, what);
  CHECK(kernel_test::same_bits(out, direct_kernel_order(s, slices, in, w)));
  kernel_test::require_schedule_independent(run, what);
  return out;
}

TEST_CASE("conv2d forward of few output channels: the direct kernel against the CPU and its own order",
          "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  const AutomaticTileAtExit restore;
  for (const ConvCase& c : direct_cases) {
    if (c.h >= 64 && std::getenv("ENGINE_TEST_SMALL") != nullptr) continue;
    const kernels::Conv2dShape s = shape_of(c);
    INFO(case_name(c));
    const int slices = kernels::cuda::conv2d_forward_direct_slices(s);
    REQUIRE(slices > 0);
    const auto x = test::random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
    const auto w = test::random_values(s.c_out * s.c_in * s.k_h * s.k_w, 2);
    std::vector<float> cpu(s.n * s.c_out * s.h_out * s.w_out);
    kernels::cpu::conv2d_forward(s, x.data(), w.data(), cpu.data());
    DeviceBuffer<float> x_d(x), w_d(w), y_d(cpu.size());
    auto run = [&] {
      kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get());
      return y_d.to_host();
    };
    const std::vector<float> y = check_direct(run, cpu, s, slices, x, w, "conv2d direct forward");
    // Under TF32 too (fp32 arithmetic: the bits of fp32).
    kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get(), kernels::Precision::tf32);
    CHECK(kernel_test::same_bits(y_d.to_host(), y));
  }
  // The channel slices: none at G's output at batch 8 (256 tiles: one wave of 2 blocks on each of
  // 132 SMs), 8 at batch 1 (32 tiles), 5, 4 and 2 for the three split cases above.
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of({8, 64, 128, 128, 3, 7, 1, 3})) == 1);
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of({1, 64, 128, 128, 3, 7, 1, 3})) == 8);
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of(direct_cases[7])) == 5);
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of(direct_cases[8])) == 4);
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of(direct_cases[9])) == 2);
  // Where the rule leaves the GEMM tiles.
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of({1, 3, 33, 33, 3, 3, 2, 1})) == 0);  // stride 2
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of({1, 3, 16, 16, 5, 3, 1, 1})) == 0);  // 5 channels
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of({1, 3, 24, 24, 3, 9, 1, 4})) == 0);  // 9x9
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of(conv_cases[5])) == 0);  // D's head on a 2x2 map
  kernels::cuda::set_conv_tile(ConvTile::tall4);  // a forced tile is the GEMM's
  CHECK(kernels::cuda::conv2d_forward_direct_slices(shape_of(direct_cases[0])) == 0);
}

// The data gradient of a stride-1 conv with at most 16 input channels: the direct kernel on the
// transposed conv, its taps read flipped in place, its output channels (the forward's input
// channels) in groups of 4 and a remainder.
const ConvCase direct_data_grad_cases[] = {
    {1, 10, 16, 16, 8, 7, 1, 3},    // G's input conv, 10 channels: groups 4 and 4, then 2
    {2, 3, 19, 21, 5, 3, 1, 1},     // 3 channels, batch 2, partial tiles: the remainder's launch only
    {1, 16, 16, 17, 6, 5, 1, 2},    // 16 channels: four groups of 4
    {1, 7, 20, 17, 40, 3, 1, 1},    // 4 and 3; dy's 40 channels in slices across blocks
    {1, 5, 18, 18, 4, 3, 1, 0},     // pad 0: the transposed conv's pad 2
    {1, 4, 16, 20, 3, 1, 1, 0},     // 1x1
};

// The forward's kernel w [Co][Ci][K][K] as the transposed conv's [Ci][Co][K][K], taps flipped.
std::vector<float> flipped_transposed(const kernels::Conv2dShape& s, const std::vector<float>& w) {
  const int64_t k = s.k_h, taps = k * k;
  std::vector<float> t(w.size());
  for (int64_t co = 0; co < s.c_out; ++co)
    for (int64_t ci = 0; ci < s.c_in; ++ci)
      for (int64_t tap = 0; tap < taps; ++tap) t[(ci * s.c_out + co) * taps + tap] = w[(co * s.c_in + ci) * taps + taps - 1 - tap];
  return t;
}

TEST_CASE("conv2d data gradient of few input channels: the direct kernel against the CPU and its own order",
          "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  const AutomaticTileAtExit restore;
  for (const ConvCase& c : direct_data_grad_cases) {
    const kernels::Conv2dShape s = shape_of(c);
    INFO(case_name(c));
    const int slices = kernels::cuda::conv2d_backward_input_direct_slices(s);
    REQUIRE(slices > 0);
    const auto w = test::random_values(s.c_out * s.c_in * s.k_h * s.k_w, 2);
    const auto dy = test::random_values(s.n * s.c_out * s.h_out * s.w_out, 3);
    std::vector<float> cpu(s.n * s.c_in * s.h_in * s.w_in);
    kernels::cpu::conv2d_backward_input(s, dy.data(), w.data(), cpu.data());
    DeviceBuffer<float> w_d(w), dy_d(dy), dx_d(cpu.size());
    auto run = [&] {
      kernels::cuda::conv2d_backward_input(s, dy_d.get(), w_d.get(), dx_d.get());
      return dx_d.to_host();
    };
    check_direct(run, cpu, kernels::transposed_stride1(s), slices, dy, flipped_transposed(s, w),
                 "conv2d direct data gradient");
  }
  // G's input conv (10 -> 64, 7x7, 128x128): 64 dy channels, 3 channel groups of 32 tiles an
  // image; at batch 8 (768 blocks) no slices, at batch 1 (96 blocks on 264 slots) 8.
  CHECK(kernels::cuda::conv2d_backward_input_direct_slices(shape_of({8, 10, 128, 128, 64, 7, 1, 3})) == 1);
  CHECK(kernels::cuda::conv2d_backward_input_direct_slices(shape_of({1, 10, 128, 128, 64, 7, 1, 3})) == 8);
  // Where the rule leaves the GEMM: 17 input channels, stride 2, an input under 16x16, a forced tile.
  CHECK(kernels::cuda::conv2d_backward_input_direct_slices(shape_of({1, 17, 16, 16, 4, 3, 1, 1})) == 0);
  CHECK(kernels::cuda::conv2d_backward_input_direct_slices(shape_of({1, 3, 32, 32, 4, 3, 2, 1})) == 0);
  CHECK(kernels::cuda::conv2d_backward_input_direct_slices(shape_of({1, 3, 15, 32, 4, 3, 1, 1})) == 0);
  kernels::cuda::set_conv_tile(kernels::cuda::ConvTile::tall4);
  CHECK(kernels::cuda::conv2d_backward_input_direct_slices(shape_of(direct_data_grad_cases[0])) == 0);
}

// Split-K's tiles count their slices in tickets that the last slice returns to zero. Under the
// emulator's sampled profiling (ENGINE_EMU_PROFILE=sampled) most blocks are skipped and the
// tickets would keep their counts: the launcher zeroes them after such a launch, so that the
// next, complete run still sums each tile once every slice has arrived, and gives the bits of a
// complete run before the profile. Forward, 2 x 128 x 16 x 16 by 64 3x3 filters: 8 tiles of
// 64x64, K = 1152 in 9 slices, 72 blocks (the profiler runs ~32). Fails without the zeroing.
TEST_CASE("conv2d split-K after a sampled-blocks profile: the tiles' tickets start again from zero",
          "[cuda][kernel][conv2d][profile]") {
  REQUIRE_CUDA_DEVICE();
#if defined(ENGINE_CUDA_EMULATED)
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  const kernels::Conv2dShape s = shape_of({2, 128, 16, 16, 64, 3, 1, 1});
  const int64_t x_size = s.n * s.c_in * s.h_in * s.w_in;
  DeviceBuffer<float> x(test::random_values(x_size, 1)), profiled_x(test::random_values(x_size, 3)),
      w(test::random_values(s.c_out * s.c_in * 9, 2)), y(s.n * s.c_out * s.h_out * s.w_out);
  kernels::cuda::conv2d_forward(s, x.get(), w.get(), y.get());
  const std::vector<float> before = y.to_host();
  // Another input, so that a tile summed before all its slices arrived would read some of
  // this run's partial sums and not give the bits above.
  kernels::emu::set_profiling(true, /*sampled_blocks_only=*/true);
  kernels::cuda::conv2d_forward(s, profiled_x.get(), w.get(), y.get());
  kernels::emu::set_profiling(false);
  const std::vector<kernels::emu::LaunchProfile> sampled = kernels::emu::take_launch_profiles();
  REQUIRE(sampled.size() == 1);
  CHECK(sampled[0].grid[2] == 9);
  CHECK(sampled[0].sampled_blocks < 72);
  kernels::cuda::conv2d_forward(s, x.get(), w.get(), y.get());
  CHECK(kernel_test::same_bits(y.to_host(), before));  // a complete run gives the same bits every time
#else
  WARN("SKIPPED: sampled profiling is the CPU emulator's");
#endif
}

// The split-K rule (split_slices in conv2d.cu) read from the launches' grids, which the
// emulator's sampled profiling runs in seconds (only ~32 blocks; the results are not used). G's
// residual data gradient at batch 8 (dy 8 x 256 x 32 x 32, 3x3 weights, dx 34 x 34): 580 tiles
// of 64x64 where 528 are resident, K = 2304. Unsplit it takes 2 block times (the second wave on
// 52 slots); in s slices ceil(580 s / 528) / s: 1.5, 1.33, 1.25, 1.2, 1.17, 1.14 (s = 7), ...,
// least 1.1 (s = 10): 7 is the first within 5%. Its weight gradient at batch 1 (256 x 2304, 4 x
// 36 = 144 tiles of the 3-blocks-per-SM 64x64, 396 resident, K = 1024): 1/s up to s = 2, then
// ceil(144 s / 396) / s: least 0.375 (s = 8), so 8 (the former rule, 396 / 144: 2). (The data
// gradient's shape runs by Winograd under the automatic rule: this reads the implicit GEMM's.)
TEST_CASE("conv2d split-K rule: slices round the launch to whole waves of resident blocks",
          "[cuda][kernel][conv2d][profile]") {
  REQUIRE_CUDA_DEVICE();
#if defined(ENGINE_CUDA_EMULATED)
  const WinogradModeAtExit restore;
  kernels::cuda::set_conv_winograd(kernels::cuda::ConvWinograd::never);
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  auto slices_of = [](const kernels::Conv2dShape& s, bool weight_gradient) {
    DeviceBuffer<float> x(s.n * s.c_in * s.h_in * s.w_in), w(s.c_out * s.c_in * s.k_h * s.k_w),
        dy(s.n * s.c_out * s.h_out * s.w_out);
    kernels::emu::set_profiling(true, /*sampled_blocks_only=*/true);
    kernels::emu::take_launch_profiles();
    if (weight_gradient)
      kernels::cuda::conv2d_backward_weight(s, x.get(), dy.get(), w.get());
    else
      kernels::cuda::conv2d_backward_input(s, dy.get(), w.get(), x.get());
    kernels::emu::set_profiling(false);
    const std::vector<kernels::emu::LaunchProfile> launches = kernels::emu::take_launch_profiles();
    REQUIRE(!launches.empty());
    INFO(launches[0].kernel);
    return std::array<unsigned, 3>{launches[0].grid[0], launches[0].grid[1], launches[0].grid[2]};
  };
  CHECK(slices_of(shape_of({8, 256, 34, 34, 256, 3, 1, 0}), false) == std::array<unsigned, 3>{145, 4, 7});
  CHECK(slices_of(shape_of({1, 256, 34, 34, 256, 3, 1, 0}), true) == std::array<unsigned, 3>{4, 36, 8});
  // D 6's data gradient at batch 8 (dx 4x4: 32 pixels a phase), its channels cut to 256 -> 64: on
  // the 32x128 tile (4 phases x 1 along m, 2 along n), where 64x64 tiles (4 along n) would compute
  // twice the products.
  const std::array<unsigned, 3> d6 = slices_of(shape_of({8, 256, 4, 4, 64, 4, 2, 1}), false);
  CHECK(d6[0] == 4);
  CHECK(d6[1] == 2);
#else
  WARN("SKIPPED: the launches' grids are read from the CPU emulator's profiler");
#endif
}

TEST_CASE("conv2d kernels reject a tensor too large for 32-bit indexing", "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  // x [1024, 64, 256, 128]: 2^31 elements. The check comes before any device access.
  kernels::Conv2dShape s = shape_of({1, 64, 256, 128, 8, 3, 1, 1});
  s.n = 1024;
  REQUIRE_THROWS_WITH(kernels::cuda::conv2d_forward(s, nullptr, nullptr, nullptr),
                      Catch::Contains("32-bit indexing"));
}

// The forward's epilogue (kernels::ConvEpilogue: + bias[co], then leaky ReLU) against the CPU
// convolution followed by a plain loop written here: on the CPU the same bits (the epilogue's
// expressions are the separate add and leaky_relu ops'), on the device within the forward's
// tolerance, with the GEMM's store applying it (no split) or the block summing the slices
// (split-K), on every tile shape, and applied alone to a vendor convolution's output
// (conv2d_apply_epilogue).
TEST_CASE("conv2d forward epilogue: bias and leaky ReLU as the output is stored", "[cuda][kernel][conv2d]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  const AutomaticTileAtExit restore;
  // float4 stores; scalar stores; split-K forward (K = 576); D's deep head (K = 864, 6 slices); the
  // direct kernel, unsplit and in 2 channel slices (whose summing launch applies the epilogue).
  // The direct shapes run the automatic rule only: forced, they would run the GEMM tiles, which
  // the other cases cover (and at 7x7, under the sanitizers, for minutes).
  const ConvCase cases[] = {tile_cases[0], tile_cases[1], tile_cases[5], conv_cases[8], direct_cases[0], direct_cases[9]};
  const ConvTile tiles[] = {ConvTile::automatic, ConvTile::large, ConvTile::medium, ConvTile::tall,  ConvTile::wide,
                            ConvTile::tall4,     ConvTile::wide4, ConvTile::tall32, ConvTile::wide32};
  for (const ConvCase& c : cases) {
    const kernels::Conv2dShape s = shape_of(c);
    kernels::cuda::set_conv_tile(ConvTile::automatic);
    const bool direct = kernels::cuda::conv2d_forward_direct_slices(s) > 0;
    const int64_t pixels = s.h_out * s.w_out, y_size = s.n * s.c_out * pixels;
    const auto x = test::random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
    const auto w = test::random_values(s.c_out * s.c_in * s.k_h * s.k_w, 2);
    const auto bias = test::random_values(s.c_out, 4);
    std::vector<float> conv(y_size);
    kernels::cpu::conv2d_forward(s, x.data(), w.data(), conv.data());
    DeviceBuffer<float> x_d(x), w_d(w), bias_d(bias), y_d(static_cast<size_t>(y_size));
    for (const bool with_bias : {true, false}) {
      for (const bool leaky : {true, false}) {
        if (!with_bias && !leaky) continue;
        const float slope = 0.2f;
        std::vector<float> expected = conv;
        int negative = 0;
        for (int64_t i = 0; i < y_size; ++i) {
          float v = expected[i];
          if (with_bias) v = v + bias[(i / pixels) % s.c_out];
          negative += v < 0.f;
          if (leaky) v = v > 0.f ? v : slope * v;
          expected[i] = v;
        }
        INFO("x [" << c.n << "," << c.c_in << "," << c.h << "," << c.w << "] -> " << c.c_out << " k" << c.k
                   << ", bias " << with_bias << ", leaky " << leaky);
        CHECK(negative > 0);  // both branches of the activation are taken
        std::vector<float> cpu(y_size);
        kernels::cpu::conv2d_forward(s, x.data(), w.data(), cpu.data(),
                                     kernels::ConvEpilogue{with_bias ? bias.data() : nullptr, leaky, slope});
        CHECK(cpu == expected);
        const kernels::ConvEpilogue epilogue{with_bias ? bias_d.get() : nullptr, leaky, slope};
        for (const ConvTile tile : tiles) {
          if (direct && tile != ConvTile::automatic) continue;
          kernels::cuda::set_conv_tile(tile);
          auto run = [&] {
            kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get(), epilogue);
            return y_d.to_host();
          };
          INFO("tile " << int(tile));
          test::expect_close(run(), expected, 1e-4, 1e-4, "forward with epilogue");
          kernel_test::require_schedule_independent(run, "conv2d forward epilogue");
        }
        DeviceBuffer<float> vendor(conv);  // a convolution computed elsewhere, then the epilogue alone
        kernels::cuda::conv2d_apply_epilogue(s, vendor.get(), epilogue);
        CHECK(vendor.to_host() == expected);
      }
    }
  }
}

// Winograd F(4x4, 3x3), F(6x6, 3x3) and F(4x4, 2x2) (kernels/cuda/conv2d_winograd.cu,
// conv2d_winograd_stride2.cu): the forward and the data gradient of 3x3 stride-1 and 4x4 stride-2
// convs against the
// convolution in double, within 1e-5 of each output's magnitude (test::winograd_tile_magnitude
// and winograd_channel_magnitude: the bounds the CPU's Winograd kernels are held to, whose
// rounding these share; a misplaced term of size 0.25 would be far above them). Forced on
// (always) for the tables: odd sizes and partial tiles (and for stride 2, dx phases of unequal
// sizes and input rows no tap reaches), pads 0-3, batch 3, channel counts that are not multiples
// of 4 (scalar loads) or 64 (partial GEMM tiles), tile counts that are and are not multiples of
// 4 (float4 stores of M), and a reduction long enough for split-K; then every GEMM tile forced on
// one case of each; then the automatic rule end to end on shapes it picks.
namespace {

const ConvCase winograd_cases[] = {
    {1, 32, 12, 12, 32, 3, 1, 1},   // 9 tiles
    {2, 5, 9, 7, 6, 3, 1, 0},       // odd sizes, pad 0: partial tiles; 5 channels: scalar loads of U
    {1, 8, 6, 7, 4, 3, 1, 2},       // pad 2 (its data gradient's conv: pad 0)
    {3, 12, 10, 14, 20, 3, 1, 1},   // batch 3, 36 tiles: float4 loads and stores
    {1, 70, 8, 8, 66, 3, 1, 1},     // 70 -> 66 channels: partial 64-wide tiles both ways
    {1, 300, 5, 5, 7, 3, 1, 1},     // 4 tiles, K = 300: split-K over the 36 phases
    {1, 64, 34, 34, 64, 3, 1, 0},   // G's residual conv's shape, 64 channels: 64 tiles
};

const ConvCase winograd_stride2_cases[] = {
    {1, 3, 9, 7, 5, 4, 2, 1},       // odd sizes: dx phases of 5x4, 5x3, 4x4, 4x3; 12 forward channels
    {2, 5, 13, 9, 4, 4, 2, 1},      // batch 2, partial tiles
    {1, 4, 11, 6, 7, 4, 2, 2},      // pad 2, H != W
    {1, 4, 9, 10, 5, 4, 2, 0},      // pad 0, odd H: the last input row no tap reaches (dx 0 there)
    {1, 6, 5, 4, 3, 4, 2, 3},       // pad 3
    {1, 70, 12, 14, 66, 4, 2, 1},   // 70 -> 66 channels: partial 64-wide tiles both ways, split-K
    {3, 16, 16, 16, 20, 4, 2, 1},   // batch 3, 12 tiles both ways: float4 loads and stores
    {1, 32, 32, 32, 40, 4, 2, 1},   // D 3's shape, channels cut to 32 -> 40: 64 and 16 x 4 tiles
};

// Forward and data gradient of c by the current mode, which must run them by Winograd, against
// the convolution in double, on the magnitudes of the 3x3 output tiles the mode picks; the bits
// under every emulator schedule. Returns them.
std::vector<float> check_winograd(const ConvCase& c) {
  const kernels::Conv2dShape s = shape_of(c);
  const int y_tile = kernels::cuda::conv2d_winograd3x3_tile(s, false);
  const int dx_tile = kernels::cuda::conv2d_winograd3x3_tile(s, true);
  INFO("x [" << c.n << "," << c.c_in << "," << c.h << "," << c.w << "] -> " << c.c_out << " pad " << c.pad
             << ", 3x3 output tiles " << y_tile << " forward, " << dx_tile << " data gradient");
  REQUIRE(kernels::cuda::conv2d_uses_winograd(s, false));
  REQUIRE(kernels::cuda::conv2d_uses_winograd(s, true));
  REQUIRE((c.k == 4 || (y_tile != 0 && dx_tile != 0)));
  const auto x = test::random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
  const auto w = test::random_values(s.c_out * s.c_in * s.k_h * s.k_w, 2);
  const auto dy = test::random_values(s.n * s.c_out * s.h_out * s.w_out, 3);
  const test::ConvReference ref = test::direct_conv(s, x, w, dy);
  const bool stride2 = c.k == 4;
  DeviceBuffer<float> x_d(x), w_d(w), dy_d(dy), y_d(dy.size()), dx_d(x.size()), dw_d(w.size());
  auto run = [&] {
    kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get());
    kernels::cuda::conv2d_backward_input(s, dy_d.get(), w_d.get(), dx_d.get());
    kernels::cuda::conv2d_backward_weight(s, x_d.get(), dy_d.get(), dw_d.get());
    std::vector<float> all = y_d.to_host(), dx = dx_d.to_host(), dw = dw_d.to_host();
    all.insert(all.end(), dx.begin(), dx.end());
    all.insert(all.end(), dw.begin(), dw.end());
    return all;
  };
  run();
  constexpr double tolerance = 1e-5;
  const std::vector<double> y_magnitude =
      stride2 ? test::winograd_channel_magnitude(s, x, w, false)
              : test::winograd_tile_magnitude(s, x, test::winograd_weight_abs(s, w, false), y_tile);
  const std::vector<double> dx_magnitude =
      stride2 ? test::winograd_channel_magnitude(s, dy, w, true)
              : test::winograd_tile_magnitude(kernels::transposed_stride1(s), dy, test::winograd_weight_abs(s, w, true),
                                              dx_tile);
  test::expect_within_magnitude(y_d.to_host(), ref.y, y_magnitude, tolerance, "winograd forward");
  test::expect_within_magnitude(dx_d.to_host(), ref.dx, dx_magnitude, tolerance, "winograd data gradient");
  test::expect_within_magnitude(dw_d.to_host(), ref.dw, test::winograd_weight_grad_magnitude(s, x, dy), tolerance,
                                "winograd weight gradient");
  kernel_test::require_schedule_independent(run, "conv2d winograd");
  return run();
}

// Under the sanitizers (ENGINE_TEST_SMALL) the tables' cases of more than 1e6 direct products
// are left out, and the GEMM-tile loops run the 3x3 case only: the emulated kernels run 10-30
// times slower there.
bool small_tests() { return std::getenv("ENGINE_TEST_SMALL") != nullptr; }

template <class Table>
void check_winograd_table(const Table& table) {
  for (const ConvCase& c : table) {
    const kernels::Conv2dShape s = shape_of(c);
    if (!small_tests() || s.n * s.h_out * s.w_out * s.c_in * s.c_out * c.k * c.k <= 1000000) check_winograd(c);
  }
}

}  // namespace

TEST_CASE("conv2d by Winograd F(4x4, 3x3) and F(4x4, 2x2): forward and data gradient against the convolution in "
          "double", "[cuda][kernel][conv2d][winograd]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  using kernels::cuda::ConvWinograd;
  const WinogradModeAtExit restore;
  force_winograd(kernels::cuda::Winograd3x3Tile::four);
  check_winograd_table(winograd_cases);
  check_winograd_table(winograd_stride2_cases);
  // The phased GEMM (36 phases; 25 forward, 100 data gradient) on every tile shape.
  for (const ConvTile tile : {ConvTile::large, ConvTile::medium, ConvTile::tall, ConvTile::wide, ConvTile::tall4,
                              ConvTile::wide4, ConvTile::tall32, ConvTile::wide32}) {
    INFO("tile " << int(tile));
    kernels::cuda::set_conv_tile(tile);
    check_winograd(winograd_cases[3]);
    if (!small_tests()) check_winograd(winograd_stride2_cases[6]);
  }
  // The automatic rule picks them for a 128-channel residual conv at batch 2 (3.0e8 products;
  // F(4x4, 3x3) forward on its 32x32 output, F(6x6, 3x3) for the 34x34 data gradient) and G's
  // second down-sampling conv with its channels halved at batch 2 (64 -> 128 at 64x64: 2.7e8
  // products; 128 tiles forward, 512 in each of dx's phases).
  kernels::cuda::set_conv_tile(ConvTile::automatic);
  kernels::cuda::set_conv_winograd(ConvWinograd::automatic);
  kernels::cuda::set_winograd3x3_tile(kernels::cuda::Winograd3x3Tile::automatic);
  if (!small_tests()) {
    check_winograd({2, 128, 34, 34, 128, 3, 1, 0});
    check_winograd({2, 64, 64, 64, 128, 4, 2, 1});
  }
}

// F(6x6, 3x3) forced on the 3x3 table: its tiles of 6 cut the odd sizes and the pads at other
// places than F(4x4)'s (8x8 patches; 12x12 is 2x2 tiles, 9x7 2x2 partial ones), within the same
// 1e-5 of the 8x8 patches' magnitude; then on GEMM tiles of each family for the batch-3 case (36
// -> 12 tiles, 64 phases).
TEST_CASE("conv2d by Winograd F(6x6, 3x3): forward and data gradient against the convolution in double",
          "[cuda][kernel][conv2d][winograd]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  const WinogradModeAtExit restore;
  force_winograd(kernels::cuda::Winograd3x3Tile::six);
  REQUIRE(kernels::cuda::conv2d_winograd3x3_tile(shape_of(winograd_cases[0]), false) == 6);
  check_winograd_table(winograd_cases);
  // The products' phases are the GEMM's loop, shared with F(4x4) (every tile above): one tile of
  // each family here, none under the sanitizers (the table ran on the rule's tiles).
  const std::vector<ConvTile> tiles = small_tests() ? std::vector<ConvTile>{}
                                                    : std::vector<ConvTile>{ConvTile::large, ConvTile::medium,
                                                                            ConvTile::tall4, ConvTile::wide32};
  for (const ConvTile tile : tiles) {
    INFO("tile " << int(tile));
    kernels::cuda::set_conv_tile(tile);
    check_winograd(winograd_cases[3]);
  }
}

// The epilogue is applied by the output transform with the GEMM store's expressions: the bits of
// the plain forward followed by the epilogue alone, on both 3x3 output tiles.
TEST_CASE("conv2d by Winograd applies the forward's epilogue", "[cuda][kernel][conv2d][winograd]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::Winograd3x3Tile;
  const WinogradModeAtExit restore;
  const Winograd3x3Tile tile = GENERATE(Winograd3x3Tile::four, Winograd3x3Tile::six);
  force_winograd(tile);
  INFO("3x3 output tile " << (tile == Winograd3x3Tile::six ? 6 : 4));
  const kernels::Conv2dShape s = shape_of(winograd_cases[3]);
  const auto x = test::random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
  const auto w = test::random_values(s.c_out * s.c_in * 9, 2);
  const auto bias = test::random_values(s.c_out, 4);
  DeviceBuffer<float> x_d(x), w_d(w), bias_d(bias), y_d(static_cast<size_t>(s.n * s.c_out * s.h_out * s.w_out));
  kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get());
  std::vector<float> expected = y_d.to_host();
  const kernels::ConvEpilogue host{bias.data(), true, 0.2f}, device{bias_d.get(), true, 0.2f};
  const int64_t pixels = s.h_out * s.w_out;
  int negative = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    negative += expected[i] + bias[(i / pixels) % s.c_out] < 0.f;
    expected[i] = kernels::apply_epilogue(host, int((i / pixels) % s.c_out), expected[i]);
  }
  CHECK(negative > 0);
  kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get(), device);
  CHECK(kernel_test::same_bits(y_d.to_host(), expected));
}

// Where the rule takes Winograd: G's residual convs from batch 1 (256 -> 256 at 34x34, padding 0:
// 6.0e8 products an image) and its attention conv from batch 2 (256 -> 64: 1.5e8 an image, under
// 2^28 at batch 1), both ways; not the hourglass (64 channels at 18x18: 9.4e6 products an image,
// under 2^28 until batch 29), 3x3 stride 2 at batch 1 (its forward: a test below), other
// kernels, padding past 2, TF32, a forced tile, or the mode never. For 4x4 stride 2: G's down-sampling convs (and so its transposed convs,
// their data gradients) from batch 1; not D's first (3 channels: 12 forward channels, 3 GEMM rows
// backward), D 3 at batch 1 (1.3e8 products) but at batch 2, D 4 at batch 1 (an 8x8 output: 4
// tiles) but at batch 8, D 5 (one tile an image) or D 6 (a 2x2 output: a quarter of each tile).
TEST_CASE("conv2d Winograd rule", "[cuda][kernel][conv2d][winograd]") {
  using kernels::cuda::conv2d_uses_winograd;
  using kernels::cuda::ConvWinograd;
  const WinogradModeAtExit restore;
  const ConvCase residual{1, 256, 34, 34, 256, 3, 1, 0}, attention{1, 256, 34, 34, 64, 3, 1, 0};
  // The hourglass at batch 28: 2.6e8 products forward, 3.3e8 in its data gradient (an 18x18 output).
  CHECK_FALSE(conv2d_uses_winograd(shape_of({28, 64, 18, 18, 64, 3, 1, 0}), false));
  CHECK(conv2d_uses_winograd(shape_of({28, 64, 18, 18, 64, 3, 1, 0}), true));
  for (const bool backward : {false, true}) {
    INFO("data gradient " << backward);
    CHECK(conv2d_uses_winograd(shape_of(residual), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of(attention), backward));
    CHECK(conv2d_uses_winograd(shape_of({2, 256, 34, 34, 64, 3, 1, 0}), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of({1, 64, 18, 18, 64, 3, 1, 0}), backward));
    CHECK(conv2d_uses_winograd(shape_of({29, 64, 18, 18, 64, 3, 1, 0}), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of({1, 256, 34, 34, 256, 3, 2, 1}), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of({1, 256, 34, 34, 256, 5, 1, 2}), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of({1, 256, 34, 34, 256, 3, 1, 3}), backward));
    CHECK(conv2d_uses_winograd(shape_of({1, 64, 128, 128, 128, 4, 2, 1}), backward));    // G down 1
    CHECK(conv2d_uses_winograd(shape_of({1, 128, 64, 64, 256, 4, 2, 1}), backward));     // G down 2
    CHECK_FALSE(conv2d_uses_winograd(shape_of({8, 3, 128, 128, 64, 4, 2, 1}), backward));  // D 1
    CHECK_FALSE(conv2d_uses_winograd(shape_of({1, 128, 32, 32, 256, 4, 2, 1}), backward));  // D 3
    CHECK(conv2d_uses_winograd(shape_of({2, 128, 32, 32, 256, 4, 2, 1}), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of({1, 256, 16, 16, 512, 4, 2, 1}), backward));  // D 4
    CHECK(conv2d_uses_winograd(shape_of({8, 256, 16, 16, 512, 4, 2, 1}), backward));
    CHECK_FALSE(conv2d_uses_winograd(shape_of({8, 512, 8, 8, 1024, 4, 2, 1}), backward));  // D 5
    CHECK_FALSE(conv2d_uses_winograd(shape_of({16, 1024, 4, 4, 2048, 4, 2, 1}), backward));  // D 6
    CHECK_FALSE(conv2d_uses_winograd(shape_of(residual), backward, kernels::Precision::tf32));
    kernels::cuda::set_conv_tile(kernels::cuda::ConvTile::medium);
    CHECK_FALSE(conv2d_uses_winograd(shape_of(residual), backward));
    kernels::cuda::set_conv_winograd(ConvWinograd::always);
    CHECK(conv2d_uses_winograd(shape_of(residual), backward));
    CHECK(conv2d_uses_winograd(shape_of(winograd_cases[1]), backward));
    kernels::cuda::set_conv_winograd(ConvWinograd::never);
    CHECK_FALSE(conv2d_uses_winograd(shape_of(residual), backward));
    kernels::cuda::set_conv_winograd(ConvWinograd::automatic);
    kernels::cuda::set_conv_tile(kernels::cuda::ConvTile::automatic);
  }
}

namespace {

// A setting read from `variable` by `parse`: automatic when unset, empty or "auto", each of
// `names`' values, and a bad value's error, which names the variable and what it accepts.
template <class Setting>
void check_setting_from_environment(const char* variable, Setting (*parse)(),
                                    std::initializer_list<std::pair<const char*, Setting>> names, const char* bad,
                                    const std::string& message) {
  struct Unset {
    const char* variable;
    ~Unset() { unsetenv(variable); }
  } unset{variable};
  unsetenv(variable);
  CHECK(parse() == Setting::automatic);
  for (const char* automatic : {"", "auto"}) {
    setenv(variable, automatic, 1);
    CHECK(parse() == Setting::automatic);
  }
  for (const auto& [name, setting] : names) {
    INFO(variable << "=" << name);
    setenv(variable, name, 1);
    CHECK(parse() == setting);
  }
  setenv(variable, bad, 1);
  CHECK_THROWS_WITH(parse(), Catch::Contains(message));
}

}  // namespace

TEST_CASE("conv2d Winograd mode from ENGINE_CONV_WINOGRAD", "[cuda][kernel][conv2d][winograd]") {
  using kernels::cuda::ConvWinograd;
  check_setting_from_environment<ConvWinograd>(
      "ENGINE_CONV_WINOGRAD", kernels::cuda::conv_winograd_from_environment,
      {{"always", ConvWinograd::always}, {"never", ConvWinograd::never}}, "off",
      "ENGINE_CONV_WINOGRAD=off: expected auto, always or never");
}

// The 3x3 output tile (include/kernels/conv2d.h): F(6x6, 3x3) where its tiles' products are at
// most 90% of F(4x4, 3x3)'s. Outputs of 64x64 and 128x128 (11^2 x 64 against 16^2 x 36 products:
// 84%), 12x12 (2^2 x 64 against 3^2 x 36: 79%) and 34x34 (79%: the residual conv's data gradient)
// take it; 32x32 and 16x16 (as many products; the residual conv's forward) do not. 0 where
// Winograd 3x3 does not run (4x4 stride 2, the implicit GEMM, TF32); forced four or six wherever
// it runs.
TEST_CASE("conv2d Winograd 3x3 output tile rule", "[cuda][kernel][conv2d][winograd]") {
  using kernels::cuda::conv2d_winograd3x3_tile;
  using kernels::cuda::Winograd3x3Tile;
  const WinogradModeAtExit restore;
  const ConvCase residual{1, 256, 34, 34, 256, 3, 1, 0};
  CHECK(conv2d_winograd3x3_tile(shape_of(residual), false) == 4);
  CHECK(conv2d_winograd3x3_tile(shape_of(residual), true) == 6);
  for (const bool backward : {false, true}) {
    INFO("data gradient " << backward);
    CHECK(conv2d_winograd3x3_tile(shape_of({8, 64, 64, 64, 64, 3, 1, 1}), backward) == 6);
    CHECK(conv2d_winograd3x3_tile(shape_of({2, 64, 128, 128, 64, 3, 1, 1}), backward) == 6);
    CHECK(conv2d_winograd3x3_tile(shape_of({8, 256, 32, 32, 256, 3, 1, 1}), backward) == 4);
    CHECK(conv2d_winograd3x3_tile(shape_of({64, 128, 16, 16, 128, 3, 1, 1}), backward) == 4);
    CHECK(conv2d_winograd3x3_tile(shape_of({128, 256, 12, 12, 256, 3, 1, 1}), backward) == 6);
    CHECK(conv2d_winograd3x3_tile(shape_of({1, 64, 128, 128, 128, 4, 2, 1}), backward) == 0);  // F(4x4, 2x2)
    CHECK(conv2d_winograd3x3_tile(shape_of({1, 64, 18, 18, 64, 3, 1, 0}), backward) == 0);  // the implicit GEMM
    CHECK(conv2d_winograd3x3_tile(shape_of({8, 64, 64, 64, 64, 3, 1, 1}), backward, kernels::Precision::tf32) == 0);
    kernels::cuda::set_winograd3x3_tile(Winograd3x3Tile::four);
    CHECK(conv2d_winograd3x3_tile(shape_of({8, 64, 64, 64, 64, 3, 1, 1}), backward) == 4);
    kernels::cuda::set_winograd3x3_tile(Winograd3x3Tile::six);
    CHECK(conv2d_winograd3x3_tile(shape_of({8, 256, 32, 32, 256, 3, 1, 1}), backward) == 6);
    CHECK(conv2d_winograd3x3_tile(shape_of({1, 64, 18, 18, 64, 3, 1, 0}), backward) == 0);
    kernels::cuda::set_winograd3x3_tile(Winograd3x3Tile::automatic);
  }
}

TEST_CASE("conv2d Winograd 3x3 output tile from ENGINE_CONV_WINOGRAD_TILE", "[cuda][kernel][conv2d][winograd]") {
  using kernels::cuda::Winograd3x3Tile;
  check_setting_from_environment<Winograd3x3Tile>(
      "ENGINE_CONV_WINOGRAD_TILE", kernels::cuda::winograd3x3_tile_from_environment,
      {{"4", Winograd3x3Tile::four}, {"6", Winograd3x3Tile::six}}, "8",
      "ENGINE_CONV_WINOGRAD_TILE=8: expected auto, 4 or 6");
}

// What the emulator profiler's H200 model is told of a convolution by Winograd: each of its four
// launches its own arithmetic (the GEMM 2 x alpha^2 Ci Co T, T the output tiles; the transforms
// their counted operations), not a share of the direct convolution's 2 x 9 Ci Co Ho Wo that the op
// states around it (engine/ops/conv2d.cpp), which would price the GEMM at 4 times its work. With
// F(4x4, 3x3): 128 tiles of 4x4, alpha 6, 1-D transforms of 14 (G), 19 (B^T) and 13 (A^T)
// operations; F(6x6, 3x3): 72 tiles of 6x6, alpha 8, and 17, 38 and 34.
TEST_CASE("conv2d by Winograd tells the profiler its own FLOPs", "[cuda][kernel][conv2d][winograd][profile]") {
  REQUIRE_CUDA_DEVICE();
#if defined(ENGINE_CUDA_EMULATED)
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  using kernels::cuda::Winograd3x3Tile;
  const WinogradModeAtExit restore;
  const Winograd3x3Tile tile = GENERATE(Winograd3x3Tile::four, Winograd3x3Tile::six);
  kernels::cuda::set_winograd3x3_tile(tile);
  const bool six = tile == Winograd3x3Tile::six;
  INFO("3x3 output tile " << (six ? 6 : 4));
  const kernels::Conv2dShape s = shape_of({2, 128, 34, 34, 128, 3, 1, 0});
  REQUIRE(kernels::cuda::conv2d_uses_winograd(s, false));
  DeviceBuffer<float> x(s.n * s.c_in * s.h_in * s.w_in), w(s.c_out * s.c_in * 9), y(s.n * s.c_out * 32 * 32);
  kernels::emu::set_profiling(true, /*sampled_blocks_only=*/true);
  kernels::emu::take_launch_profiles();
  {
    const kernels::FlopScope op(2.0 * 9 * s.c_in * s.c_out * s.h_out * s.w_out);  // as the engine's op
    kernels::cuda::conv2d_forward(s, x.get(), w.get(), y.get());
  }
  kernels::emu::set_profiling(false);
  const std::vector<kernels::emu::LaunchProfile> launches = kernels::emu::take_launch_profiles();
  REQUIRE(launches.size() == 4);
  const double by_four[] = {9 * 14.0 * 128 * 128, 12 * 19.0 * 128 * 128, 2.0 * 36 * 128 * 128 * 128,
                            10 * 13.0 * 128 * 128};
  const double by_six[] = {11 * 17.0 * 128 * 128, 16 * 38.0 * 128 * 72, 2.0 * 64 * 128 * 128 * 72,
                           14 * 34.0 * 128 * 72};
  const double* expected = six ? by_six : by_four;
  for (int i = 0; i < 4; ++i) {
    INFO(launches[i].kernel);
    CHECK(launches[i].flops == expected[i]);
  }
#else
  WARN("SKIPPED: the FLOPs are the CPU emulator profiler's");
#endif
}

namespace {

// The launches' kernel names of f, recorded by the emulator's profiler (empty where it is absent).
template <class F>
std::vector<std::string> launched_kernels(F&& f) {
  std::vector<std::string> names;
#if defined(ENGINE_CUDA_EMULATED)
  if (!kernels::emu::profile_available()) return names;
  kernels::emu::set_profiling(true, /*sampled_blocks_only=*/true);
  kernels::emu::take_launch_profiles();
  f();
  kernels::emu::set_profiling(false);
  for (const kernels::emu::LaunchProfile& launch : kernels::emu::take_launch_profiles()) names.push_back(launch.kernel);
#else
  f();
#endif
  return names;
}

}  // namespace

// A reflect conv (Conv2dShape::reflect) gives the bits of reflection_pad2d then the zero-padding
// conv, under every emulator schedule: the Winograd forwards read the reflection in their input
// transforms (3x3 on both output tiles; 3x3 stride 2 on the 4x4 stride-2 one), at pads 1 and 2,
// odd sizes and the last tiles' overhang past the padding (zeros, as the padded tensor's conv
// reads); the other paths pad into a workspace first (7x7). The profiler, where the build has
// it, shows which: no pad kernel on the Winograd paths, one on the others.
TEST_CASE("conv2d forward with reflect padding: the bits of padding first; Winograd reads the reflection in place",
          "[cuda][kernel][conv2d][winograd]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::Winograd3x3Tile;
  const WinogradModeAtExit restore;
  const Winograd3x3Tile tile = GENERATE(Winograd3x3Tile::four, Winograd3x3Tile::six);
  force_winograd(tile);
  const ConvCase cases[] = {
      {1, 32, 12, 12, 32, 3, 1, 1},  // whole tiles of 4 and of 6
      {2, 5, 9, 7, 6, 3, 1, 1},      // odd sizes: partial tiles overhang the padding
      {1, 8, 6, 7, 4, 3, 1, 2},      // pad 2
      {1, 6, 9, 10, 7, 3, 2, 1},     // 3x3 stride 2, odd rows
      {1, 4, 11, 9, 3, 7, 1, 3},     // 7x7 (G's output conv's kernel): padded first
  };
  for (const ConvCase& c : cases) {
    kernels::Conv2dShape s = shape_of(c);
    s.reflect = true;
    const kernels::Conv2dShape padded = kernels::reflection_padded(s);
    const bool in_place = kernels::cuda::conv2d_uses_winograd(s, false);
    INFO("x [" << c.n << "," << c.c_in << "," << c.h << "," << c.w << "] k " << c.k << " stride " << c.stride
               << " pad " << c.pad << (tile == Winograd3x3Tile::six ? ", tiles of 6" : ", tiles of 4"));
    CHECK(in_place == (c.k == 3));
    const auto x = test::random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
    const auto w = test::random_values(s.c_out * s.c_in * s.k_h * s.k_w, 2);
    const size_t y_size = static_cast<size_t>(s.n * s.c_out * s.h_out * s.w_out);
    DeviceBuffer<float> x_d(x), w_d(w), x_padded(static_cast<size_t>(padded.n * padded.c_in * padded.h_in * padded.w_in)),
        y_d(y_size), y_padded_first(y_size);
    kernels::cuda::reflection_pad2d_forward(s.n * s.c_in, s.h_in, s.w_in, s.pad, x_d.get(), x_padded.get());
    kernels::cuda::conv2d_forward(padded, x_padded.get(), w_d.get(), y_padded_first.get());
    const std::vector<float> expected = y_padded_first.to_host();
    auto run = [&] {
      kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get());
      return y_d.to_host();
    };
    CHECK(kernel_test::same_bits(run(), expected));
    kernel_test::require_schedule_independent(run, "conv2d reflect");
    const std::vector<std::string> launched = launched_kernels(run);
    const bool pads = std::any_of(launched.begin(), launched.end(), [](const std::string& name) {
      return name.find("reflection_pad2d") != std::string::npos;
    });
    if (!launched.empty()) CHECK(pads == !in_place);
  }
  // The gradients take zero padding only.
  kernels::Conv2dShape s = shape_of({1, 2, 4, 4, 2, 3, 1, 1});
  s.reflect = true;
  DeviceBuffer<float> a(32), b(18), c(32);
  CHECK_THROWS_WITH(kernels::cuda::conv2d_backward_input(s, a.get(), b.get(), c.get()),
                    Catch::Contains("conv2d_backward_input (cuda)") && Catch::Contains("zero padding only"));
  CHECK_THROWS_WITH(kernels::cuda::conv2d_backward_weight(s, a.get(), c.get(), b.get()),
                    Catch::Contains("conv2d_backward_weight (cuda)") && Catch::Contains("zero padding only"));
}

// A 3x3 stride-2 forward by F(4x4, 2x2), its kernel zero-extended to 4x4: against the convolution
// in double within the stride-2 tables' 1e-5 of the channels' magnitude, the bits under every
// schedule, on GEMM tiles of two families; the gradients stay on the implicit GEMM (checked
// against the same reference). The rule takes it for the hourglass's first down-sampling conv at
// batch 8 translating 7 expressions (256 -> 64 at 34x34 reflect-padded: 1.1e9 products over 2),
// not at batch 8 training (1.5e8).
TEST_CASE("conv2d 3x3 stride 2 forward by Winograd F(4x4, 2x2)", "[cuda][kernel][conv2d][winograd]") {
  REQUIRE_CUDA_DEVICE();
  using kernels::cuda::ConvTile;
  const WinogradModeAtExit restore;
  kernels::cuda::set_conv_winograd(kernels::cuda::ConvWinograd::always);
  const ConvCase cases[] = {
      {1, 6, 9, 10, 7, 3, 2, 1},     // odd rows: the last output row's zero-extended taps past the padding
      {2, 5, 13, 9, 4, 3, 2, 0},     // pad 0, partial tiles
      {1, 4, 8, 11, 5, 3, 2, 2},     // pad 2
      {1, 70, 12, 14, 66, 3, 2, 1},  // 70 -> 66 channels: partial 64-wide tiles both ways, split-K
  };
  for (const ConvTile tile : {ConvTile::automatic, ConvTile::wide4}) {
    kernels::cuda::set_conv_tile(tile);
    for (const ConvCase& c : cases) {
      if (tile != ConvTile::automatic && c.c_in > 8) continue;
      const kernels::Conv2dShape s = shape_of(c);
      INFO("x [" << c.n << "," << c.c_in << "," << c.h << "," << c.w << "] -> " << c.c_out << " pad " << c.pad
                 << ", tile " << int(tile));
      REQUIRE(kernels::cuda::conv2d_uses_winograd(s, false));
      CHECK_FALSE(kernels::cuda::conv2d_uses_winograd(s, true));
      const auto x = test::random_values(s.n * s.c_in * s.h_in * s.w_in, 1);
      const auto w = test::random_values(s.c_out * s.c_in * 9, 2);
      const auto dy = test::random_values(s.n * s.c_out * s.h_out * s.w_out, 3);
      const test::ConvReference ref = test::direct_conv(s, x, w, dy);
      DeviceBuffer<float> x_d(x), w_d(w), dy_d(dy), y_d(dy.size()), dw_d(w.size());
      auto run = [&] {
        kernels::cuda::conv2d_forward(s, x_d.get(), w_d.get(), y_d.get());
        return y_d.to_host();
      };
      test::expect_within_magnitude(run(), ref.y, test::winograd_channel_magnitude(s, x, w, false), 1e-5,
                                    "3x3 stride-2 winograd forward");
      kernel_test::require_schedule_independent(run, "conv2d 3x3 stride-2 winograd");
      kernels::cuda::conv2d_backward_weight(s, x_d.get(), dy_d.get(), dw_d.get());
      test::expect_within_magnitude(dw_d.to_host(), ref.dw, test::winograd_weight_grad_magnitude(s, x, dy), 1e-5,
                                    "3x3 stride-2 weight gradient (implicit GEMM)");
    }
  }
  kernels::cuda::set_conv_tile(ConvTile::automatic);
  kernels::cuda::set_conv_winograd(kernels::cuda::ConvWinograd::automatic);
  CHECK(kernels::cuda::conv2d_uses_winograd(shape_of({56, 256, 34, 34, 64, 3, 2, 0}), false));
  CHECK_FALSE(kernels::cuda::conv2d_uses_winograd(shape_of({8, 256, 34, 34, 64, 3, 2, 0}), false));
}
