// Winograd F(4x4, 2x2) for 4x4 stride-2 convs (kernels/conv2d_winograd_stride2.h): forward as
// torch.nn.functional.conv2d(x, w, stride=2, padding=pad), input gradient as its
// conv_transpose2d. Legend: Ci/Co channels, p/q a row/column phase (parity), xi one of the 25
// transformed positions of a 5x5 tile, kc the GEMM's inner index, lane a tile within a panel.
//
// Forward. With kh = 2a + p and kw = 2b + q (a, b, p, q in {0, 1}),
//   y[co, oh, ow] = sum_{ci,p,q,a,b} x[ci, 2(oh + a) + p - pad, 2(ow + b) + q - pad] w[co, ci, 2a + p, 2b + q]
// is a 2x2 stride-1 conv of the phase planes x_pq[ci][i][j] = x[ci, 2i + p - pad, 2j + q - pad]
// (4 Ci channels, kc = 4 ci + 2 p + q) with the kernels w_pq[a][b]. A 4x4 output tile reads a 5x5
// tile of each phase, i.e. the 10x10 input patch at (2 oh - pad, 2 ow - pad).
// Input gradient. An input row ih = 2k + r (r its parity) receives dy[oh] through the taps kh
// with 2 oh - pad + kh = ih: kh = 2(1 - t) + e with e = (r + pad) mod 2, oh = k + c - 1 + t,
// c = (r + pad - e) / 2, t in {0, 1}. So each output phase (rh, rw) of dx is a 2x2 stride-1 conv
// of dy (Co channels) with the kernels w[co, ci, 2(1 - t) + eh, 2(1 - t') + ew], read at offset
// (ch - 1, cw - 1); its outputs go to every other row and column of dx. Rows no tap reaches are
// those past the last conv output, and get 0 from the zero reads outside dy.
//
// Each 2x2 stride-1 conv runs as F(4x4, 2x2) exactly as the 3x3 kernels run F(4x4, 3x3)
// (kernels/cpu/conv2d_winograd.cpp): panels of 16 tiles are transformed (B^T d B), multiplied
// (25 GEMMs of Co x Kc x 16 on pre-packed U = G w G^T, kernels/cpu/winograd_gemm.h) and
// transformed back (A^T m A) one after the other, so a panel's V and M stay in L2.
#include "kernels/conv2d_winograd_stride2.h"

#include <algorithm>

#include "winograd_gemm.h"

