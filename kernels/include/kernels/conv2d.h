#pragma once
// 2-d convolution (cross-correlation, as torch.nn.functional.conv2d) with one stride and one
// padding for both spatial dimensions, and its two gradients. Legend: N batch, Ci input channels,
// Co output channels, H/W input size, Kh/Kw kernel size, Ho/Wo output size.
//
//   x  [N, Ci, H, W]     w  [Co, Ci, Kh, Kw]     y  [N, Co, Ho, Wo]
//   Ho = (H + 2 pad - Kh) / stride + 1 (floor), Wo likewise; the caller fills every field.
//
// All tensors are contiguous NCHW float32 on the kernel's device. Every output is overwritten (=),
// never accumulated into, and must not alias an input.
//   conv2d_forward          y  = conv2d(x, w), then the ConvEpilogue below if one is given
//   conv2d_backward_input   dx = d<conv2d(x, w), dy>/dx, i.e. conv_transpose2d(dy, w) cropped to
//                           [N, Ci, H, W]; input positions no kernel tap reaches get 0. This is
//                           also the forward of conv_transpose2d (with the conv's roles swapped).
//   conv2d_backward_weight  dw = d<conv2d(x, w), dy>/dw, summed over the batch.
// `precision` (kernels/precision.h) selects the CUDA kernels' arithmetic; the CPU ignores it.
// On the CPU the forward and the input gradient give an image the same bits whatever batch it is
// in (a translation does not depend on the batch size); the weight gradient, a sum over the batch,
// does not promise that, nor do the CUDA kernels, whose split of the GEMM follows the problem size.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/precision.h"

namespace kernels {

struct Conv2dShape {
  int64_t n = 0;
  int64_t c_in = 0, h_in = 0, w_in = 0;
  int64_t c_out = 0;
  int64_t k_h = 0, k_w = 0;
  int64_t stride = 1, pad = 0;
  int64_t h_out = 0, w_out = 0;
  // The padding: zeros, or with `reflect` torch's padding_mode="reflect" (the pad of
  // kernels/reflection_pad2d.h; pad < H and pad < W). Only conv2d_forward takes `reflect`: the
  // result is that of the zero-padding conv of reflection_padded(s) on the padded input, bit for
  // bit; where a kernel cannot read the reflection in place (the CUDA Winograd transforms do), it
  // pads into a workspace first. The gradients take zero padding only.
  bool reflect = false;
};

// The gradients' check: throws std::invalid_argument, naming `function`, where s reflects.
inline void require_zero_padding(const char* function, const Conv2dShape& s) {
  if (s.reflect) throw std::invalid_argument(std::string(function) + ": the gradients take zero padding only");
}

// The zero-padding conv on the reflection-padded input that a `reflect` conv s equals.
inline Conv2dShape reflection_padded(const Conv2dShape& s) {
  Conv2dShape p = s;
  p.h_in += 2 * s.pad, p.w_in += 2 * s.pad;
  p.pad = 0, p.reflect = false;
  return p;
}

// The transpose of a stride-1 conv with a square kernel: its forward maps dy to dx, so it is the
// input gradient of `s` when run with s's kernel flipped and its channels swapped (sizes swapped,
// padding K-1-pad).
inline Conv2dShape transposed_stride1(const Conv2dShape& s) {
  Conv2dShape t = s;
  t.c_in = s.c_out, t.h_in = s.h_out, t.w_in = s.w_out;
  t.c_out = s.c_in, t.h_out = s.h_in, t.w_out = s.w_in;
  t.pad = s.k_h - 1 - s.pad;
  return t;
}

// What conv2d_forward applies to each output as it stores it, in this order: + bias[co] (where
// bias is set: [Co] on the kernel's device), then leaky ReLU (y > 0 ? y : slope y) where
// leaky_relu: the discriminator's conv, bias and activation in one pass over the output instead
// of three, with the bits of the three separate ops (engine::conv2d_leaky_relu).
struct ConvEpilogue {
  const float* bias = nullptr;
  bool leaky_relu = false;
  float slope = 0.f;
#if defined(__CUDACC__)
  __host__ __device__
#endif
  bool empty() const { return bias == nullptr && !leaky_relu; }
};

// The epilogue on one value of output channel c, as the CUDA stores apply it (the expressions of
// the add and leaky_relu kernels, so the bits are theirs; the CPU's vectorised pass in
// kernels/cpu/conv2d.cpp writes the same two expressions).
#if defined(__CUDACC__)
__host__ __device__
#endif
inline float apply_epilogue(const ConvEpilogue& e, int c, float v) {
  if (e.bias != nullptr) v += e.bias[c];
  if (e.leaky_relu) v = v > 0.f ? v : e.slope * v;
  return v;
}

namespace cpu {
void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y,
                    const ConvEpilogue& epilogue, Precision precision = Precision::fp32);
inline void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y,
                           Precision precision = Precision::fp32) {
  conv2d_forward(shape, x, w, y, ConvEpilogue{}, precision);
}
void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx,
                           Precision precision = Precision::fp32);
