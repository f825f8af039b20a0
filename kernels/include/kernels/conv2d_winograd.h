#pragma once
// Winograd F(4x4, 3x3) convolution on the CPU: a 3x3, stride-1 conv2d (zero padding `pad` >= 0)
// of one image, as 36 small GEMMs on transformed 6x6 tiles instead of 9 taps per output (2.25x
// fewer multiplications). Same maths and layouts as kernels/conv2d.h; docs/ops/conv2d.md has the
// algorithm, its error and its speed. Legend: Ci/Co input/output channels, H/W input size, Ho/Wo
// output size (Ho = H + 2 pad - 2, Wo likewise).
//
//   x_image [Ci, H, W]     w [Co, Ci, 3, 3]     y_image [Co, Ho, Wo]
//
// Use, for a batch:
//   u = winograd3x3_weights_size(s) floats;  winograd3x3_transform_weights(s, w, u);   (once)
//   per thread a workspace of winograd3x3_workspace_size(s) floats;
//   per image n: winograd3x3_forward_image(s, u, x + n Ci H W, y + n Co Ho Wo, workspace).
// The input gradient of such a conv is a conv of the same kind: the stride-1 conv of dy with the
// flipped, channel-transposed kernel and padding 2 - pad (kernels::transposed_stride1), whose
// weights winograd3x3_transform_weights_flipped makes from the forward's w without a copy.
//
// Every function is correct for any shape that passes winograd3x3_supports; winograd3x3_applies
// says whether it also beats im2col + sgemm there. forward_image overwrites y_image (=), runs on
// the calling thread only (it may be called from inside an OpenMP region, one image per thread)
// and keeps all its scratch in `workspace`; u, x_image and y_image must not alias it or each other.
// Pointers need no particular alignment.
#include <cstdint>

#include "kernels/conv2d.h"

namespace kernels::cpu {

// A 3x3 stride-1 conv, pad >= 0, with h_out/w_out consistent with it and at least 1.
bool winograd3x3_supports(const Conv2dShape& s);
// Supported, and large enough (channels, output size) that the transforms pay for themselves.
bool winograd3x3_applies(const Conv2dShape& s);

// Floats of the transformed weights u (Co rounded up to a multiple of 6, times Ci, times 36).
int64_t winograd3x3_weights_size(const Conv2dShape& s);
// u = the Winograd transform G w G^T of w [Co, Ci, 3, 3], in the layout forward_image reads.
void winograd3x3_transform_weights(const Conv2dShape& s, const float* w, float* u);
// The same for the input-gradient conv: s is that conv (c_in = the forward's Co, c_out = the
// forward's Ci) and w the forward's weight [s.c_in, s.c_out, 3, 3], read flipped and transposed.
void winograd3x3_transform_weights_flipped(const Conv2dShape& s, const float* w, float* u);

// Floats of scratch that one thread needs for forward_image.
int64_t winograd3x3_workspace_size(const Conv2dShape& s);
// y_image = conv2d(x_image, w) for one image, with u from transform_weights(s, w, u).
void winograd3x3_forward_image(const Conv2dShape& s, const float* u, const float* x_image, float* y_image,
                               float* workspace);

}  // namespace kernels::cpu
