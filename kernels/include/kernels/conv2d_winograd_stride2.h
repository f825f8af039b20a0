#pragma once
// Winograd convolution of 4x4 stride-2 convs on the CPU, forward and input gradient (which is
// also the forward of conv_transpose2d with a 4x4 kernel and stride 2). Splitting the input into
// its four phases (even/odd rows times even/odd columns) makes the forward a 2x2 stride-1 conv
// with 4 Ci input channels, and each of the four output phases of the input gradient a 2x2
// stride-1 conv of dy; both run as Winograd F(4x4, 2x2): 25 GEMMs on transformed 5x5 tiles,
// 2.56x fewer multiplications than the direct conv. Same maths and layouts as kernels/conv2d.h;
// docs/ops/conv2d.md has the derivation, the error and the speed. Legend: Ci/Co the conv's input
// and output channels, H/W its input size, Ho/Wo its output size (floor((H + 2 pad - 4) / 2) + 1).
//
//   x_image, dx_image [Ci, H, W]     w [Co, Ci, 4, 4]     y_image, dy_image [Co, Ho, Wo]
//
// `s` is always the conv's own (forward) shape; `pass` picks the direction:
//   forward          y_image  = conv2d(x_image, w)
//   backward_input   dx_image = d<conv2d(x, w), dy_image>/dx  (0 where no tap reaches)
// Use, for a batch:
//   u = winograd4x4s2_weights_size(s, pass) floats; winograd4x4s2_transform_weights(s, pass, w, u);
//   per thread a workspace of winograd4x4s2_workspace_size(s, pass) floats;
//   per image: winograd4x4s2_image(s, pass, u, in_image, out_image, workspace, 0, panels), with
//   panels = winograd4x4s2_panels(s, pass); or split [0, panels) into ranges, e.g. over threads.
//
// Every function is correct for any shape that passes winograd4x4s2_supports;
// winograd4x4s2_applies says whether it also beats im2col + sgemm there. The image function
// overwrites (=) the part of out_image that its panels cover (all of it over [0, panels); the
// panels' parts are disjoint and computed alike, so the result does not depend on the split), runs
// on the calling thread only (it may be called inside an OpenMP region) and keeps its scratch in
// `workspace`; u, the images and the workspace must not alias. Pointers need no particular alignment.
#include <cstdint>

#include "kernels/conv2d.h"

namespace kernels::cpu {

enum class Winograd4x4s2Pass { forward, backward_input };

// A 4x4 stride-2 conv, pad >= 0, with h_out/w_out consistent with it and at least 1.
bool winograd4x4s2_supports(const Conv2dShape& s);
// Supported, and large enough (channels, output size) that the transforms pay for themselves.
bool winograd4x4s2_applies(const Conv2dShape& s, Winograd4x4s2Pass pass);

// Floats of the transformed weights u.
int64_t winograd4x4s2_weights_size(const Conv2dShape& s, Winograd4x4s2Pass pass);
// u = the Winograd transform of w [Co, Ci, 4, 4], in the layout the image function of `pass` reads.
void winograd4x4s2_transform_weights(const Conv2dShape& s, Winograd4x4s2Pass pass, const float* w, float* u);

// Floats of scratch that one thread needs for the image function.
int64_t winograd4x4s2_workspace_size(const Conv2dShape& s, Winograd4x4s2Pass pass);
// Panels of 16 tiles per image: the units of work of the image function.
int64_t winograd4x4s2_panels(const Conv2dShape& s, Winograd4x4s2Pass pass);
// Panels [panel_begin, panel_end) of one image of `pass` (see above), with u from
// transform_weights(s, pass, w, u).
void winograd4x4s2_image(const Conv2dShape& s, Winograd4x4s2Pass pass, const float* u, const float* in_image,
                         float* out_image, float* workspace, int64_t panel_begin, int64_t panel_end);

}  // namespace kernels::cpu
