// Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions: three transforms around the product
// (contract: conv2d_winograd.cuh; docs/kernels.md, "conv2d_winograd.cu"), and the workspaces
// that both Winograd files share. The GEMM between the transforms is conv2d.cu's implicit GEMM,
// the 36 positions as its phases: there the products are on the tuned tiles, split-K and all.
//
// Why Winograd on the GPU: the product of a 3x3 convolution with 256 channels (G's residual
// block, 2 convs of 6.8e10 FLOPs each in a batch-8 translation) is FMA-bound on any tile; F(4x4,
// 3x3) needs 36 products per channel pair and 4x4 tile where the direct sum needs 144, so the
// GEMM shrinks 4-fold and the transforms, which read and write every value once, add memory
// traffic that is small beside it (per image of 32x32 at 256 channels: 2.4 MB for V, 2.4 MB for
// M). cuDNN's non-fused Winograd works the same way. The error grows: the transforms' constants
// (up to 8 in A^T, 5 in B^T) amplify float rounding, to 1e-5 of the output's magnitude
// (docs/ops/conv2d.md measures it on SARGAN's shapes); the CPU runs the same algorithm.
//
// One thread per (channel, tile) in each transform, the tile index fastest, so that the reads
// of V and M and the writes of V and M coalesce (36 of each a thread, 36 planes apart); the input
// patch and the output tile are read and written 4 floats apart across a warp. The 1-D
// transforms are kernels/cpu/conv2d_winograd.cpp's expressions in its order, along columns
// first, then rows. No sums across threads: the bits do not depend on the schedule.
#include "common.cuh"
#include "conv2d_winograd.cuh"
#include "kernels/profile_flops.h"

