// Winograd F(4x4, 2x2) for 4x4 stride-2 convolutions, forward and data gradient (contract:
// conv2d_winograd.cuh; docs/kernels.md, "conv2d_winograd_stride2.cu"). The CPU's algorithm
// (kernels/cpu/conv2d_winograd_stride2.cpp, whose derivation docs/ops/conv2d.md gives):
//
// Forward. With kh = 2a + p and kw = 2b + q (a, b, p, q in {0, 1}), a 4x4 stride-2 conv is a 2x2
// stride-1 conv of x's four phase planes x_pq[ci][i][j] = x[ci][2i + p - pad][2j + q - pad], so
// 4 Ci channels k = 4 ci + 2p + q, with the kernels w_pq[a][b] = w[co][ci][2a + p][2b + q].
// Data gradient. Each output phase (rh, rw) of dx (the rows 2k + rh, columns 2k' + rw) is a 2x2
// stride-1 conv of dy (Co channels) with the kernels w[co][ci][2(1 - t) + eh][2(1 - t') + ew],
// e = (r + pad) mod 2, read from dy at (k + top, k' + left), top = (rh + pad - eh) / 2 - 1: four
// convs of different kernels and offsets, so four groups of GEMMs.
// A 3x3 stride-2 conv (the forward only) is the 4x4 one whose kernel has zeros in its last row
// and column: its phases' kernels are 2x2, 2x1, 1x2 and 1x1, run as 2x2 ones (25 products per
// 16 outputs and phase where the direct sum of the 3x3 kernel needs 9 per output: 31% fewer).
// Each 2x2 conv runs as F(4x4, 2x2): a 4x4 output tile from a 5x5 input tile, 25 positions xi,
// 25 products per channel pair and tile where the direct sum needs 4 x 16: 2.56x fewer.
//
// The GEMM phases are (group, xi): the forward has 1 group (rows Co, inner 4 Ci), the data
// gradient 4 (rows Ci, inner Co), over one tile grid: the output's for the forward, phase (0,
// 0)'s of dx, the largest, for the data gradient. As in conv2d_winograd.cu, one thread per
// (channel, tile) in the transforms, the tile fastest, and no sums across threads.
#include "common.cuh"
#include "conv2d_winograd.cuh"
#include "kernels/profile_flops.h"

