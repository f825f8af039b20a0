#pragma once
// torch.nn.ReflectionPad2d(pad) on `planes` = N*C contiguous planes of h x w.
// Legend: N batch, C channels, H height (h), W width (w), p padding.
// forward:  x [planes, h, w] -> y [planes, h+2p, w+2p] (=); padded row/column i reads
//           input index reflect(i - p), where reflect(-k) = k and reflect(h-1+k) = h-1-k.
// backward: dy [planes, h+2p, w+2p] -> dx [planes, h, w] (=): each input element sums the
//           padded elements that read it. The map is linear, so the backward of this backward
//           is the forward again.
// Requires 0 <= p < h and p < w (one reflection reaches every padded index). x and y, dy and dx
// must not alias. A GPU backward can gather instead of scatter: along each axis an input index is
// read by at most three padded indices (i + p, p - i, and p + 2(h-1) - i), so one thread per
// input element sums at most nine values, with no atomics and a fixed order.
#include <cstdint>

namespace kernels {
namespace cpu {
void reflection_pad2d_forward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* x,
                              float* y);
void reflection_pad2d_backward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* dy,
                               float* dx);
}  // namespace cpu
namespace cuda {
void reflection_pad2d_forward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* x,
                              float* y);
void reflection_pad2d_backward(int64_t planes, int64_t h, int64_t w, int64_t pad, const float* dy,
                               float* dx);
}  // namespace cuda
}  // namespace kernels