namespace kernels::cuda {
namespace {

constexpr int tile = 4, alpha = tile + 2, positions = alpha * alpha;

// The conv in the tiles it is computed in.
struct Shape3x3 {
  int n, c_in, h_in, w_in, c_out, pad, h_out, w_out;
  int tiles_h, tiles_w;  // ceil(h_out / 4), ceil(w_out / 4)
  int tiles() const { return n * tiles_h * tiles_w; }
};

Shape3x3 shape_of(const Conv2dShape& s) {
  auto i = [](int64_t v) { return static_cast<int>(v); };
  const int h_out = i(s.h_out), w_out = i(s.w_out);
  return {i(s.n), i(s.c_in), i(s.h_in), i(s.w_in), i(s.c_out), i(s.pad), h_out, w_out,
          (h_out + tile - 1) / tile, (w_out + tile - 1) / tile};
}

// B^T: 6 -> 6.
__device__ __forceinline__ void input_1d(float d0, float d1, float d2, float d3, float d4, float d5, float* out) {
  const float a = d4 - 4.f * d2, b = d3 - 4.f * d1, c = d4 - d2, e = 2.f * (d3 - d1);
  out[0] = 4.f * d0 - 5.f * d2 + d4;
  out[1] = a + b;
  out[2] = a - b;
  out[3] = c + e;
  out[4] = c - e;
  out[5] = 4.f * d1 - 5.f * d3 + d5;
}

// G: 3 -> 6.
__device__ __forceinline__ void weight_1d(float g0, float g1, float g2, float* out) {
  constexpr float sixth = 1.f / 6;  // a product: no division
  const float even = g0 + g2, quarter = 0.25f * g0 + g2;
  out[0] = 0.25f * g0;
  out[1] = -sixth * (even + g1);
  out[2] = -sixth * (even - g1);
  out[3] = sixth * (quarter + 0.5f * g1);
  out[4] = sixth * (quarter - 0.5f * g1);
  out[5] = g2;
}

// A^T: 6 -> 4.
__device__ __forceinline__ void output_1d(float m0, float m1, float m2, float m3, float m4, float m5, float* out) {
  const float sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4;
  out[0] = m0 + sum12 + sum34;
  out[1] = diff12 + 2.f * diff34;
  out[2] = sum12 + 4.f * sum34;
  out[3] = diff12 + 8.f * diff34 + m5;
}

// The weight gradient's transposed transforms. A: 4 -> 6, the adjoint of A^T (dM = A dy A^T).
__device__ __forceinline__ void output_grad_1d(float g0, float g1, float g2, float g3, float* out) {
  const float even = g0 + g2, odd = g1 + g3, even4 = g0 + 4.f * g2, odd2 = 2.f * g1 + 8.f * g3;
  out[0] = g0;
  out[1] = even + odd;
  out[2] = even - odd;
  out[3] = even4 + odd2;
  out[4] = even4 - odd2;
  out[5] = g3;
}

// F(4x4, 2x2)'s A: 4 -> 5, the adjoint of conv2d_winograd_stride2.cu's A^T.
__device__ __forceinline__ void output_grad_1d_stride2(float g0, float g1, float g2, float g3, float* out) {
  const float even = g0 + g2, odd = g1 + g3;
  out[0] = g0;
  out[1] = even + odd;
  out[2] = even - odd;
  out[3] = g0 + 0.5f * g1 + 0.25f * g2 + 0.125f * g3;
  out[4] = g3;
}

// G^T: 6 -> 3, the adjoint of G (dw = G^T dU G).
__device__ __forceinline__ void weight_grad_1d(float u0, float u1, float u2, float u3, float u4, float u5,
                                               float* out) {
  constexpr float sixth = 1.f / 6, twelfth = 1.f / 12, twenty_fourth = 1.f / 24;  // products: no division
  const float sum12 = u1 + u2, diff12 = u2 - u1, sum34 = u3 + u4, diff34 = u3 - u4;
  out[0] = 0.25f * u0 - sixth * sum12 + twenty_fourth * sum34;
  out[1] = sixth * diff12 + twelfth * diff34;
  out[2] = -sixth * sum12 + sixth * sum34 + u5;
}

// Thread i = co c_in + ci: u[xi][co][ci]. w[co][ci] is w[co co_stride + ci ci_stride + tap],
// tap k or 8 - k (flipped).
__global__ void __launch_bounds__(elementwise_block) winograd_weights_kernel(FastDivisor c_in, int c_out,
                                                                             const float* w, int co_stride,
                                                                             int ci_stride, bool flip, float* u) {
  const int plane = c_out * c_in.divisor;  // of one position in u; a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const int co = c_in.quotient(i), ci = i - co * c_in.divisor;
    const float* taps = w + co * co_stride + ci * ci_stride;
    float g[9];
#pragma unroll
    for (int k = 0; k < 9; ++k) g[k] = taps[flip ? 8 - k : k];
    float half[alpha][3], row[alpha];
#pragma unroll
    for (int j = 0; j < 3; ++j) {
      weight_1d(g[j], g[3 + j], g[6 + j], row);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][j] = row[a];
    }
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      weight_1d(half[a][0], half[a][1], half[a][2], row);
#pragma unroll
      for (int b = 0; b < alpha; ++b) u[(a * alpha + b) * plane + i] = row[b];
    }
  }
}

// Thread i = ci T + t: v[xi][ci][t].
__global__ void __launch_bounds__(elementwise_block) winograd_input_kernel(Shape3x3 s, WinogradTiles index,
                                                                           const float* x, float* v) {
  const int plane = s.c_in * index.all.divisor;  // of one position in v; a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);
    const float* image = x + (at.n * s.c_in + at.channel) * s.h_in * s.w_in;
    const int ih0 = at.th * tile - s.pad, iw0 = at.tw * tile - s.pad;
    float d[alpha][alpha];
#pragma unroll
    for (int a = 0; a < alpha; ++a)
#pragma unroll
      for (int b = 0; b < alpha; ++b) {
        const int ih = ih0 + a, iw = iw0 + b;  // negative ones wrap past h_in, w_in
        d[a][b] = unsigned(ih) < unsigned(s.h_in) && unsigned(iw) < unsigned(s.w_in) ? image[ih * s.w_in + iw] : 0.f;
      }
    float half[alpha][alpha], row[alpha];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
      input_1d(d[0][b], d[1][b], d[2][b], d[3][b], d[4][b], d[5][b], row);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][b] = row[a];
    }
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      input_1d(half[a][0], half[a][1], half[a][2], half[a][3], half[a][4], half[a][5], row);
#pragma unroll
      for (int b = 0; b < alpha; ++b) v[(a * alpha + b) * plane + i] = row[b];
    }
  }
}

