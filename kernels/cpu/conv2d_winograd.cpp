// Winograd F(4x4, 3x3) convolution of one image (Lavin & Gray 2016), matching
// torch.nn.functional.conv2d with a 3x3 kernel, stride 1 and zero padding. Each 4x4 output tile
// is read from a 6x6 input tile d; with the transforms B^T (6x6), G (6x3) and A^T (4x6),
//   U[xi][co][ci] = (G w[co,ci] G^T)[xi]        (once per call, for all images)
//   V[xi][ci][t]  = (B^T d[ci,t] B)[xi]         (per tile t)
//   M[xi][co][t]  = sum_ci U[xi][co][ci] V[xi][ci][t]   (36 GEMMs, xi = the 6x6 positions)
//   y tile        = A^T M[.][co][t] A
// Legend: Ci/Co channels, xi one of the 36 transformed positions, t a tile, lane a tile within
// a panel of 16.
//
// Cache blocking: the tiles go through in panels of 16, each transformed, multiplied and
// transformed back before the next, so that its V and M (1.2 MB at 256 channels) stay in L2; the
// 9.4 MB of U is streamed from L3 once per panel, which the measurements showed no slower than
// panels of 32-128 tiles that reuse it more, on one thread and on two. The GEMMs are a
// register-blocked 6 x 16 kernel (6 output channels by 16 tiles, 12 AVX2 accumulators) rather
// than sgemm calls: with 16 tiles per GEMM, the BLAS would repack the 256x256 U[xi] on every
// call, which costs as much as the multiplication; U is stored pre-packed in the kernel's order.
// The panels, the GEMM kernel and the packing are shared with the stride-2 kernels
// (kernels/cpu/winograd_gemm.h).
#include "kernels/conv2d_winograd.h"

#include <algorithm>

#include "winograd_gemm.h"

namespace kernels::cpu {
namespace {

using winograd::at;
using winograd::lanes;
using winograd::Panel;
using winograd::rows;
using winograd::vec8;

constexpr int64_t tile = 4;             // outputs per tile side
constexpr int64_t alpha = tile + 2;     // inputs per tile side
constexpr int64_t positions = alpha * alpha;

int64_t padded_c_out(const Conv2dShape& s) { return winograd::padded(s.c_out); }
int64_t tiles_h(const Conv2dShape& s) { return (s.h_out + tile - 1) / tile; }
int64_t tiles_w(const Conv2dShape& s) { return (s.w_out + tile - 1) / tile; }

// The three 1-D transforms, applied to n independent columns at once (n a multiple of 8): in[i]
// is the row of n floats at in + i * in_stride, likewise out. Written out (rather than as
// winograd::apply) to share the common subexpressions; the 2-D transform is the 1-D one along
// rows, then columns.

// B^T: 6 -> 6.
template <int64_t n>
void input_1d(const float* in, int64_t in_stride, float* out, int64_t out_stride) {
  for (int64_t l = 0; l < n; l += 8) {
    const vec8 d0 = at(in + l), d1 = at(in + in_stride + l), d2 = at(in + 2 * in_stride + l),
               d3 = at(in + 3 * in_stride + l), d4 = at(in + 4 * in_stride + l), d5 = at(in + 5 * in_stride + l);
    const vec8 a = d4 - 4.f * d2, b = d3 - 4.f * d1, c = d4 - d2, e = 2.f * (d3 - d1);
    at(out + l) = 4.f * d0 - 5.f * d2 + d4;
    at(out + out_stride + l) = a + b;
    at(out + 2 * out_stride + l) = a - b;
    at(out + 3 * out_stride + l) = c + e;
    at(out + 4 * out_stride + l) = c - e;
    at(out + 5 * out_stride + l) = 4.f * d1 - 5.f * d3 + d5;
  }
}

// G: 3 -> 6, on 8 columns held in registers.
void weight_1d(const vec8& g0, const vec8& g1, const vec8& g2, vec8* out) {
  constexpr float sixth = 1.f / 6;  // a product: no division
  const vec8 even = g0 + g2, quarter = 0.25f * g0 + g2;
  out[0] = 0.25f * g0;
  out[1] = -sixth * (even + g1);
  out[2] = -sixth * (even - g1);
  out[3] = sixth * (quarter + 0.5f * g1);
  out[4] = sixth * (quarter - 0.5f * g1);
  out[5] = g2;
}

// A^T: 6 -> 4.
template <int64_t n>
void output_1d(const float* in, int64_t in_stride, float* out, int64_t out_stride) {
  for (int64_t l = 0; l < n; l += 8) {
    const vec8 m0 = at(in + l), m1 = at(in + in_stride + l), m2 = at(in + 2 * in_stride + l),
               m3 = at(in + 3 * in_stride + l), m4 = at(in + 4 * in_stride + l), m5 = at(in + 5 * in_stride + l);
    const vec8 sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4;
    at(out + l) = m0 + sum12 + sum34;
    at(out + out_stride + l) = diff12 + 2.f * diff34;
    at(out + 2 * out_stride + l) = sum12 + 4.f * sum34;
    at(out + 3 * out_stride + l) = diff12 + 8.f * diff34 + m5;
  }
}

// Shared by both weight transforms: w[co, ci, k] is w[co * co_stride + ci * ci_stride + tap(k)],
// tap(k) = k, or 8 - k for the flipped kernel; zero for the padded output channels. The vector
// lanes are the `rows` output channels of a group.
void transform_weights_strided(const Conv2dShape& s, const float* w, int64_t co_stride, int64_t ci_stride,
                               bool flip, float* u) {
  static const float zeros[9] = {};
  winograd::pack_weights<positions>(s.c_out, s.c_in, u, [&](int64_t group, int64_t ci, float* out, int64_t stride) {
    const float* taps[rows];
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t co = group * rows + r;
      taps[r] = co < s.c_out ? w + co * co_stride + ci * ci_stride : zeros;
    }
    vec8 g[9], half[alpha][3], column[alpha];
    for (int64_t k = 0; k < 9; ++k) {
      const int64_t t = flip ? 8 - k : k;
      g[k] = vec8{taps[0][t], taps[1][t], taps[2][t], taps[3][t], taps[4][t], taps[5][t], 0.f, 0.f};
    }
    for (int64_t j = 0; j < 3; ++j) {
      weight_1d(g[j], g[3 + j], g[6 + j], column);
      for (int64_t a = 0; a < alpha; ++a) half[a][j] = column[a];
    }
    for (int64_t a = 0; a < alpha; ++a) {
      weight_1d(half[a][0], half[a][1], half[a][2], column);
      for (int64_t b = 0; b < alpha; ++b) at(out + (a * alpha + b) * stride) = column[b];
    }
  });
}

// v[xi][ci][lane] = (B^T d B)[xi] of each lane's 6x6 input patch.
void transform_input(const Conv2dShape& s, const Panel& panel, const float* x, float* v) {
  alignas(32) float d[positions * lanes], half[positions * lanes];
  for (int64_t ci = 0; ci < s.c_in; ++ci) {
    winograd::gather_patches(panel, x + ci * s.h_in * s.w_in, s.h_in, s.w_in, 1, -s.pad, -s.pad, alpha, d);
    for (int64_t j = 0; j < alpha; ++j) input_1d<lanes>(d + j * lanes, alpha * lanes, half + j * lanes, alpha * lanes);
    for (int64_t i = 0; i < alpha; ++i)
      input_1d<lanes>(half + i * alpha * lanes, lanes, v + (i * alpha * s.c_in + ci) * lanes, s.c_in * lanes);
  }
}

// y tiles = A^T m A, the partial tiles at the bottom and right edges cropped.
void transform_output(const Conv2dShape& s, const Panel& panel, const float* m, float* y) {
  alignas(32) float half[tile * alpha * lanes], out[tile * tile * lanes];
  for (int64_t co = 0; co < s.c_out; ++co) {
    const float* mc = m + co * positions * lanes;
    for (int64_t j = 0; j < alpha; ++j)
      output_1d<lanes>(mc + j * lanes, alpha * lanes, half + j * lanes, alpha * lanes);
    for (int64_t i = 0; i < tile; ++i)
      output_1d<lanes>(half + i * alpha * lanes, lanes, out + i * tile * lanes, lanes);
    float* plane = y + co * s.h_out * s.w_out;
    for (int64_t l = 0; l < panel.count; ++l) {
      const int64_t h = std::min(tile, s.h_out - panel.oh[l]), w = std::min(tile, s.w_out - panel.ow[l]);
      float* dst = plane + panel.oh[l] * s.w_out + panel.ow[l];
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) dst[i * s.w_out + j] = out[(i * tile + j) * lanes + l];
    }
  }
}

}  // namespace

