// The forward of a stride-1 convolution with at most 4 output channels, and the data gradient of
// one with at most 16 input channels, as a direct convolution (contract: conv2d_direct.cuh;
// docs/kernels.md, "conv2d_direct.cu").
//
// Why not the implicit GEMM: with Co <= 4 the GEMM's n side is at most 4 wide, so every x-patch
// value a tile gathers (a division, a bounds test and an address each) serves at most 4 products
// (3 for G's output conv). Here a thread holds 8 consecutive output pixels of one row for every
// output channel and slides each kernel row along a window of 8 + Kw - 1 inputs held in
// registers: per kernel row 14 shared-memory reads and 7 reads of a float4 of the 4 channels'
// weights (one address for the whole warp: a broadcast) feed 8 x 7 x Co FMAs, 168 for 3 channels.
//
// A block is 256 threads over a 16 x 32 tile of one image's output, as 4 groups of 64 threads:
// group g sums over its quarter of the block's input channels (of C, all Ci or a slice: below),
// ci in [g C4, (g + 1) C4) with C4 = ceil(C / 4), so a launch has 4 times the threads that tiling
// the pixels alone gives (G's output conv at batch 8: 256 blocks of 256 threads). Per step each
// group stages one input channel: the 22 x 38 window of x its tile reads (zeros outside the
// image: the padding) and that channel's Co x Kh x Kw weights, in shared memory; the next step's
// values are read from global memory into registers while the block computes. At the end groups 1-3 leave their sums in shared memory and
// group 0 adds them in group order, ((s0 + s1) + s2) + s3, each s_g one fmaf chain over its
// (ci, r, q) in order.
//
// A launch of few tiles (G's output at batch 1: 32) would leave most SMs idle, so the input
// channels are also split into slices across blocks, as many as round the launch to whole waves
// (wave_slices; 8 at batch 1). Each slice's block sums its channels as above into a workspace
// laid out like y, and a second launch adds the slices in slice order and applies the epilogue.
// Everything is in a fixed order: the same bits on every run and every schedule, and an image's
// output does not depend on the batch it is in (the slices are chosen per launch, so the split
// may differ between batch sizes; the bits of one launch do not depend on the other images).
//
// The data gradient of a stride-1 conv is the stride-1 conv of dy with the kernel flipped and its
// channels swapped (transposed_stride1), whose output channels are the forward's input channels:
// G's input conv (10 channels: the image's 3 and 7 expression maps) has 10. The weights are read
// flipped in place (DirectConv's strides and `flip`), and more than 4 output channels are computed
// in groups of 4 by blocks side by side along x (and a last group of the remainder, by a second
// launch of that many channels), each group's sums in the order above: where the implicit GEMM's
// 16-wide tile computed 16 channels' products for 10, this computes exactly 10.
//
// Shared-memory rows are 65 floats (65 = 1 mod 32): lane (row i < 8, column group j < 4) of a warp
// reading column 8 j + t of staged row i + r hits bank (i + r + 8 j + t) mod 32, 32 different banks
// for the 32 lanes. The partial sums' rows are 33 floats for the same reason.
#include <algorithm>

#include "common.cuh"
#include "conv2d_direct.cuh"
#include "fast_divide.cuh"
#include "wave_slices.h"