namespace kernels::cuda {
namespace {

constexpr int tile = 4, alpha = tile + 1, positions = alpha * alpha, output_phases = 4;

// The conv and its GEMMs.
struct ShapeS2 {
  int n, c_in, h_in, w_in, c_out, kernel, pad, h_out, w_out;  // kernel: 4, or 3 in the forward
  int reflected;         // rows and columns the padding reflects: pad for a reflect conv, else 0
  bool backward;         // the data gradient
  int tiles_h, tiles_w;  // of the forward's output, or of dx's phase (0, 0)
  int groups, rows, inner;
  int tiles() const { return n * tiles_h * tiles_w; }
};

ShapeS2 shape_of(const Conv2dShape& s, bool backward) {
  auto i = [](int64_t v) { return static_cast<int>(v); };
  // The tiles and the GEMM's sides (zero here) follow from the rest.
  ShapeS2 t{i(s.n), i(s.c_in), i(s.h_in), i(s.w_in), i(s.c_out), i(s.k_h), i(s.pad), i(s.h_out), i(s.w_out),
            s.reflect ? i(s.pad) : 0, backward, 0, 0, 0, 0, 0};
  const int grid_h = backward ? (t.h_in + 1) / 2 : t.h_out, grid_w = backward ? (t.w_in + 1) / 2 : t.w_out;
  t.tiles_h = (grid_h + tile - 1) / tile, t.tiles_w = (grid_w + tile - 1) / tile;
  t.groups = backward ? output_phases : 1;
  t.rows = backward ? t.c_in : t.c_out;
  t.inner = backward ? t.c_out : 4 * t.c_in;
  return t;
}

// Output phase f of the data gradient (kernels/cpu/conv2d_winograd_stride2.cpp, make_phase).
struct OutputPhase {
  int rh, rw, eh, ew, top, left, rows, cols;
};
__host__ __device__ __forceinline__ OutputPhase output_phase(const ShapeS2& s, int f) {
  OutputPhase o;
  o.rh = f / 2, o.rw = f % 2;
  o.eh = (o.rh + s.pad) % 2, o.ew = (o.rw + s.pad) % 2;
  o.top = (o.rh + s.pad - o.eh) / 2 - 1, o.left = (o.rw + s.pad - o.ew) / 2 - 1;
  o.rows = (s.h_in - o.rh + 1) / 2, o.cols = (s.w_in - o.rw + 1) / 2;
  return o;
}

// The Toom-Cook transforms for the points 0, 1, -1, 1/2 and infinity, B^T's rows 0, 1, 2 and 4
// scaled by 2 and G's by 1/2 (docs/ops/conv2d.md), written out.
// B^T: 5 -> 5.
__device__ __forceinline__ void input_1d(float d0, float d1, float d2, float d3, float d4, float* out) {
  out[0] = d0 - 2.f * d1 - d2 + 2.f * d3;
  out[1] = -d1 + d2 + 2.f * d3;
  out[2] = d1 - 3.f * d2 + 2.f * d3;
  out[3] = -d1 + d3;
  out[4] = d1 - 2.f * d2 - d3 + 2.f * d4;
}

// G: 2 -> 5.
__device__ __forceinline__ void weight_1d(float g0, float g1, float* out) {
  constexpr float sixth = 1.f / 6, eight_thirds = 8.f / 3, four_thirds = 4.f / 3;  // products: no division
  out[0] = g0;
  out[1] = 0.5f * (g0 + g1);
  out[2] = sixth * (g1 - g0);
  out[3] = -eight_thirds * g0 - four_thirds * g1;
  out[4] = 0.5f * g1;
}

// A^T: 5 -> 4.
__device__ __forceinline__ void output_1d(float m0, float m1, float m2, float m3, float m4, float* out) {
  const float sum12 = m1 + m2, diff12 = m1 - m2;
  out[0] = m0 + sum12 + m3;
  out[1] = diff12 + 0.5f * m3;
  out[2] = sum12 + 0.25f * m3;
  out[3] = diff12 + 0.125f * m3 + m4;
}

// The weight gradient's transposed transforms (A's is conv2d_winograd.cu's, winograd_output_grad_stride2).
// G^T: 5 -> 2, the adjoint of G (dw = G^T dU G).
__device__ __forceinline__ void weight_grad_1d(float u0, float u1, float u2, float u3, float u4, float* out) {
  constexpr float sixth = 1.f / 6, eight_thirds = 8.f / 3, four_thirds = 4.f / 3;  // products: no division
  out[0] = u0 + 0.5f * u1 - sixth * u2 - eight_thirds * u3;
  out[1] = 0.5f * u1 + sixth * u2 - four_thirds * u3 + 0.5f * u4;
}

// Thread i = (group rows + row) inner + k: U[group][xi][row][k] from the 2x2 kernel of (row, k).
__global__ void __launch_bounds__(elementwise_block) winograd4x4s2_weights_kernel(ShapeS2 s, FastDivisor inner,
                                                                                  FastDivisor rows,
                                                                                  const float* w, float* u) {
  const int count = s.groups * rows.divisor * inner.divisor, group_size = rows.divisor * inner.divisor;
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    const int gr = inner.quotient(i), k = i - gr * inner.divisor;  // gr = group rows + row
    const int group = rows.quotient(gr), row = gr - group * rows.divisor;
    float g[2][2];
    if (!s.backward) {  // row co, k = 4 ci + 2 p + q: w[co][ci][2a + p][2b + q], 0 past a 3x3 kernel
      const int p = k / 2 % 2, q = k % 2;
      const float* taps = w + (row * s.c_in + k / 4) * s.kernel * s.kernel;
#pragma unroll
      for (int a = 0; a < 2; ++a)
#pragma unroll
        for (int b = 0; b < 2; ++b) {
          const int r = 2 * a + p, c = 2 * b + q;
          g[a][b] = r < s.kernel && c < s.kernel ? taps[r * s.kernel + c] : 0.f;
        }
    } else {  // row ci, k co: w[co][ci][2(1 - t) + eh][2(1 - t') + ew]
      const OutputPhase o = output_phase(s, group);
      const float* taps = w + (k * s.c_in + row) * 16 + o.eh * 4 + o.ew;
#pragma unroll
      for (int t = 0; t < 2; ++t)
#pragma unroll
        for (int t2 = 0; t2 < 2; ++t2) g[t][t2] = taps[2 * (1 - t) * 4 + 2 * (1 - t2)];
    }
    float half[alpha][2], row_out[alpha];
#pragma unroll
    for (int b = 0; b < 2; ++b) {
      weight_1d(g[0][b], g[1][b], row_out);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][b] = row_out[a];
    }
    float* out = u + group * positions * group_size + (i - group * group_size);
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      weight_1d(half[a][0], half[a][1], row_out);
#pragma unroll
      for (int b = 0; b < alpha; ++b) out[(a * alpha + b) * group_size] = row_out[b];
    }
  }
}