void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw,
                            Precision precision = Precision::fp32);
}  // namespace cpu
namespace cuda {
void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y,
                    const ConvEpilogue& epilogue, Precision precision = Precision::fp32);
inline void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y,
                           Precision precision = Precision::fp32) {
  conv2d_forward(shape, x, w, y, ConvEpilogue{}, precision);
}
// The epilogue alone, in place on y (the vendor baselines' convolutions have none).
void conv2d_apply_epilogue(const Conv2dShape& shape, float* y, const ConvEpilogue& epilogue);
void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx,
                           Precision precision = Precision::fp32);
void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw,
                            Precision precision = Precision::fp32);

// The block tile of the implicit GEMM behind the three (kernels/cuda/conv2d.cu, docs/kernels.md
// "Tile shapes"): chosen per problem (automatic), or forced, for the tests, which run every shape
// on every case. Precision::tf32 runs large and medium on the tensor cores (128x128, 64x64) and
// the narrow shapes on the fp32 tiles.
enum class ConvTile { automatic, large, medium, tall, wide, tall4, wide4, tall32, wide32 };
void set_conv_tile(ConvTile tile);
// Whether conv2d_forward runs `shape` as a direct convolution instead of the implicit GEMM
// (kernels/cuda/conv2d_direct.cu): stride 1, 1 to 4 output channels, kernels of at most 7x7 and an
// output of at least 16x16 (G's output conv), with the tile choice automatic. fp32 arithmetic under
// either precision, like the narrow tiles. 0 where it does not; else the slices its input
// channels are split into across blocks (1: none; the order of its sums depends on it).
int conv2d_forward_direct_slices(const Conv2dShape& shape);
// The same for conv2d_backward_input of `shape` (the forward's): the direct kernel on the
// transposed conv, where the forward is stride 1 with a square kernel of at most 7x7 and has 1 to
// 16 input channels (the data gradient's outputs; G's input conv: 10) and an input of at least
// 16x16. 0 where it does not, else the slices of dy's channels.
int conv2d_backward_input_direct_slices(const Conv2dShape& shape);
// Winograd, fp32 only, for the forward, the data gradient and the weight gradient of 3x3 stride-1
// convolutions with padding 0 to 2 (F(4x4, 3x3) or F(6x6, 3x3), kernels/cuda/conv2d_winograd.cu) and of 4x4
// stride-2 ones (F(4x4, 2x2), conv2d_winograd_stride2.cu). Its rounding differs from the implicit
// GEMM's (about 1e-5 of the output's magnitude, as the CPU's Winograd kernels). automatic: where
// the rule says it pays (conv2d.cu, winograd_pays: 32 GEMM rows and reduction channels, 16
// tiles, 2^28 products and 60% of the tiles' outputs real) with the tile choice automatic;
// always: wherever supported, its GEMMs on the tile set_conv_tile forces (tests); never. The mode is
// set_conv_winograd's, else conv_winograd_from_environment()'s, read on first use.
enum class ConvWinograd { automatic, always, never };
void set_conv_winograd(ConvWinograd mode);
// ENGINE_CONV_WINOGRAD=auto|always|never (unset or empty: automatic); another value throws
// std::invalid_argument naming it. For timing one path against the other on a GPU.
ConvWinograd conv_winograd_from_environment();
// The output tile of Winograd's 3x3 convolutions: F(6x6, 3x3) (64 products per 36 outputs) where
// its tiles form at least 10% fewer products than F(4x4, 3x3)'s (36 per 16), as on outputs of
// 64x64 (16% fewer) and 128x128; F(4x4, 3x3), which rounds about 1.6x less, elsewhere (32x32 and
// 16x16: as many products). four and six force one (tests, timing). The setting is
// set_winograd3x3_tile's, else winograd3x3_tile_from_environment()'s, read on first use.
enum class Winograd3x3Tile { automatic, four, six };
void set_winograd3x3_tile(Winograd3x3Tile tile);
// ENGINE_CONV_WINOGRAD_TILE=auto|4|6 (unset or empty: automatic); another value throws
// std::invalid_argument naming it.
Winograd3x3Tile winograd3x3_tile_from_environment();
// The output tile, 4 or 6, on which conv2d_forward (backward_input false) or conv2d_backward_input
// (true) runs `shape` (the forward's) by Winograd 3x3; 0 where it does not. The weight gradient
// follows the forward.
int conv2d_winograd3x3_tile(const Conv2dShape& shape, bool backward_input, Precision precision = Precision::fp32);
// Whether conv2d_forward (backward_input false) or conv2d_backward_input (true) runs `shape`, the
// forward conv's shape in both cases, by Winograd; conv2d_backward_weight follows the forward.
bool conv2d_uses_winograd(const Conv2dShape& shape, bool backward_input, Precision precision = Precision::fp32);
}  // namespace cuda

}  // namespace kernels