namespace kernels::cuda {
namespace {

constexpr int direct_threads = 256, groups = 4, group_threads = direct_threads / groups;
constexpr int tile_rows = 16, tile_cols = 32, row_pixels = 8, max_taps = 7;
constexpr int window = row_pixels + max_taps - 1;  // the inputs one kernel row of 8 pixels reads
constexpr int staged_rows = tile_rows + max_taps - 1, staged_cols = tile_cols + max_taps - 1;
constexpr int staged_stride = 65, plane_size = staged_rows * staged_stride;
constexpr int staged_count = staged_rows * staged_cols;
constexpr int plane_loads = (staged_count + group_threads - 1) / group_threads;
constexpr int tap_slots = max_taps * max_taps, weight_count = tap_slots * 4;  // [r * 7 + q][co]
constexpr int weight_loads = (weight_count + group_threads - 1) / group_threads;
constexpr int partial_stride = tile_cols + 1, partial_size = tile_rows * partial_stride;
constexpr int shared_floats = groups * (plane_size + weight_count);
static_assert(staged_stride >= staged_cols && staged_stride % 32 == 1, "conflict-free window reads");
static_assert(tile_rows == 2 * 8 && tile_cols == 4 * row_pixels, "a group's 2 warps of 8 rows x 4 column groups");
static_assert((groups - 1) * 4 * partial_size <= shared_floats, "the partial sums fit the staging space");
static_assert(groups * plane_size % 4 == 0 && weight_count % 4 == 0, "float4-aligned weights after the planes");

struct DirectConv {
  const float* x;
  const float* w;  // tap (co, ci, r, q) at co co_stride + ci ci_stride + (r k_w + q, or flipped)
  float* out;      // y, or with slices the workspace: slice z's sums at out + z * slice_size
  int c_in, h_in, w_in, h_out, w_out, k_h, k_w, pad;
  int slices, slice_channels, group_channels, slice_size;
  int c_out, co_first, width_tiles;  // y's channels; the launch's first, in groups along x
  int co_stride, ci_stride;
  bool flip;              // taps read at (k_h - 1 - r, k_w - 1 - q)
  ConvEpilogue epilogue;  // empty with slices: the summing launch applies it
};

// What a thread of a group stages per step: its elements of the x window (at t + 64 i of the
// 22 x 38 window, row-major) and of the weights (at t + 64 i of [r * 7 + q][co]).
struct Staging {
  int x_at[plane_loads];    // offset in the channel's plane, or -1: outside the image or the window
  int w_at[weight_loads];   // offset in w of the group's channel 0, or -1: no such tap or channel
  const float* w_first;     // the block's first output channel's taps
  float x_value[plane_loads], w_value[weight_loads];

  // c_out: the block's output channels, from co_first.
  __device__ __forceinline__ Staging(const DirectConv& p, int co_first, int c_out, int t, int oh0, int ow0)
      : w_first(p.w + co_first * p.co_stride) {
#pragma unroll
    for (int i = 0; i < plane_loads; ++i) {
      const int e = t + group_threads * i, ih = oh0 - p.pad + e / staged_cols, iw = ow0 - p.pad + e % staged_cols;
      const bool inside = e < staged_count && ih >= 0 && ih < p.h_in && iw >= 0 && iw < p.w_in;
      x_at[i] = inside ? ih * p.w_in + iw : -1;
    }
#pragma unroll
    for (int i = 0; i < weight_loads; ++i) {
      const int e = t + group_threads * i, co = e % 4, r = e / 4 / max_taps, q = e / 4 % max_taps;
      const bool tap = e < weight_count && co < c_out && r < p.k_h && q < p.k_w;
      const int at = p.flip ? (p.k_h - 1 - r) * p.k_w + p.k_w - 1 - q : r * p.k_w + q;
      w_at[i] = tap ? co * p.co_stride + at : -1;
    }
  }

  // Channel ci of image n into registers; zeros where ci is past the group's channels (!live).
  __device__ __forceinline__ void fetch(const DirectConv& p, int n, int ci, bool live) {
    const float* plane = p.x + (live ? (n * p.c_in + ci) * p.h_in * p.w_in : 0);
    const float* taps = w_first + (live ? ci * p.ci_stride : 0);
#pragma unroll
    for (int i = 0; i < plane_loads; ++i) x_value[i] = live && x_at[i] >= 0 ? plane[x_at[i]] : 0.f;
#pragma unroll
    for (int i = 0; i < weight_loads; ++i) w_value[i] = live && w_at[i] >= 0 ? taps[w_at[i]] : 0.f;
  }