bool winograd3x3_supports(const Conv2dShape& s) {
  return s.k_h == 3 && s.k_w == 3 && s.stride == 1 && s.pad >= 0 && s.c_in > 0 && s.c_out > 0 && s.h_out >= 1 &&
         s.w_out >= 1 && s.h_out == s.h_in + 2 * s.pad - 2 && s.w_out == s.w_in + 2 * s.pad - 2;
}

// Measured single-threaded against im2col + sgemm, one image with its weight transform
// (docs/ops/conv2d.md): 8 -> 8 channels break even, 16 -> 16 at 32x32 is 2.7x faster; at 64
// channels a 16x16 output (one full 16-tile panel) is 1.6x faster, 8x8 (4 tiles in a panel) and
// 10x10 (9 tiles) are slower.
bool winograd3x3_applies(const Conv2dShape& s) {
  return winograd::fast_gemm_kernel && winograd3x3_supports(s) && s.c_in >= 16 && s.c_out >= 16 &&
         tiles_h(s) * tiles_w(s) >= lanes;
}

int64_t winograd3x3_weights_size(const Conv2dShape& s) { return positions * padded_c_out(s) * s.c_in; }

void winograd3x3_transform_weights(const Conv2dShape& s, const float* w, float* u) {
  transform_weights_strided(s, w, s.c_in * 9, 9, false, u);
}

void winograd3x3_transform_weights_flipped(const Conv2dShape& s, const float* w, float* u) {
  transform_weights_strided(s, w, 9, s.c_out * 9, true, u);
}

int64_t winograd3x3_workspace_size(const Conv2dShape& s) { return positions * lanes * (s.c_in + padded_c_out(s)); }

void winograd3x3_forward_image(const Conv2dShape& s, const float* u, const float* x_image, float* y_image,
                               float* workspace) {
  float* v = workspace;
  float* m = v + positions * lanes * s.c_in;
  for (int64_t first = 0; first < tiles_h(s) * tiles_w(s); first += lanes) {
    const Panel panel = winograd::make_panel(first, tiles_h(s) * tiles_w(s), tiles_w(s), tile);
    transform_input(s, panel, x_image, v);
    winograd::multiply(positions, s.c_out, s.c_in, u, v, m);
    transform_output(s, panel, m, y_image);
  }
}

}  // namespace kernels::cpu
