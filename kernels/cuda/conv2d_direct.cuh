#pragma once
// The forward of a stride-1 convolution with at most 4 output channels (G's output conv: 64 -> 3,
// 7x7) and the data gradient of one with at most 16 input channels (G's input conv: 10 -> 64,
// 7x7), as a direct convolution instead of conv2d.cu's implicit GEMM (design: conv2d_direct.cu).
// conv2d_forward and conv2d_backward_input pick it (rules: kernels::cuda::conv2d_forward_direct_slices
// and conv2d_backward_input_direct_slices in kernels/conv2d.h).
#include "kernels/conv2d.h"

namespace kernels::cuda {

// Whether the direct kernel takes the forward of `shape`: stride 1, 1 to 4 output channels,
// kernels of at most 7x7, an output of at least 16x16 (its 16x32 block tiles at least half used)
// and a batch that fits gridDim.z.
bool direct_conv_fits(const Conv2dShape& shape);
// Whether it takes the data gradient of `shape` (the forward's): square kernels, padding below
// the kernel's side, 1 to 16 input channels, and the transposed conv (transposed_stride1) of
// those sizes.
bool direct_data_grad_fits(const Conv2dShape& shape);

// The slices the input channels of the conv `shape` are split into across blocks (1: none), as
// many as round its launch to whole waves of resident blocks (kernels/cuda/wave_slices.h). For
// the data gradient, the transposed conv's.
int direct_conv_slices(const Conv2dShape& shape);

// y = conv2d(x, w), then the epilogue, as kernels/conv2d.h's conv2d_forward, in `slices` channel
// slices (direct_conv_slices). `shape` fits (direct_conv_fits) and its tensors index in 32 bits
// (conv2d.cu's dims_of checked).
void conv2d_direct_forward(const Conv2dShape& shape, int slices, const float* x, const float* w, float* y,
                           const ConvEpilogue& epilogue);
// dx = kernels/conv2d.h's conv2d_backward_input of the forward `shape` (direct_data_grad_fits), in
// `slices` slices of dy's channels (direct_conv_slices of transposed_stride1(shape)).
void conv2d_direct_backward_input(const Conv2dShape& shape, int slices, const float* dy, const float* w, float* dx);

}  // namespace kernels::cuda