  __device__ __forceinline__ void store(int t, float* plane, float* taps) const {
#pragma unroll
    for (int i = 0; i < plane_loads; ++i) {
      const int e = t + group_threads * i;
      if (e < staged_count) plane[e / staged_cols * staged_stride + e % staged_cols] = x_value[i];
    }
#pragma unroll
    for (int i = 0; i < weight_loads; ++i) {
      const int e = t + group_threads * i;
      if (e < weight_count) taps[e] = w_value[i];
    }
  }
};

__device__ __forceinline__ float component(const float4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// acc[px][co] += the staged channel's taps over the thread's 8 pixels, in (r, q) order.
template <int Co>
__device__ __forceinline__ void accumulate_channel(const float* in, const float4* taps, int k_h, int k_w,
                                                   float (&acc)[row_pixels][Co]) {
#pragma unroll
  for (int r = 0; r < max_taps; ++r) {
    if (r >= k_h) break;
    float v[window];
#pragma unroll
    for (int j = 0; j < window; ++j) v[j] = in[r * staged_stride + j];
#pragma unroll
    for (int q = 0; q < max_taps; ++q) {
      if (q >= k_w) break;
      const float4 tap = taps[r * max_taps + q];
#pragma unroll
      for (int px = 0; px < row_pixels; ++px)
#pragma unroll
        for (int co = 0; co < Co; ++co) acc[px][co] = fmaf(v[px + q], component(tap, co), acc[px][co]);
    }
  }
}

template <int Co>
__global__ void __launch_bounds__(direct_threads, 2) conv2d_direct_kernel(DirectConv p) {
  __shared__ __align__(16) float shared[shared_floats];
  const int group = threadIdx.x / group_threads, t = threadIdx.x % group_threads;
  float* plane = shared + group * plane_size;
  float* taps = shared + groups * plane_size + group * weight_count;
  const int n = blockIdx.z / p.slices, slice = blockIdx.z % p.slices;
  const int channel_group = blockIdx.x / p.width_tiles, co_first = p.co_first + Co * channel_group;
  const int oh0 = blockIdx.y * tile_rows, ow0 = (blockIdx.x - channel_group * p.width_tiles) * tile_cols;
  const int row = t / 32 * 8 + t % 32 / 4, col = t % 4 * row_pixels;  // the thread's first pixel in the tile
  const int slice_first = slice * p.slice_channels, first_channel = slice_first + group * p.group_channels;
  const int slice_end = p.c_in < slice_first + p.slice_channels ? p.c_in : slice_first + p.slice_channels;
  const int channel_end = slice_end < first_channel + p.group_channels ? slice_end : first_channel + p.group_channels;

  Staging staging(p, co_first, Co, t, oh0, ow0);
  staging.fetch(p, n, first_channel, first_channel < channel_end);
  staging.store(t, plane, taps);
  __syncthreads();
  float acc[row_pixels][Co] = {};
  for (int step = 0; step < p.group_channels; ++step) {
    const bool next = step + 1 < p.group_channels;
    if (next) staging.fetch(p, n, first_channel + step + 1, first_channel + step + 1 < channel_end);
    if (first_channel + step < channel_end)
      accumulate_channel<Co>(plane + row * staged_stride + col, reinterpret_cast<const float4*>(taps), p.k_h, p.k_w,
                             acc);
    __syncthreads();
    if (next) staging.store(t, plane, taps);
    __syncthreads();
  }

  // Groups 1-3's sums through shared memory (free after the loop's last barrier) to group 0.
  float* partials = shared + row * partial_stride + col;
  if (group > 0)
#pragma unroll
    for (int co = 0; co < Co; ++co)
#pragma unroll
      for (int px = 0; px < row_pixels; ++px) partials[((group - 1) * Co + co) * partial_size + px] = acc[px][co];
  __syncthreads();
  if (group > 0) return;
  const int oh = oh0 + row;
#pragma unroll
  for (int co = 0; co < Co; ++co)
#pragma unroll
    for (int px = 0; px < row_pixels; ++px) {
      float v = acc[px][co];
#pragma unroll
      for (int g = 1; g < groups; ++g) v += partials[((g - 1) * Co + co) * partial_size + px];
      const int ow = ow0 + col + px;
      if (oh < p.h_out && ow < p.w_out)
        p.out[slice * p.slice_size + ((n * p.c_out + co_first + co) * p.h_out + oh) * p.w_out + ow] =
            apply_epilogue(p.epilogue, co_first + co, v);
    }
}

// y = the slices' sums added in slice order, then the epilogue; element i is in channel
// (i / pixels) mod channels.
__global__ void direct_slices_sum_kernel(int count, int slices, const float* partial, float* y, ConvEpilogue epilogue,
                                         FastDivisor pixels, int channels) {
  for (int i = blockIdx.x * int(blockDim.x) + threadIdx.x; i < count; i += int(gridDim.x) * blockDim.x) {
    float total = partial[i];
    for (int z = 1; z < slices; ++z) total += partial[z * count + i];
    y[i] = apply_epilogue(epilogue, pixels.quotient(i) % channels, total);
  }
}

ScratchBuffer<float> slice_scratch;

// The blocks of a conv s's launches: its output tiles once per group of 4 output channels (and
// once for the remainder's).
int64_t tiles_of(const Conv2dShape& s) {
  return (s.w_out + tile_cols - 1) / tile_cols * ((s.h_out + tile_rows - 1) / tile_rows) * s.n * ((s.c_out + 3) / 4);
}

// Shapes both directions take: stride 1, kernels of at most 7x7, an output of at least 16x16 (its
// 16x32 block tiles at least half used) and a batch that fits gridDim.z.
bool direct_shape(const Conv2dShape& s) {
  return s.stride == 1 && s.k_h >= 1 && s.k_h <= max_taps && s.k_w >= 1 && s.k_w <= max_taps &&
         s.h_out >= tile_rows && s.w_out >= tile_rows && s.n >= 1 && s.n <= 65535;
}

// y = conv2d(x, w) of s (its taps as DirectConv's strides and flip say), then the epilogue: the
// groups of 4 output channels by one launch, the remainder's by another, the slices' sums by a third.
void run(const Conv2dShape& s, int slices, const float* x, const float* w, int co_stride, int ci_stride, bool flip,
         float* y, const ConvEpilogue& epilogue) {
  auto i = [](int64_t v) { return static_cast<int>(v); };
  const int count = i(s.n * s.c_out * s.h_out * s.w_out), slice_channels = i((s.c_in + slices - 1) / slices);
  const int width_tiles = i((s.w_out + tile_cols - 1) / tile_cols), fours = i(s.c_out / 4), rest = i(s.c_out % 4);
  float* out = slices > 1 ? slice_scratch.get(size_t(slices) * count) : y;
  DirectConv p{x, w, out,
               i(s.c_in), i(s.h_in), i(s.w_in), i(s.h_out), i(s.w_out), i(s.k_h), i(s.k_w), i(s.pad),
               slices, slice_channels, (slice_channels + groups - 1) / groups, count,
               i(s.c_out), 0, width_tiles, co_stride, ci_stride, flip,
               slices > 1 ? ConvEpilogue{} : epilogue};
  auto grid = [&](int channel_groups) {
    return dim3(static_cast<unsigned>(width_tiles * channel_groups),
                static_cast<unsigned>((s.h_out + tile_rows - 1) / tile_rows), static_cast<unsigned>(s.n * slices));
  };
  if (fours > 0) launch(conv2d_direct_kernel<4>, {grid(fours), dim3(direct_threads), 0, stream()}, p);
  if (rest > 0) {
    p.co_first = 4 * fours;
    void (*kernel)(DirectConv) = rest == 1   ? conv2d_direct_kernel<1>
                                 : rest == 2 ? conv2d_direct_kernel<2>
                                             : conv2d_direct_kernel<3>;
    launch(kernel, {grid(1), dim3(direct_threads), 0, stream()}, p);
  }
  if (slices > 1)
    launch(direct_slices_sum_kernel, {dim3(grid_for(count)), dim3(elementwise_block), 0, stream()}, count, slices, out,
           y, epilogue, FastDivisor(i(s.h_out * s.w_out)), i(s.c_out));
}

}  // namespace

bool direct_conv_fits(const Conv2dShape& s) { return direct_shape(s) && s.c_out >= 1 && s.c_out <= 4; }

bool direct_data_grad_fits(const Conv2dShape& s) {
  return s.k_h == s.k_w && s.pad <= s.k_h - 1 && s.c_in >= 1 && s.c_in <= 16 && direct_shape(transposed_stride1(s));
}

// At least 8 input channels a slice (2 steps a group: the staging of a step is amortised over
// its Kh x Kw x 8 x Co FMAs a thread, the slice's store and read over its channels), at most 16
// slices, blockIdx.z (n x slices) within 65535 and the workspace within 32-bit indexing.
int direct_conv_slices(const Conv2dShape& s) {
  constexpr int min_slice_channels = 8, max_slices = 16, blocks_per_sm = 2;
  const int64_t count = s.n * s.c_out * s.h_out * s.w_out;
  const int most = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({s.c_in / min_slice_channels, max_slices, 65535 / s.n, INT32_MAX / count})));
  return wave_slices(tiles_of(s), int64_t(blocks_per_sm) * sm_count, most);
}

void conv2d_direct_forward(const Conv2dShape& shape, int slices, const float* x, const float* w, float* y,
                           const ConvEpilogue& epilogue) {
  const int taps = static_cast<int>(shape.k_h * shape.k_w);
  run(shape, slices, x, w, static_cast<int>(shape.c_in) * taps, taps, false, y, epilogue);
}

// The transposed conv's tap (co', ci', r, q) is the forward's w[ci'][co'][K - 1 - r][K - 1 - q].
void conv2d_direct_backward_input(const Conv2dShape& shape, int slices, const float* dy, const float* w, float* dx) {
  const int taps = static_cast<int>(shape.k_h * shape.k_w);
  run(transposed_stride1(shape), slices, dy, w, taps, static_cast<int>(shape.c_in) * taps, true, dx, {});
}

}  // namespace kernels::cuda