// Thread i = (group inner + k) T + t: V[group][xi][k][t] from tile t's 5x5 patch of channel k.
__global__ void __launch_bounds__(elementwise_block) winograd4x4s2_input_kernel(ShapeS2 s, WinogradTiles index,
                                                                                const float* in, float* v) {
  const int plane = s.inner * index.all.divisor, count = s.groups * plane;  // plane: one position's V
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);  // at.channel = group inner + k
    const int group = at.channel / s.inner, k = at.channel - group * s.inner;
    // Patch element (a, b) is in[row0 + step a][col0 + step b] of `image` (h x w; 0 outside).
    const float* image;
    int h, w, row0, col0, step;
    if (!s.backward) {  // x's phase plane (p, q) of channel ci: x[2 (4 th + a) + p - pad][...]
      image = in + (at.n * s.c_in + k / 4) * s.h_in * s.w_in, h = s.h_in, w = s.w_in, step = 2;
      row0 = 2 * tile * at.th + k / 2 % 2 - s.pad, col0 = 2 * tile * at.tw + k % 2 - s.pad;
    } else {  // dy's channel co, from (4 th + top, 4 tw + left)
      const OutputPhase o = output_phase(s, group);
      image = in + (at.n * s.c_out + k) * s.h_out * s.w_out, h = s.h_out, w = s.w_out, step = 1;
      row0 = tile * at.th + o.top, col0 = tile * at.tw + o.left;
    }
    float d[alpha][alpha];
#pragma unroll
    for (int a = 0; a < alpha; ++a)
#pragma unroll
      for (int b = 0; b < alpha; ++b) d[a][b] = padded_value(image, row0 + step * a, col0 + step * b, h, w, s.reflected);
    float half[alpha][alpha], row[alpha];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
      input_1d(d[0][b], d[1][b], d[2][b], d[3][b], d[4][b], row);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][b] = row[a];
    }
    float* out = v + group * positions * plane + (i - group * plane);
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      input_1d(half[a][0], half[a][1], half[a][2], half[a][3], half[a][4], row);
#pragma unroll
      for (int b = 0; b < alpha; ++b) out[(a * alpha + b) * plane] = row[b];
    }
  }
}

// Thread i = (group rows + row) T + t: the tile's outputs of channel `row` that lie inside the
// result (the forward's y, with the epilogue; or dx's output phase `group`).
__global__ void __launch_bounds__(elementwise_block) winograd4x4s2_output_kernel(ShapeS2 s, WinogradTiles index,
                                                                                 const float* m, float* out,
                                                                                 ConvEpilogue epilogue) {
  const int plane = s.rows * index.all.divisor, count = s.groups * plane;  // plane: one position's M
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);  // at.channel = group rows + row
    const int group = at.channel / s.rows, row = at.channel - group * s.rows;
    const float* mt = m + group * positions * plane + (i - group * plane);
    float half[tile][alpha], result[tile];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
      output_1d(mt[b * plane], mt[(alpha + b) * plane], mt[(2 * alpha + b) * plane], mt[(3 * alpha + b) * plane],
                mt[(4 * alpha + b) * plane], result);
#pragma unroll
      for (int a = 0; a < tile; ++a) half[a][b] = result[a];
    }
    // Output (k, k') of the tile is out[row0 + step k][col0 + step k'] for k < rows, k' < cols.
    float* image;
    int rows, cols, width, row0, col0, step;
    if (!s.backward) {
      image = out + (at.n * s.c_out + row) * s.h_out * s.w_out, rows = s.h_out, cols = s.w_out, width = s.w_out;
      row0 = 0, col0 = 0, step = 1;
    } else {
      const OutputPhase o = output_phase(s, group);
      image = out + (at.n * s.c_in + row) * s.h_in * s.w_in, rows = o.rows, cols = o.cols, width = s.w_in;
      row0 = o.rh, col0 = o.rw, step = 2;
    }
    const int k0 = tile * at.th, k1 = tile * at.tw;
#pragma unroll
    for (int a = 0; a < tile; ++a) {
      output_1d(half[a][0], half[a][1], half[a][2], half[a][3], half[a][4], result);
#pragma unroll
      for (int b = 0; b < tile; ++b)
        if (k0 + a < rows && k1 + b < cols)
          image[(row0 + step * (k0 + a)) * width + col0 + step * (k1 + b)] = apply_epilogue(epilogue, row, result[b]);
    }
  }
}

