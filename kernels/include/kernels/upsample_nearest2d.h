#pragma once
// F.interpolate(x, size=(out_h, out_w), mode='nearest') on `planes` = N*C contiguous planes.
// Legend: N batch, C channels, H height, W width.
// forward:  x [planes, in_h, in_w] -> y [planes, out_h, out_w] (=),
//           y[oy, ox] = x[upsample_nearest_source(oy, in_h, out_h), upsample_nearest_source(ox, ...)].
// backward: dy [planes, out_h, out_w] -> dx [planes, in_h, in_w] (=): each input element sums the
//           outputs that copied it. Linear, so the backward of this backward is the forward.
// Sizes are >= 1; inputs and outputs must not alias. The source index is a pure function of the
// destination index, so a GPU forward needs no table; a GPU backward can gather per input element
// over the contiguous run of destinations that map to it (the map is monotone).
#include <cmath>
#include <cstdint>

namespace kernels {

// PyTorch's nearest_idx (aten/src/ATen/native/UpSample.h), bit for bit: exact for equal sizes and
// for x2, otherwise floor(dst * scale) with scale = in / out computed in float, clamped to in - 1.
// Marked for both compilers so that the CUDA kernels use the same rule.
#if defined(__CUDACC__)
__host__ __device__
#endif
inline int64_t upsample_nearest_source(int64_t dst, int64_t in_size, int64_t out_size) {
  if (out_size == in_size) return dst;
  if (out_size == 2 * in_size) return dst >> 1;
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const int64_t src = static_cast<int64_t>(floorf(static_cast<float>(dst) * scale));
  return src < in_size - 1 ? src : in_size - 1;
}

namespace cpu {
void upsample_nearest2d_forward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w, const float* x, float* y);
void upsample_nearest2d_backward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                 int64_t out_w, const float* dy, float* dx);
}  // namespace cpu
namespace cuda {
void upsample_nearest2d_forward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w, const float* x, float* y);
void upsample_nearest2d_backward(int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                 int64_t out_w, const float* dy, float* dx);
}  // namespace cuda
}  // namespace kernels