// Thread i = co T + t: the tile's outputs that lie inside y.
__global__ void __launch_bounds__(elementwise_block) winograd_output_kernel(Shape3x3 s, WinogradTiles index,
                                                                            const float* m, float* y,
                                                                            ConvEpilogue epilogue) {
  const int plane = s.c_out * index.all.divisor;  // of one position in m; a thread per tile of y
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);
    float half[tile][alpha], row[tile];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
      float column[alpha];
#pragma unroll
      for (int a = 0; a < alpha; ++a) column[a] = m[(a * alpha + b) * plane + i];
      output_1d(column[0], column[1], column[2], column[3], column[4], column[5], row);
#pragma unroll
      for (int a = 0; a < tile; ++a) half[a][b] = row[a];
    }
    float* out = y + (at.n * s.c_out + at.channel) * s.h_out * s.w_out;
    const int oh0 = at.th * tile, ow0 = at.tw * tile;
#pragma unroll
    for (int a = 0; a < tile; ++a) {
      output_1d(half[a][0], half[a][1], half[a][2], half[a][3], half[a][4], half[a][5], row);
#pragma unroll
      for (int b = 0; b < tile; ++b)
        if (oh0 + a < s.h_out && ow0 + b < s.w_out)
          out[(oh0 + a) * s.w_out + ow0 + b] = apply_epilogue(epilogue, at.channel, row[b]);
    }
  }
}

// Thread i = c T + t: dM[xi][c][t] = (A dy_tile A^T)[xi], xi < Alpha x Alpha, dy's 4x4 tile with
// zeros past its edges; A given by its 1-D form Grad1d (4 values -> Alpha), applied down the
// columns, then along the rows.
template <int Alpha, void (*Grad1d)(float, float, float, float, float*)>
__global__ void __launch_bounds__(elementwise_block) winograd_output_grad_kernel(WinogradTiles index, int channels,
                                                                                 int h, int w, const float* dy,
                                                                                 float* dm) {
  const int plane = channels * index.all.divisor;  // of one position in dm; a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);
    const float* image = dy + (at.n * channels + at.channel) * h * w;
    const int oh0 = at.th * tile, ow0 = at.tw * tile;
    float g[tile][tile];
#pragma unroll
    for (int a = 0; a < tile; ++a)
#pragma unroll
      for (int b = 0; b < tile; ++b) g[a][b] = oh0 + a < h && ow0 + b < w ? image[(oh0 + a) * w + ow0 + b] : 0.f;
    float half[Alpha][tile], row[Alpha];
#pragma unroll
    for (int b = 0; b < tile; ++b) {
      Grad1d(g[0][b], g[1][b], g[2][b], g[3][b], row);
#pragma unroll
      for (int a = 0; a < Alpha; ++a) half[a][b] = row[a];
    }
#pragma unroll
    for (int a = 0; a < Alpha; ++a) {
      Grad1d(half[a][0], half[a][1], half[a][2], half[a][3], row);
#pragma unroll
      for (int b = 0; b < Alpha; ++b) dm[(a * Alpha + b) * plane + i] = row[b];
    }
  }
}

// Thread i = co c_in + ci: dw[co][ci] = G^T dU[.][co][ci] G.
__global__ void __launch_bounds__(elementwise_block) winograd_weight_grad_kernel(int count, const float* du,
                                                                                 float* dw) {
  const int plane = count;  // of one position in du: c_out c_in, a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    float half[3][alpha], row[3];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
      float column[alpha];
#pragma unroll
      for (int a = 0; a < alpha; ++a) column[a] = du[(a * alpha + b) * plane + i];
      weight_grad_1d(column[0], column[1], column[2], column[3], column[4], column[5], row);
#pragma unroll
      for (int a = 0; a < 3; ++a) half[a][b] = row[a];
    }
#pragma unroll
    for (int a = 0; a < 3; ++a) {
      weight_grad_1d(half[a][0], half[a][1], half[a][2], half[a][3], half[a][4], half[a][5], row);
#pragma unroll
      for (int b = 0; b < 3; ++b) dw[i * 9 + a * 3 + b] = row[b];
    }
  }
}