// The forward's weight gradient. Thread i = co (4 Ci) + k, k = 4 ci + 2 p + q: dw[co][ci][2a + p][2b
// + q] = (G^T dU[.][co][k] G)[a][b].
__global__ void __launch_bounds__(elementwise_block) winograd4x4s2_weight_grad_kernel(int count, const float* du,
                                                                                      float* dw) {
  const int plane = count;  // of one position in du: c_out 4 c_in, a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    float half[2][alpha], row[2];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
      weight_grad_1d(du[b * plane + i], du[(alpha + b) * plane + i], du[(2 * alpha + b) * plane + i],
                     du[(3 * alpha + b) * plane + i], du[(4 * alpha + b) * plane + i], row);
      half[0][b] = row[0], half[1][b] = row[1];
    }
    // i = (co Ci + ci) 4 + 2p + q, and w[co][ci] is 16 taps: (co Ci + ci) 16 + (2a + p) 4 + 2b + q.
    float* taps = dw + (i / 4) * 16 + i / 2 % 2 * 4 + i % 2;
#pragma unroll
    for (int a = 0; a < 2; ++a) {
      weight_grad_1d(half[a][0], half[a][1], half[a][2], half[a][3], half[a][4], row);
      taps[2 * a * 4] = row[0], taps[2 * a * 4 + 2] = row[1];
    }
  }
}

void transform_input(const ShapeS2& s, const WinogradTiles& grid, const float* in, float* v) {
  const int64_t threads = int64_t(s.groups) * s.inner * s.tiles();
  const FlopScope flops(10 * 18.0 * threads);
  launch(winograd4x4s2_input_kernel, {dim3(grid_for(threads)), dim3(elementwise_block), 0, stream()}, s, grid, in, v);
}

// The launches, each with its own arithmetic for the emulator profiler (kernels/profile_flops.h;
// conv2d_winograd.cu says why): per thread 7 1-D transforms G of 8 operations (weights), 10 of
// B^T's 18 (input), 9 of A^T's 11 (output), counted from the expressions above.
void run(const ShapeS2& s, const float* w, const float* in, float* out, const ConvEpilogue& epilogue) {
  const WinogradProduct product{s.groups * positions, s.tiles(), s.rows, s.inner};
  const WinogradWorkspace work = winograd_workspace(product);
  const WinogradTiles grid(s.n, s.tiles_h, s.tiles_w);
  const int64_t weight_threads = int64_t(s.groups) * s.rows * s.inner;
  const int64_t output_threads = int64_t(s.groups) * s.rows * s.tiles();
  {
    const FlopScope flops(7 * 8.0 * weight_threads);
    launch(winograd4x4s2_weights_kernel, {dim3(grid_for(weight_threads)), dim3(elementwise_block), 0, stream()}, s,
           FastDivisor(s.inner), FastDivisor(s.rows), w, work.u);
  }
  transform_input(s, grid, in, work.v);
  winograd_product(product, work.v, work.u, work.m);
  const FlopScope flops(9 * 11.0 * output_threads);
  launch(winograd4x4s2_output_kernel, {dim3(grid_for(output_threads)), dim3(elementwise_block), 0, stream()}, s, grid,
         work.m, out, epilogue);
}

}  // namespace

void winograd4x4s2_forward(const Conv2dShape& shape, const float* x, const float* w, float* y,
                           const ConvEpilogue& epilogue) {
  run(shape_of(shape, false), w, x, y, epilogue);
}

void winograd4x4s2_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx) {
  run(shape_of(shape, true), w, dy, dx, {});
}

// The weight gradient's G^T (5 -> 2) is of 13 operations, 7 of them a weight pair.
void winograd4x4s2_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw) {
  const ShapeS2 s = shape_of(shape, false);
  const WinogradProduct product{positions, s.tiles(), s.rows, s.inner};
  const WinogradWorkspace work = winograd_workspace(product);
  const WinogradTiles grid(s.n, s.tiles_h, s.tiles_w);
  transform_input(s, grid, x, work.v);
  const int64_t weight_threads = int64_t(s.c_out) * s.inner;
  winograd_output_grad_stride2(grid, s.c_out, s.h_out, s.w_out, dy, work.m);
  winograd_weight_product(product, work.m, work.v, work.u);
  const FlopScope flops(7 * 13.0 * weight_threads);
  launch(winograd4x4s2_weight_grad_kernel, {dim3(grid_for(weight_threads)), dim3(elementwise_block), 0, stream()},
         s.c_out * s.inner, work.u, dw);
}

}  // namespace kernels::cuda
