// torch.nn.ReflectionPad2d (kernels/reflection_pad2d.h). Legend: h, w input plane, p padding.
// Forward: one thread per padded element; consecutive threads write consecutive elements of a
// row, and their reads are consecutive too except in the 2p reflected edge columns.
// Backward: a gather, one thread per input element, instead of the CPU's scatter: along each
// axis an input index is read by at most three padded indices, so a thread sums at most nine
// values, with no atomics. It visits them in increasing (row, column) order of the padded plane,
// the order in which the CPU scatter adds them, so the two agree bit for bit.
#include "kernels/reflection_pad2d.h"
#include "plane_grid.cuh"

namespace kernels::cuda {
namespace {

// Input index read by padded index i (0 <= i < n + 2p, p < n).
__device__ __forceinline__ int reflect(int i, int n, int pad) {
  i -= pad;
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

// The padded indices that read input index i, in increasing order: `middle` always, `first` (the
// left/top reflection) and `last` (right/bottom) only near the edges. Named fields rather than an
// array, so that nothing is indexed dynamically and everything stays in registers.
struct Readers {
  int first, middle, last;
  bool has_first, has_last;
};

__device__ __forceinline__ Readers readers(int i, int n, int pad) {
  return {pad - i, i + pad, pad + 2 * (n - 1) - i, i >= 1 && i <= pad, i >= n - 1 - pad && i <= n - 2};
}

__device__ __forceinline__ float add_row(float total, const float* row, const Readers& cols) {
  if (cols.has_first) total += row[cols.first];
  total += row[cols.middle];
  if (cols.has_last) total += row[cols.last];
  return total;
}

__global__ void reflection_pad2d_forward_kernel(int64_t planes, int h, int w, int pad, const float* x, float* y) {
  const int out_h = h + 2 * pad, out_w = w + 2 * pad;
  const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
  if (pixel >= out_h * out_w) return;  // no barrier in this kernel
  const int oy = pixel / out_w, ox = pixel - oy * out_w;
  const int source = reflect(oy, h, pad) * w + reflect(ox, w, pad);
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y)
    y[plane * out_h * out_w + pixel] = x[plane * h * w + source];
}

__global__ void reflection_pad2d_backward_kernel(int64_t planes, int h, int w, int pad, const float* dy, float* dx) {
  const int out_w = w + 2 * pad, out_h = h + 2 * pad;
  const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
  if (pixel >= h * w) return;  // no barrier in this kernel
  const int iy = pixel / w, ix = pixel - iy * w;
  const Readers rows = readers(iy, h, pad), cols = readers(ix, w, pad);
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const float* dy_plane = dy + plane * out_h * out_w;
    float total = 0.f;
    if (rows.has_first) total = add_row(total, dy_plane + rows.first * out_w, cols);
    total = add_row(total, dy_plane + rows.middle * out_w, cols);
    if (rows.has_last) total = add_row(total, dy_plane + rows.last * out_w, cols);
    dx[plane * h * w + pixel] = total;
  }
}

}  // namespace

void reflection_pad2d_forward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* x, float* y) {
  const int64_t pixels = (h + 2 * pad) * (w + 2 * pad);
  if (planes * pixels == 0) return;
  launch(reflection_pad2d_forward_kernel, {plane_grid(pixels, planes), dim3(plane_block(pixels)), 0, stream()},
         planes, static_cast<int>(h), static_cast<int>(w), static_cast<int>(pad), x, y);
}

void reflection_pad2d_backward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* dy, float* dx) {
  const int64_t pixels = h * w;
  if (planes * pixels == 0) return;
  launch(reflection_pad2d_backward_kernel, {plane_grid(pixels, planes), dim3(plane_block(pixels)), 0, stream()},
         planes, static_cast<int>(h), static_cast<int>(w), static_cast<int>(pad), dy, dx);
}

}  // namespace kernels::cuda
