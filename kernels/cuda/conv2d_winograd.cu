// Winograd F(4x4, 3x3) and F(6x6, 3x3) for 3x3 stride-1 convolutions: three transforms around
// the product (contract: conv2d_winograd.cuh; docs/kernels.md, "conv2d_winograd.cu"), and the
// workspaces that both Winograd files share. The GEMM between the transforms is conv2d.cu's
// implicit GEMM, the 36 or 64 positions as its phases: there the products are on the tuned
// tiles, split-K and all.
//
// Why Winograd on the GPU: the product of a 3x3 convolution with 256 channels (G's residual
// block, 2 convs of 6.8e10 FLOPs each in a batch-8 translation) is FMA-bound on any tile; F(4x4,
// 3x3) needs 36 products per channel pair and 4x4 tile where the direct sum needs 144, so the
// GEMM shrinks 4-fold and the transforms, which read and write every value once, add memory
// traffic that is small beside it (per image of 32x32 at 256 channels: 2.4 MB for V, 2.4 MB for
// M). cuDNN's non-fused Winograd works the same way. The error grows: the transforms' constants
// (up to 8 in A^T, 5 in B^T) amplify float rounding, to 1e-5 of the output's magnitude
// (docs/ops/conv2d.md measures it on SARGAN's shapes); the CPU runs the same algorithm.
// F(6x6, 3x3) needs 64 products per 6x6 tile, 1.78 an output against 2.25: where the output's
// side is a multiple of 6 or large (64: 11 tiles of 6 against 16 of 4) its GEMM is 16% smaller
// and so are V and M, at about 1.6x F(4x4)'s rounding on the tests' tables (constants up to 32
// in A^T, 5.25 in B^T); conv2d.cu's rule picks it only there, where the saving is at least 10%.
//
// One thread per (channel, tile) in each transform, the tile index fastest, so that the reads
// of V and M and the writes of V and M coalesce (alpha^2 of each a thread, alpha^2 planes apart);
// the input patch and the output tile are read and written `tile` floats apart across a warp.
// The 1-D transforms run along columns first, then rows. No sums across threads: the bits do not
// depend on the schedule.
#include "common.cuh"
#include "conv2d_winograd.cuh"
#include "kernels/profile_flops.h"

