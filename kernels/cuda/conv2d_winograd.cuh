#pragma once
// Winograd F(4x4, 3x3) for conv2d.cu (design: conv2d_winograd.cu; docs/kernels.md,
// "conv2d_winograd.cu"): a 3x3 stride-1 convolution as three transforms around 36 GEMMs, which
// conv2d.cu runs on its implicit-GEMM tiles as 36 phases of one launch. With t = (n, th, tw) a
// 4x4 output tile and xi = (i, j) one of the 36 positions of a transformed 6x6 tile:
//   U[xi][co][ci] = (G w[co][ci] G^T)[xi]                      winograd_weights
//   V[xi][ci][t]  = (B^T d[n][ci] B)[xi], d the tile's 6x6 patch   winograd_input
//   M[xi][co][t]  = sum_ci V[xi][ci][t] U[xi][co][ci]         conv2d.cu (the GEMM, ci in order)
//   y tile        = A^T M[.][co][t] A, cropped, then the epilogue    winograd_output
// B^T, G and A^T are kernels/cpu/conv2d_winograd.cpp's (docs/ops/conv2d.md). 36 multiplications
// per channel pair and tile instead of 9 x 16: 4x fewer on whole tiles.
#include "kernels/conv2d.h"

namespace kernels::cuda {

constexpr int winograd_positions = 36;

// A conv2d of 3x3, stride 1, padding `pad` (>= 0), in the tiles it is computed in. Every tensor,
// U, V and M included, indexes in 32 bits (the caller checks).
struct WinogradShape {
  int n, c_in, h_in, w_in, c_out, pad, h_out, w_out;
  int tiles_h, tiles_w;  // ceil(h_out / 4), ceil(w_out / 4)
  int tiles() const { return n * tiles_h * tiles_w; }
};
WinogradShape winograd_shape(const Conv2dShape& s);

// U = the transform of w [c_out][c_in][3][3]; with `flipped`, of the input gradient's kernel:
// w is the forward's [c_in][c_out][3][3] (this shape is the transposed conv, transposed_stride1),
// read with its channels swapped and its taps flipped, without a copy.
void winograd_weights(const WinogradShape& s, const float* w, bool flipped, float* u);
// V = the transform of every tile's input patch of x [n][c_in][h_in][w_in] (zeros outside it).
void winograd_input(const WinogradShape& s, const float* x, float* v);
// y [n][c_out][h_out][w_out] = the inverse transform of M, then the epilogue.
void winograd_output(const WinogradShape& s, const float* m, float* y, const ConvEpilogue& epilogue);

}  // namespace kernels::cuda
