#pragma once
// The forward of a stride-1 convolution with at most 4 output channels (G's output conv: 64 -> 3,
// 7x7), as a direct convolution instead of conv2d.cu's implicit GEMM (design: conv2d_direct.cu).
// conv2d_forward picks it (rule: kernels::cuda::conv2d_forward_direct_slices in kernels/conv2d.h).
#include "kernels/conv2d.h"

namespace kernels::cuda {

// Whether the direct kernel takes `shape`: stride 1, 1 to 4 output channels, kernels of at most
// 7x7, an output of at least 16x16 (its 16x32 block tiles at least half used) and a batch that
// fits gridDim.z.
bool direct_conv_fits(const Conv2dShape& shape);

// The slices its input channels are split into across blocks for `shape` (1: none), as many as
// round the launch to whole waves of resident blocks (kernels/cuda/wave_slices.h).
int direct_conv_slices(const Conv2dShape& shape);

// y = conv2d(x, w), then the epilogue, as kernels/conv2d.h's conv2d_forward, in `slices` channel
// slices (direct_conv_slices). `shape` fits (direct_conv_fits) and its tensors index in 32 bits
// (conv2d.cu's dims_of checked).
void conv2d_direct_forward(const Conv2dShape& shape, int slices, const float* x, const float* w, float* y,
                           const ConvEpilogue& epilogue);

}  // namespace kernels::cuda