namespace kernels::cpu {
namespace {

using winograd::apply;
using winograd::lanes;
using winograd::Panel;

constexpr int64_t tile = 4;          // outputs per tile side
constexpr int64_t alpha = tile + 1;  // inputs per tile side (a 2-tap kernel)
constexpr int64_t positions = alpha * alpha;
constexpr int64_t phases = 4;
constexpr int64_t patch = 2 * alpha;  // a forward tile's input patch side: all four phases

// The Toom-Cook transforms for the points 0, 1, -1, 1/2 and infinity (docs/ops/conv2d.md): rows 0,
// 1, 2 and 4 of B^T are scaled by 2 and those of G by 1/2, so that B^T has small integers.
constexpr float input_matrix[alpha][alpha] = {  // B^T
    {1, -2, -1, 2, 0},
    {0, -1, 1, 2, 0},
    {0, 1, -3, 2, 0},
    {0, -1, 0, 1, 0},
    {0, 1, -2, -1, 2}};
constexpr float weight_matrix[alpha][2] = {  // G
    {1, 0},
    {0.5f, 0.5f},
    {-1.f / 6, 1.f / 6},
    {-8.f / 3, -4.f / 3},
    {0, 0.5f}};
constexpr float output_matrix[tile][alpha] = {  // A^T
    {1, 1, 1, 1, 0},
    {0, 1, -1, 0.5f, 0},
    {0, 1, 1, 0.25f, 0},
    {0, 1, -1, 0.125f, 1}};

int64_t tiles(int64_t size) { return (size + tile - 1) / tile; }

// The forward's GEMM: Co outputs from 4 Ci phase channels. The input gradient's, per phase: Ci
// outputs from Co channels of dy.
int64_t gemm_rows(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  return pass == Winograd4x4s2Pass::forward ? s.c_out : s.c_in;
}
int64_t gemm_inner(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  return pass == Winograd4x4s2Pass::forward ? phases * s.c_in : s.c_out;
}
int64_t phase_weights_size(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  return positions * winograd::padded(gemm_rows(s, pass)) * gemm_inner(s, pass);
}

// out + xi * stride = (G g G^T)[xi] for 8 kernels side by side, g[(a * 2 + b) * 8 + lane] = tap (a, b).
void transform_kernels(const float* g, float* out, int64_t stride) {
  alignas(32) float half[alpha * 2 * 8];  // [i][b][lane]
  apply<16>(weight_matrix, g, 16, half, 16);
  for (int64_t i = 0; i < alpha; ++i) apply<8>(weight_matrix, half + i * 16, 8, out + i * alpha * stride, stride);
}

// The input gradient's tile grid, shared by its four phases: that of phase (0, 0), the largest.
int64_t backward_input_tiles(const Conv2dShape& s) { return tiles((s.h_in + 1) / 2) * tiles((s.w_in + 1) / 2); }

// One input-gradient phase (rh, rw): where its conv reads dy and writes dx.
struct Phase {
  int64_t rh, rw;      // dx[2k + rh][2k' + rw] is output (k, k')
  int64_t eh, ew;      // the kernel row (column) parity it uses
  int64_t top, left;   // output (k, k') reads dy from (k + top, k' + left)
  int64_t rows, cols;  // its outputs: the dx rows (columns) of parity rh (rw)
};

Phase make_phase(const Conv2dShape& s, int64_t index) {
  Phase f;
  f.rh = index / 2, f.rw = index % 2;
  f.eh = (f.rh + s.pad) % 2, f.ew = (f.rw + s.pad) % 2;
  f.top = (f.rh + s.pad - f.eh) / 2 - 1, f.left = (f.rw + s.pad - f.ew) / 2 - 1;
  f.rows = (s.h_in - f.rh + 1) / 2, f.cols = (s.w_in - f.rw + 1) / 2;
  return f;
}

// v[xi][.][lane] (v already at its kc, kc_count kcs per position) = (B^T d B)[xi] of the 5x5
// patches d(i, j) = patch[(i * row_step + j * col_step) * lanes + lane].
void transform_patch(const float* d, int64_t row_step, int64_t col_step, float* v, int64_t kc_count) {
  alignas(32) float half[positions * lanes];  // [i][j][lane]: B^T applied down the columns
  for (int64_t j = 0; j < alpha; ++j)
    apply<lanes>(input_matrix, d + j * col_step * lanes, row_step * lanes, half + j * lanes, alpha * lanes);
  for (int64_t i = 0; i < alpha; ++i)
    apply<lanes>(input_matrix, half + i * alpha * lanes, lanes, v + i * alpha * kc_count * lanes, kc_count * lanes);
}

// Where the output transform writes: channel c's tile output (i, j) of lane l goes to
// data[c * plane + (step * (oh + i) + row) * width + step * (ow + j) + col], for oh + i < rows and
// ow + j < cols (the partial tiles at the bottom and right edges are cropped).
struct Destination {
  float* data;
  int64_t plane, width, step, row, col, rows, cols;
};

// The tiles of each of `channels` channels = A^T m A.
void transform_output(const Panel& panel, const float* m, int64_t channels, const Destination& to) {
  alignas(32) float half[tile * alpha * lanes], out[tile * tile * lanes];
  for (int64_t c = 0; c < channels; ++c) {
    const float* mc = m + c * positions * lanes;
    for (int64_t j = 0; j < alpha; ++j)
      apply<lanes>(output_matrix, mc + j * lanes, alpha * lanes, half + j * lanes, alpha * lanes);
    for (int64_t i = 0; i < tile; ++i)
      apply<lanes>(output_matrix, half + i * alpha * lanes, lanes, out + i * tile * lanes, lanes);
    float* plane = to.data + c * to.plane;
    for (int64_t l = 0; l < panel.count; ++l) {
      const int64_t h = std::min(tile, to.rows - panel.oh[l]), w = std::min(tile, to.cols - panel.ow[l]);
      float* dst = plane + (to.step * panel.oh[l] + to.row) * to.width + to.step * panel.ow[l] + to.col;
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) dst[to.step * (i * to.width + j)] = out[(i * tile + j) * lanes + l];
    }
  }
}

// Panels [begin, end) of one image.
void forward_image(const Conv2dShape& s, const float* u, const float* x, float* y, float* workspace, int64_t begin,
                   int64_t end) {
  const int64_t kc_count = phases * s.c_in;
  float* v = workspace;
  float* m = v + positions * lanes * kc_count;
  float* d = m + positions * lanes * winograd::padded(s.c_out);  // one channel's patches
  const Destination to{y, s.h_out * s.w_out, s.w_out, 1, 0, 0, s.h_out, s.w_out};
  const int64_t count = tiles(s.h_out) * tiles(s.w_out);
  for (int64_t first = begin * lanes; first < std::min(count, end * lanes); first += lanes) {
    const Panel panel = winograd::make_panel(first, count, tiles(s.w_out), tile);
    for (int64_t ci = 0; ci < s.c_in; ++ci) {
      winograd::gather_patches(panel, x + ci * s.h_in * s.w_in, s.h_in, s.w_in, 2, -s.pad, -s.pad, patch, d);
      for (int64_t p = 0; p < 2; ++p)
        for (int64_t q = 0; q < 2; ++q)
          transform_patch(d + (p * patch + q) * lanes, 2 * patch, 2, v + (phases * ci + 2 * p + q) * lanes, kc_count);
    }
    winograd::multiply(positions, s.c_out, kc_count, u, v, m);
    transform_output(panel, m, s.c_out, to);
  }
}

// Panels [begin, end) of one image. The four phases share one tile grid and go through each
// panel one after the other, so that the 8x8 block of dx a tile covers is written while it is in
// L1: phase by phase over the whole image, each phase's pass wrote every other float of every
// cache line of dx again, 1.3x slower on the generator's 64 -> 128 conv.
void backward_input_image(const Conv2dShape& s, const float* u, const float* dy, float* dx, float* workspace,
                          int64_t begin, int64_t end) {
  float* v = workspace;
  float* m = v + positions * lanes * s.c_out;
  float* d = m + positions * lanes * winograd::padded(s.c_in);
  const int64_t count = backward_input_tiles(s), cols = tiles((s.w_in + 1) / 2);
  for (int64_t first = begin * lanes; first < std::min(count, end * lanes); first += lanes) {
    const Panel panel = winograd::make_panel(first, count, cols, tile);
    for (int64_t index = 0; index < phases; ++index) {
      const Phase f = make_phase(s, index);
      for (int64_t co = 0; co < s.c_out; ++co) {
        winograd::gather_patches(panel, dy + co * s.h_out * s.w_out, s.h_out, s.w_out, 1, f.top, f.left, alpha, d);
        transform_patch(d, alpha, 1, v + co * lanes, s.c_out);
      }
      winograd::multiply(positions, s.c_in, s.c_out,
                         u + index * phase_weights_size(s, Winograd4x4s2Pass::backward_input), v, m);
      transform_output(panel, m, s.c_in, Destination{dx, s.h_in * s.w_in, s.w_in, 2, f.rh, f.rw, f.rows, f.cols});
    }
  }
}

}  // namespace

