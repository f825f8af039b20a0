// F.interpolate(mode='nearest') to any size (kernels/upsample_nearest2d.h), with the CPU's source
// rule upsample_nearest_source (PyTorch's nearest_idx) evaluated on the device, so no table.
// Forward: one thread per output element (coalesced writes; x2 reads each input twice from cache).
// Backward: a gather, one thread per input element, over the rectangle of outputs that copied it
// (the source map is monotone, so each input index owns a contiguous run of output indices). The
// sums follow the CPU's order exactly (each column's rows first, then the columns), so the two
// agree bit for bit; no atomics, no zeroing pass.
#include "kernels/upsample_nearest2d.h"
#include "plane_grid.cuh"

namespace kernels::cuda {
namespace {

// The first output index whose source is >= i (out when none is). Starts from the real-valued
// answer ceil(i * out / in) and steps over the few indices where the float scale of
// upsample_nearest_source rounds the other way; the map is monotone, so the steps are correct.
__device__ __forceinline__ int first_destination(int i, int in_size, int out_size) {
  int d = static_cast<int>((static_cast<int64_t>(i) * out_size + in_size - 1) / in_size);
  if (d > out_size) d = out_size;
  while (d > 0 && upsample_nearest_source(d - 1, in_size, out_size) >= i) --d;
  while (d < out_size && upsample_nearest_source(d, in_size, out_size) < i) ++d;
  return d;
}

__global__ void upsample_nearest2d_forward_kernel(int64_t planes, int in_h, int in_w, int out_h, int out_w,
                                                  const float* x, float* y) {
  const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
  if (pixel >= out_h * out_w) return;  // no barrier in this kernel
  const int oy = pixel / out_w, ox = pixel - oy * out_w;
  const int source = static_cast<int>(upsample_nearest_source(oy, in_h, out_h) * in_w +
                                      upsample_nearest_source(ox, in_w, out_w));
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y)
    y[plane * out_h * out_w + pixel] = x[plane * in_h * in_w + source];
}

__global__ void upsample_nearest2d_backward_kernel(int64_t planes, int in_h, int in_w, int out_h, int out_w,
                                                   const float* dy, float* dx) {
  const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
  if (pixel >= in_h * in_w) return;  // no barrier in this kernel
  const int iy = pixel / in_w, ix = pixel - iy * in_w;
  const int row_begin = first_destination(iy, in_h, out_h), row_end = first_destination(iy + 1, in_h, out_h);
  const int col_begin = first_destination(ix, in_w, out_w), col_end = first_destination(ix + 1, in_w, out_w);
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const float* dy_plane = dy + plane * out_h * out_w;
    float total = 0.f;  // stays 0 when no output copied this element (downsampling)
    if (row_begin < row_end) {
      for (int ox = col_begin; ox < col_end; ++ox) {
        float column = dy_plane[row_begin * out_w + ox];
        for (int oy = row_begin + 1; oy < row_end; ++oy) column += dy_plane[oy * out_w + ox];
        total += column;
      }
    }
    dx[plane * in_h * in_w + pixel] = total;
  }
}

}  // namespace

void upsample_nearest2d_forward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                const float* x, float* y) {
  const int64_t pixels = out_h * out_w;
  if (planes * pixels == 0) return;
  launch(upsample_nearest2d_forward_kernel, {plane_grid(pixels, planes), dim3(plane_block(pixels)), 0, stream()},
         planes, static_cast<int>(in_h), static_cast<int>(in_w), static_cast<int>(out_h), static_cast<int>(out_w), x,
         y);
}

void upsample_nearest2d_backward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                 const float* dy, float* dx) {
  const int64_t pixels = in_h * in_w;
  if (planes * pixels == 0) return;
  launch(upsample_nearest2d_backward_kernel, {plane_grid(pixels, planes), dim3(plane_block(pixels)), 0, stream()},
         planes, static_cast<int>(in_h), static_cast<int>(in_w), static_cast<int>(out_h), static_cast<int>(out_w), dy,
         dx);
}

}  // namespace kernels::cuda