namespace kernels::cuda {
namespace {

// out[0] = a + b, out[1] = a - b: the rows of a pair of points p and -p, whose even and odd
// parts every transform forms once.
__device__ __forceinline__ void plus_minus(float a, float b, float* out) {
  out[0] = a + b;
  out[1] = a - b;
}

// F(4x4, 3x3): the points 0, 1, -1, 2, -2 and infinity, in kernels/cpu/conv2d_winograd.cpp's
// expressions and order. Each 1-D transform's operation count is for the profiler.
struct F4x4 {
  static constexpr int tile = 4, alpha = 6;
  static constexpr double input_ops = 19, weight_ops = 14, output_ops = 13, output_grad_ops = 11,
                          weight_grad_ops = 16;
  // B^T: 6 -> 6.
  static __device__ __forceinline__ void input_1d(const float* d, float* out) {
    const float a = d[4] - 4.f * d[2], b = d[3] - 4.f * d[1], c = d[4] - d[2], e = 2.f * (d[3] - d[1]);
    out[0] = 4.f * d[0] - 5.f * d[2] + d[4];
    plus_minus(a, b, out + 1);
    plus_minus(c, e, out + 3);
    out[5] = 4.f * d[1] - 5.f * d[3] + d[5];
  }
  // G: 3 -> 6.
  static __device__ __forceinline__ void weight_1d(const float* g, float* out) {
    constexpr float sixth = 1.f / 6;  // a product: no division
    const float even = g[0] + g[2], quarter = 0.25f * g[0] + g[2];
    out[0] = 0.25f * g[0];
    out[1] = -sixth * (even + g[1]);
    out[2] = -sixth * (even - g[1]);
    out[3] = sixth * (quarter + 0.5f * g[1]);
    out[4] = sixth * (quarter - 0.5f * g[1]);
    out[5] = g[2];
  }
  // A^T: 6 -> 4.
  static __device__ __forceinline__ void output_1d(const float* m, float* out) {
    const float sum12 = m[1] + m[2], diff12 = m[1] - m[2], sum34 = m[3] + m[4], diff34 = m[3] - m[4];
    out[0] = m[0] + sum12 + sum34;
    out[1] = diff12 + 2.f * diff34;
    out[2] = sum12 + 4.f * sum34;
    out[3] = diff12 + 8.f * diff34 + m[5];
  }
  // The weight gradient's transposed transforms. A: 4 -> 6, the adjoint of A^T (dM = A dy A^T).
  static __device__ __forceinline__ void output_grad_1d(const float* g, float* out) {
    const float even = g[0] + g[2], odd = g[1] + g[3], even4 = g[0] + 4.f * g[2], odd2 = 2.f * g[1] + 8.f * g[3];
    out[0] = g[0];
    plus_minus(even, odd, out + 1);
    plus_minus(even4, odd2, out + 3);
    out[5] = g[3];
  }
  // G^T: 6 -> 3, the adjoint of G (dw = G^T dU G).
  static __device__ __forceinline__ void weight_grad_1d(const float* u, float* out) {
    constexpr float sixth = 1.f / 6, twelfth = 1.f / 12, twenty_fourth = 1.f / 24;  // products: no division
    const float sum12 = u[1] + u[2], diff12 = u[2] - u[1], sum34 = u[3] + u[4], diff34 = u[3] - u[4];
    out[0] = 0.25f * u[0] - sixth * sum12 + twenty_fourth * sum34;
    out[1] = sixth * diff12 + twelfth * diff34;
    out[2] = -sixth * sum12 + sixth * sum34 + u[5];
  }
};

// F(6x6, 3x3): the points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity, with G's rows scaled so that
// A^T holds the points' powers (1, 2^k, 2^-k) and B^T small multiples of 1/4 (Lavin and Gray,
// "Fast algorithms for convolutional neural networks", 2016; NNPACK's and ncnn's scaling):
//   B^T = [1  0   -21/4  0     21/4   0    -1 0]   G = [1      0      0   ]   A^T = [1 1  1  1   1   1    1    0]
//         [0  1    1    -17/4 -17/4   1     1 0]       [-2/9  -2/9   -2/9 ]         [0 1 -1  2  -2  1/2 -1/2  0]
//         [0 -1    1     17/4 -17/4  -1     1 0]       [-2/9   2/9   -2/9 ]         [0 1  1  4   4  1/4  1/4  0]
//         [0  1/2  1/4  -5/2  -5/4    2     1 0]       [1/90   1/45   2/45]         [0 1 -1  8  -8  1/8 -1/8  0]
//         [0 -1/2  1/4   5/2  -5/4   -2     1 0]       [1/90  -1/45   2/45]         [0 1  1 16  16 1/16 1/16 0]
//         [0  2    4    -5/2  -5      1/2   1 0]       [32/45  16/45  8/45]         [0 1 -1 32 -32 1/32 -1/32 1]
//         [0 -2    4     5/2  -5     -1/2   1 0]       [32/45 -16/45  8/45]
//         [0 -1    0     21/4  0    -21/4   0 1]       [0      0      1   ]
// The constants below are those fractions; floats of a quotient are products, never divisions.
struct F6x6 {
  static constexpr int tile = 6, alpha = 8;
  static constexpr double input_ops = 38, weight_ops = 17, output_ops = 34, output_grad_ops = 28,
                          weight_grad_ops = 23;
  // B^T: 8 -> 8.
  static __device__ __forceinline__ void input_1d(const float* d, float* out) {
    out[0] = d[0] - d[6] + 5.25f * (d[4] - d[2]);
    out[7] = d[7] - d[1] + 5.25f * (d[3] - d[5]);
    const float a1 = d[2] + d[6] - 4.25f * d[4], b1 = d[1] + d[5] - 4.25f * d[3];
    plus_minus(a1, b1, out + 1);
    const float a2 = d[6] + 0.25f * d[2] - 1.25f * d[4], b2 = 0.5f * d[1] - 2.5f * d[3] + 2.f * d[5];
    plus_minus(a2, b2, out + 3);
    const float a3 = d[6] + 4.f * (d[2] - 1.25f * d[4]), b3 = 2.f * d[1] - 2.5f * d[3] + 0.5f * d[5];
    plus_minus(a3, b3, out + 5);
  }
  static constexpr float two_ninths = 2.f / 9, ninetieth = 1.f / 90, one_45th = 1.f / 45, two_45ths = 2.f / 45,
                         eight_45ths = 8.f / 45, sixteen_45ths = 16.f / 45, thirty_two_45ths = 32.f / 45;
  // G: 3 -> 8.
  static __device__ __forceinline__ void weight_1d(const float* g, float* out) {
    const float even = g[0] + g[2];
    out[0] = g[0];
    out[1] = -two_ninths * (even + g[1]);
    out[2] = -two_ninths * (even - g[1]);
    const float a = ninetieth * g[0] + two_45ths * g[2], b = one_45th * g[1];
    plus_minus(a, b, out + 3);
    const float c = thirty_two_45ths * g[0] + eight_45ths * g[2], e = sixteen_45ths * g[1];
    plus_minus(c, e, out + 5);
    out[7] = g[2];
  }
  // A^T: 8 -> 6.
  static __device__ __forceinline__ void output_1d(const float* m, float* out) {
    const float a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4], e = m[5] + m[6], f = m[5] - m[6];
    out[0] = m[0] + a + c + e;
    out[1] = b + 2.f * d + 0.5f * f;
    out[2] = a + 4.f * c + 0.25f * e;
    out[3] = b + 8.f * d + 0.125f * f;
    out[4] = a + 16.f * c + 0.0625f * e;
    out[5] = b + 32.f * d + 0.03125f * f + m[7];
  }
  // A: 6 -> 8, the adjoint of A^T.
  static __device__ __forceinline__ void output_grad_1d(const float* g, float* out) {
    const float even = g[0] + g[2] + g[4], odd = g[1] + g[3] + g[5];
    const float even4 = g[0] + 4.f * g[2] + 16.f * g[4], odd2 = 2.f * g[1] + 8.f * g[3] + 32.f * g[5];
    const float even_quarter = g[0] + 0.25f * g[2] + 0.0625f * g[4],
                odd_half = 0.5f * g[1] + 0.125f * g[3] + 0.03125f * g[5];
    out[0] = g[0];
    plus_minus(even, odd, out + 1);
    plus_minus(even4, odd2, out + 3);
    plus_minus(even_quarter, odd_half, out + 5);
    out[7] = g[5];
  }
  // G^T: 8 -> 3, the adjoint of G.
  static __device__ __forceinline__ void weight_grad_1d(const float* u, float* out) {
    const float sum12 = u[1] + u[2], diff12 = u[2] - u[1], sum34 = u[3] + u[4], diff34 = u[3] - u[4];
    const float sum56 = u[5] + u[6], diff56 = u[5] - u[6];
    out[0] = u[0] - two_ninths * sum12 + ninetieth * sum34 + thirty_two_45ths * sum56;
    out[1] = two_ninths * diff12 + one_45th * diff34 + sixteen_45ths * diff56;
    out[2] = -two_ninths * sum12 + two_45ths * sum34 + eight_45ths * sum56 + u[7];
  }
};

// F(4x4, 2x2)'s A (conv2d_winograd_stride2.cu's weight gradient): 4 -> 5, the adjoint of that
// file's A^T.
struct F4x4Stride2Grad {
  static constexpr int tile = 4, alpha = 5;
  static constexpr double output_grad_ops = 10;
  static __device__ __forceinline__ void output_grad_1d(const float* g, float* out) {
    const float even = g[0] + g[2], odd = g[1] + g[3];
    out[0] = g[0];
    plus_minus(even, odd, out + 1);
    out[3] = g[0] + 0.5f * g[1] + 0.25f * g[2] + 0.125f * g[3];
    out[4] = g[3];
  }
};

// The conv in the tiles it is computed in.
struct Shape3x3 {
  int n, c_in, h_in, w_in, c_out, pad, h_out, w_out;
  int tiles_h, tiles_w;  // ceil(h_out / tile), ceil(w_out / tile)
  int reflected;         // rows and columns the padding reflects: pad for a reflect conv, else 0
  int tiles() const { return n * tiles_h * tiles_w; }
};

template <class F>
Shape3x3 shape_of(const Conv2dShape& s) {
  auto i = [](int64_t v) { return static_cast<int>(v); };
  const int h_out = i(s.h_out), w_out = i(s.w_out);
  const int tiles_h = (h_out + F::tile - 1) / F::tile, tiles_w = (w_out + F::tile - 1) / F::tile;
  return {i(s.n), i(s.c_in), i(s.h_in), i(s.w_in), i(s.c_out), i(s.pad), h_out, w_out, tiles_h, tiles_w, s.reflect ? i(s.pad) : 0};
}

// Thread i = co c_in + ci: u[xi][co][ci]. w[co][ci] is w[co co_stride + ci ci_stride + tap],
// tap k or 8 - k (flipped).
template <class F>
__global__ void __launch_bounds__(elementwise_block) winograd_weights_kernel(FastDivisor c_in, int c_out,
                                                                             const float* w, int co_stride,
                                                                             int ci_stride, bool flip, float* u) {
  constexpr int alpha = F::alpha;
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
      const float column[3] = {g[j], g[3 + j], g[6 + j]};
      F::weight_1d(column, row);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][j] = row[a];
    }
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      F::weight_1d(half[a], row);
#pragma unroll
      for (int b = 0; b < alpha; ++b) u[(a * alpha + b) * plane + i] = row[b];
    }
  }
}