// Each launch tells the emulator profiler its own arithmetic (kernels/profile_flops.h), which
// the op's FLOP count, that of the direct convolution, would overstate: per thread 9 1-D
// transforms G of 14 operations (weights), 12 of B^T's 19 (input), 10 of A^T's 13 (output),
// counted from the expressions above.
void transform_weights(const Shape3x3& s, const float* w, bool flipped, float* u) {
  const FlopScope flops(9 * 14.0 * s.c_out * s.c_in);
  const int co_stride = flipped ? 9 : s.c_in * 9, ci_stride = flipped ? s.c_out * 9 : 9;
  launch(winograd_weights_kernel, {dim3(grid_for(int64_t(s.c_out) * s.c_in)), dim3(elementwise_block), 0, stream()},
         FastDivisor(s.c_in), s.c_out, w, co_stride, ci_stride, flipped, u);
}

void transform_input(const Shape3x3& s, const float* x, float* v) {
  const FlopScope flops(12 * 19.0 * s.c_in * s.tiles());
  launch(winograd_input_kernel, {dim3(grid_for(int64_t(s.c_in) * s.tiles())), dim3(elementwise_block), 0, stream()},
         s, WinogradTiles(s.n, s.tiles_h, s.tiles_w), x, v);
}

void transform_output(const Shape3x3& s, const float* m, float* y, const ConvEpilogue& epilogue) {
  const FlopScope flops(10 * 13.0 * s.c_out * s.tiles());
  launch(winograd_output_kernel, {dim3(grid_for(int64_t(s.c_out) * s.tiles())), dim3(elementwise_block), 0, stream()},
         s, WinogradTiles(s.n, s.tiles_h, s.tiles_w), m, y, epilogue);
}

// The weight gradient's G^T (6 -> 3) is of 16 operations, 9 of them a weight.
void transform_weight_grad(const Shape3x3& s, const float* du, float* dw) {
  const FlopScope flops(9 * 16.0 * s.c_out * s.c_in);
  launch(winograd_weight_grad_kernel, {dim3(grid_for(int64_t(s.c_out) * s.c_in)), dim3(elementwise_block), 0, stream()},
         s.c_out * s.c_in, du, dw);
}

ScratchBuffer<float> workspace_u, workspace_v, workspace_m;

}  // namespace

// A's 1-D forms are of 11 (side 6) and 10 (side 5) operations, 10 and 9 of them a tile.
void winograd_output_grad(int side, const WinogradTiles& grid, int channels, int h, int w, const float* dy,
                          float* dm) {
  const int64_t threads = int64_t(channels) * grid.all.divisor;
  const FlopScope flops((side == alpha ? 10 * 11.0 : 9 * 10.0) * threads);
  const auto kernel = side == alpha ? winograd_output_grad_kernel<alpha, output_grad_1d>
                                    : winograd_output_grad_kernel<alpha - 1, output_grad_1d_stride2>;
  launch(kernel, {dim3(grid_for(threads)), dim3(elementwise_block), 0, stream()}, grid, channels, h, w, dy, dm);
}

WinogradWorkspace winograd_workspace(const WinogradProduct& p) {
  const size_t phases = size_t(p.phases);
  return {workspace_u.get(phases * p.rows * p.inner), workspace_v.get(phases * p.inner * p.tiles),
          workspace_m.get(phases * p.rows * p.tiles)};
}

void winograd3x3_conv(const Conv2dShape& shape, const float* x, const float* w, bool flipped, float* y,
                      const ConvEpilogue& epilogue) {
  const Shape3x3 s = shape_of(shape);
  const WinogradProduct product{positions, s.tiles(), s.c_out, s.c_in};
  const WinogradWorkspace work = winograd_workspace(product);
  transform_weights(s, w, flipped, work.u);
  transform_input(s, x, work.v);
  winograd_product(product, work.v, work.u, work.m);
  transform_output(s, work.m, y, epilogue);
}

void winograd3x3_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw) {
  const Shape3x3 s = shape_of(shape);
  const WinogradProduct product{positions, s.tiles(), s.c_out, s.c_in};
  const WinogradWorkspace work = winograd_workspace(product);
  transform_input(s, x, work.v);
  winograd_output_grad(alpha, WinogradTiles(s.n, s.tiles_h, s.tiles_w), s.c_out, s.h_out, s.w_out, dy, work.m);
  winograd_weight_product(product, work.m, work.v, work.u);
  transform_weight_grad(s, work.u, dw);
}

}  // namespace kernels::cuda