bool winograd4x4s2_supports(const Conv2dShape& s) {
  return s.k_h == 4 && s.k_w == 4 && s.stride == 2 && s.pad >= 0 && s.c_in > 0 && s.c_out > 0 && s.h_out >= 1 &&
         s.w_out >= 1 && s.h_out == (s.h_in + 2 * s.pad - 4) / 2 + 1 && s.w_out == (s.w_in + 2 * s.pad - 4) / 2 + 1 &&
         s.h_in + 2 * s.pad >= 4 && s.w_in + 2 * s.pad >= 4;
}

// Measured single-threaded against im2col + sgemm, with the weight transform (docs/ops/conv2d.md).
// Both need one full 16-tile panel per image: with fewer tiles a panel is mostly empty lanes while
// U is streamed once per panel (an 8x8 output, 4 tiles, ran 2.6x slower). The weight transform is
// paid once per call: D 3 (128 -> 256 at 32x32, 16 tiles, a 13 MB U) with one image was 1.15x
// faster forward on an idle machine but 0.8x on a loaded one, 0.83x for the input gradient; with
// two images 1.2x, with four 1.5-1.7x. The choice still follows the image alone, not the batch:
// the two paths sum in different orders, and an image must get the same bits in any batch.
// Forward, the channels do not matter (1 -> 16, 3 -> 64 and 8 -> 8 won 1.4-1.7x); the input
// gradient's GEMMs are Ci rows high, so 3 input channels (rows padded to 6) ran 3-4x slower, 16 won.
bool winograd4x4s2_applies(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  const int64_t image_tiles = tiles(s.h_out) * tiles(s.w_out);
  if (!winograd::fast_gemm_kernel || !winograd4x4s2_supports(s) || image_tiles < lanes) return false;
  return pass == Winograd4x4s2Pass::forward || s.c_in >= 16;
}