// Thread i = ci T + t: v[xi][ci][t].
template <class F>
__global__ void __launch_bounds__(elementwise_block) winograd_input_kernel(Shape3x3 s, WinogradTiles index,
                                                                           const float* x, float* v) {
  constexpr int alpha = F::alpha;
  const int plane = s.c_in * index.all.divisor;  // of one position in v; a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);
    const float* image = x + (at.n * s.c_in + at.channel) * s.h_in * s.w_in;
    const int ih0 = at.th * F::tile - s.pad, iw0 = at.tw * F::tile - s.pad;
    float half[alpha][alpha], column[alpha], row[alpha];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
#pragma unroll
      for (int a = 0; a < alpha; ++a) column[a] = padded_value(image, ih0 + a, iw0 + b, s.h_in, s.w_in, s.reflected);
      F::input_1d(column, row);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][b] = row[a];
    }
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      F::input_1d(half[a], row);
#pragma unroll
      for (int b = 0; b < alpha; ++b) v[(a * alpha + b) * plane + i] = row[b];
    }
  }
}

// Thread i = co T + t: the tile's outputs that lie inside y.
template <class F>
__global__ void __launch_bounds__(elementwise_block) winograd_output_kernel(Shape3x3 s, WinogradTiles index,
                                                                            const float* m, float* y,
                                                                            ConvEpilogue epilogue) {
  constexpr int alpha = F::alpha, tile = F::tile;
  const int plane = s.c_out * index.all.divisor;  // of one position in m; a thread per tile of y
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);
    float half[tile][alpha], column[alpha], row[tile];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