int64_t winograd4x4s2_weights_size(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  return (pass == Winograd4x4s2Pass::forward ? 1 : phases) * phase_weights_size(s, pass);
}

void winograd4x4s2_transform_weights(const Conv2dShape& s, Winograd4x4s2Pass pass, const float* w, float* u) {
  const auto tap = [&](int64_t co, int64_t ci, int64_t kh, int64_t kw) {
    return w[((co * s.c_in + ci) * 4 + kh) * 4 + kw];
  };
  alignas(32) float g[4 * 8] = {};  // [a][b][lane]; lanes rows..7 stay 0
  if (pass == Winograd4x4s2Pass::forward) {
    winograd::pack_weights<positions>(
        s.c_out, phases * s.c_in, u, [&](int64_t group, int64_t kc, float* out, int64_t stride) {
          const int64_t ci = kc / phases, p = kc / 2 % 2, q = kc % 2;
          for (int64_t r = 0; r < winograd::rows; ++r) {
            const int64_t co = group * winograd::rows + r;
            for (int64_t ab = 0; ab < 4; ++ab)
              g[ab * 8 + r] = co < s.c_out ? tap(co, ci, 2 * (ab / 2) + p, 2 * (ab % 2) + q) : 0.f;
          }
          transform_kernels(g, out, stride);
        });
    return;
  }
  for (int64_t index = 0; index < phases; ++index) {
    const Phase f = make_phase(s, index);
    float* u_phase = u + index * phase_weights_size(s, pass);
    winograd::pack_weights<positions>(
        s.c_in, s.c_out, u_phase, [&](int64_t group, int64_t co, float* out, int64_t stride) {
          for (int64_t r = 0; r < winograd::rows; ++r) {
            const int64_t ci = group * winograd::rows + r;
            for (int64_t t = 0; t < 4; ++t)
              g[t * 8 + r] = ci < s.c_in ? tap(co, ci, 2 * (1 - t / 2) + f.eh, 2 * (1 - t % 2) + f.ew) : 0.f;
          }
          transform_kernels(g, out, stride);
        });
  }
}

int64_t winograd4x4s2_workspace_size(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  const int64_t d = pass == Winograd4x4s2Pass::forward ? patch * patch * lanes : positions * lanes;
  return positions * lanes * (gemm_inner(s, pass) + winograd::padded(gemm_rows(s, pass))) + d;
}

int64_t winograd4x4s2_panels(const Conv2dShape& s, Winograd4x4s2Pass pass) {
  const int64_t count = pass == Winograd4x4s2Pass::forward ? tiles(s.h_out) * tiles(s.w_out) : backward_input_tiles(s);
  return (count + lanes - 1) / lanes;
}

void winograd4x4s2_image(const Conv2dShape& s, Winograd4x4s2Pass pass, const float* u, const float* in_image,
                         float* out_image, float* workspace, int64_t panel_begin, int64_t panel_end) {
  if (pass == Winograd4x4s2Pass::forward)
    forward_image(s, u, in_image, out_image, workspace, panel_begin, panel_end);
  else
    backward_input_image(s, u, in_image, out_image, workspace, panel_begin, panel_end);
}

}  // namespace kernels::cpu