#pragma unroll
      for (int a = 0; a < alpha; ++a) column[a] = m[(a * alpha + b) * plane + i];
      F::output_1d(column, row);
#pragma unroll
      for (int a = 0; a < tile; ++a) half[a][b] = row[a];
    }
    float* out = y + (at.n * s.c_out + at.channel) * s.h_out * s.w_out;
    const int oh0 = at.th * tile, ow0 = at.tw * tile;
#pragma unroll
    for (int a = 0; a < tile; ++a) {
      F::output_1d(half[a], row);
#pragma unroll
      for (int b = 0; b < tile; ++b)
        if (oh0 + a < s.h_out && ow0 + b < s.w_out)
          out[(oh0 + a) * s.w_out + ow0 + b] = apply_epilogue(epilogue, at.channel, row[b]);
    }
  }
}

// Thread i = c T + t: dM[xi][c][t] = (A dy_tile A^T)[xi], dy's tile x tile tile with zeros past
// its edges; A given by its 1-D form F::output_grad_1d (tile values -> alpha), applied down the
// columns, then along the rows.
template <class F>
__global__ void __launch_bounds__(elementwise_block) winograd_output_grad_kernel(WinogradTiles index, int channels,
                                                                                 int h, int w, const float* dy,
                                                                                 float* dm) {
  constexpr int alpha = F::alpha, tile = F::tile;
  const int plane = channels * index.all.divisor;  // of one position in dm; a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    const WinogradTiles::At at = index.at(i);
    const float* image = dy + (at.n * channels + at.channel) * h * w;
    const int oh0 = at.th * tile, ow0 = at.tw * tile;
    float half[alpha][tile], column[tile], row[alpha];
#pragma unroll
    for (int b = 0; b < tile; ++b) {
#pragma unroll
      for (int a = 0; a < tile; ++a)
        column[a] = oh0 + a < h && ow0 + b < w ? image[(oh0 + a) * w + ow0 + b] : 0.f;
      F::output_grad_1d(column, row);
#pragma unroll
      for (int a = 0; a < alpha; ++a) half[a][b] = row[a];
    }
#pragma unroll
    for (int a = 0; a < alpha; ++a) {
      F::output_grad_1d(half[a], row);
#pragma unroll
      for (int b = 0; b < alpha; ++b) dm[(a * alpha + b) * plane + i] = row[b];
    }
  }
}

// Thread i = co c_in + ci: dw[co][ci] = G^T dU[.][co][ci] G.
template <class F>
__global__ void __launch_bounds__(elementwise_block) winograd_weight_grad_kernel(int count, const float* du,
                                                                                 float* dw) {
  constexpr int alpha = F::alpha;
  const int plane = count;  // of one position in du: c_out c_in, a thread per element
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < plane; i += int(gridDim.x) * blockDim.x) {
    float half[3][alpha], column[alpha], row[3];
#pragma unroll
    for (int b = 0; b < alpha; ++b) {
#pragma unroll
      for (int a = 0; a < alpha; ++a) column[a] = du[(a * alpha + b) * plane + i];
      F::weight_grad_1d(column, row);
#pragma unroll
      for (int a = 0; a < 3; ++a) half[a][b] = row[a];
    }
#pragma unroll
    for (int a = 0; a < 3; ++a) {
      F::weight_grad_1d(half[a], row);
#pragma unroll
      for (int b = 0; b < 3; ++b) dw[i * 9 + a * 3 + b] = row[b];
    }
  }
}

// Each launch tells the emulator profiler its own arithmetic (kernels/profile_flops.h), which
// the op's FLOP count, that of the direct convolution, would overstate: per thread 3 + alpha 1-D
// transforms G (weights), 2 alpha of B^T (input), alpha + tile of A^T (output), alpha + 3 of G^T
// (weight gradient), of the operations F counts in its expressions.
template <class F>
void transform_weights(const Shape3x3& s, const float* w, bool flipped, float* u) {
  const FlopScope flops((3 + F::alpha) * F::weight_ops * s.c_out * s.c_in);
  const int co_stride = flipped ? 9 : s.c_in * 9, ci_stride = flipped ? s.c_out * 9 : 9;
  launch(winograd_weights_kernel<F>,
         {dim3(grid_for(int64_t(s.c_out) * s.c_in)), dim3(elementwise_block), 0, stream()}, FastDivisor(s.c_in),
         s.c_out, w, co_stride, ci_stride, flipped, u);
}

template <class F>
void transform_input(const Shape3x3& s, const float* x, float* v) {
  const FlopScope flops(2 * F::alpha * F::input_ops * s.c_in * s.tiles());
  launch(winograd_input_kernel<F>, {dim3(grid_for(int64_t(s.c_in) * s.tiles())), dim3(elementwise_block), 0, stream()},
         s, WinogradTiles(s.n, s.tiles_h, s.tiles_w), x, v);
}

template <class F>
void transform_output(const Shape3x3& s, const float* m, float* y, const ConvEpilogue& epilogue) {
  const FlopScope flops((F::alpha + F::tile) * F::output_ops * s.c_out * s.tiles());
  launch(winograd_output_kernel<F>,
         {dim3(grid_for(int64_t(s.c_out) * s.tiles())), dim3(elementwise_block), 0, stream()}, s,
         WinogradTiles(s.n, s.tiles_h, s.tiles_w), m, y, epilogue);
}

template <class F>
void transform_weight_grad(const Shape3x3& s, const float* du, float* dw) {
  const FlopScope flops((F::alpha + 3) * F::weight_grad_ops * s.c_out * s.c_in);
  launch(winograd_weight_grad_kernel<F>,
         {dim3(grid_for(int64_t(s.c_out) * s.c_in)), dim3(elementwise_block), 0, stream()}, s.c_out * s.c_in, du, dw);
}

// dM from dy: tile + alpha 1-D transforms A a thread.
template <class F>
void transform_output_grad(const WinogradTiles& grid, int channels, int h, int w, const float* dy, float* dm) {
  const int64_t threads = int64_t(channels) * grid.all.divisor;
  const FlopScope flops((F::tile + F::alpha) * F::output_grad_ops * threads);
  launch(winograd_output_grad_kernel<F>, {dim3(grid_for(threads)), dim3(elementwise_block), 0, stream()}, grid,
         channels, h, w, dy, dm);
}

template <class F>
void conv(const Conv2dShape& shape, const float* x, const float* w, bool flipped, float* y,
          const ConvEpilogue& epilogue) {
  const Shape3x3 s = shape_of<F>(shape);
  const WinogradProduct product{F::alpha * F::alpha, s.tiles(), s.c_out, s.c_in};
  const WinogradWorkspace work = winograd_workspace(product);
  transform_weights<F>(s, w, flipped, work.u);
  transform_input<F>(s, x, work.v);
  winograd_product(product, work.v, work.u, work.m);
  transform_output<F>(s, work.m, y, epilogue);
}

template <class F>
void backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw) {
  const Shape3x3 s = shape_of<F>(shape);
  const WinogradProduct product{F::alpha * F::alpha, s.tiles(), s.c_out, s.c_in};
  const WinogradWorkspace work = winograd_workspace(product);
  transform_input<F>(s, x, work.v);
  transform_output_grad<F>(WinogradTiles(s.n, s.tiles_h, s.tiles_w), s.c_out, s.h_out, s.w_out, dy, work.m);
  winograd_weight_product(product, work.m, work.v, work.u);
  transform_weight_grad<F>(s, work.u, dw);
}

ScratchBuffer<float> workspace_u, workspace_v, workspace_m;

}  // namespace

void winograd_output_grad_stride2(const WinogradTiles& grid, int channels, int h, int w, const float* dy,
                                  float* dm) {
  transform_output_grad<F4x4Stride2Grad>(grid, channels, h, w, dy, dm);
}

WinogradWorkspace winograd_workspace(const WinogradProduct& p) {
  const size_t phases = size_t(p.phases);
  return {workspace_u.get(phases * p.rows * p.inner), workspace_v.get(phases * p.inner * p.tiles),
          workspace_m.get(phases * p.rows * p.tiles)};
}

void winograd3x3_conv(int tile, const Conv2dShape& shape, const float* x, const float* w, bool flipped, float* y,
                      const ConvEpilogue& epilogue) {
  return tile == 6 ? conv<F6x6>(shape, x, w, flipped, y, epilogue) : conv<F4x4>(shape, x, w, flipped, y, epilogue);
}

void winograd3x3_backward_weight(int tile, const Conv2dShape& shape, const float* x, const float* dy, float* dw) {
  return tile == 6 ? backward_weight<F6x6>(shape, x, dy, dw) : backward_weight<F4x4>(shape, x, dy, dw);
}

}  // namespace kernels::cuda
