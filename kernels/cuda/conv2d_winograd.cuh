#pragma once
// Winograd convolutions for conv2d.cu (designs: conv2d_winograd.cu, conv2d_winograd_stride2.cu;
// docs/kernels.md): a convolution as three transforms around batched GEMMs, which conv2d.cu runs
// on its implicit-GEMM tiles, one phase of one launch per GEMM. With t = (n, th, tw) a tile of
// outputs (4x4 or 6x6) and xi one of the positions of a transformed tile:
//   U[xi][row][k] = (G w G^T)[xi]          the weights, per (row, k)
//   V[xi][k][t]   = (B^T d B)[xi]          d the tile's input patch, per (k, t)
//   M[xi][row][t] = sum_k V[xi][k][t] U[xi][row][k]     winograd_product (conv2d.cu), k in order
//   out tile      = A^T M[.][row][t] A, cropped (then the forward's epilogue)
// The matrices of F(4x4, 3x3) and F(4x4, 2x2) are the CPU kernels' (kernels/cpu/conv2d_winograd*.cpp,
// docs/ops/conv2d.md); F(6x6, 3x3) runs on the GPU only (conv2d_winograd.cu gives its matrices).
// Every function here runs on the current stream; every tensor, U, V and M included, indexes in
// 32 bits (conv2d.cu's rules check).
#include "fast_divide.cuh"
#include "kernels/conv2d.h"

namespace kernels::cuda {

// F(tile x tile, 3x3), tile 4 or 6, of a 3x3 stride-1 conv, padding 0-2: y = conv2d(x, w), then
// the epilogue. With `flipped`, `shape` is the data gradient's conv (transposed_stride1 of the
// forward's) and w the forward's kernel, read with its channels swapped and its taps flipped
// (conv2d_winograd.cu).
void winograd3x3_conv(int tile, const Conv2dShape& shape, const float* x, const float* w, bool flipped, float* y,
                      const ConvEpilogue& epilogue);
// Its weight gradient dw = d<conv2d(x, w), dy>/dw (of the forward conv `shape`): with dM = A dy A^T
// the transform of each tile of dy (zeros past the output), dU = sum over the tiles of dM V^T,
// and dw = G^T dU G.
void winograd3x3_backward_weight(int tile, const Conv2dShape& shape, const float* x, const float* dy, float* dw);

// F(4x4, 2x2) of a 4x4 stride-2 conv `shape` (conv2d_winograd_stride2.cu): its forward, then the
// epilogue, and its data gradient (which is also conv_transpose2d's forward). The forward also
// takes a 3x3 stride-2 conv: the 4x4 one with zeros in the kernel's last row and column.
void winograd4x4s2_forward(const Conv2dShape& shape, const float* x, const float* w, float* y,
                           const ConvEpilogue& epilogue);
void winograd4x4s2_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx);
// Its weight gradient, the same way, per phase (p, q) of the kernel: w[co][ci][2a + p][2b + q].
void winograd4x4s2_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw);

// ---- shared by the two files ----

// The GEMMs: `phases` of them, each M[phase] (rows x tiles) = U[phase] (rows x inner) V[phase]
// (inner x tiles), laid out as above. Defined in conv2d.cu, which owns the tiles.
struct WinogradProduct {
  int phases, tiles, rows, inner;
};
void winograd_product(const WinogradProduct& p, const float* v, const float* u, float* m);
// The weight gradient's: dU[phase] (rows x inner) = dM[phase] (rows x tiles) V[phase]^T, summed
// over the tiles (in order within a split-K slice, the slices in order), with dM laid out as M.
void winograd_weight_product(const WinogradProduct& p, const float* m, const float* v, float* u);

// U, V and M of a product, in workspaces kept for the process (ScratchBuffer: a captured CUDA
// graph may hold their addresses).
struct WinogradWorkspace {
  float *u, *v, *m;
};
WinogradWorkspace winograd_workspace(const WinogradProduct& p);

// i = c T + t over the output tiles t = (n, th, tw) of a grid, and a channel c before them.
struct WinogradTiles {
  FastDivisor all, per_image, across;  // T, tiles_h tiles_w, tiles_w
  WinogradTiles(int n, int tiles_h, int tiles_w)
      : all(n * tiles_h * tiles_w), per_image(tiles_h * tiles_w), across(tiles_w) {}
  struct At {
    int channel, t, n, th, tw;
  };
  __device__ __forceinline__ At at(int i) const {
    const int c = all.quotient(i), t = i - c * all.divisor, n = per_image.quotient(t);
    const int r = t - n * per_image.divisor, th = across.quotient(r);
    return {c, t, n, th, r - th * across.divisor};
  }
};

// The value an input transform reads at (ih, iw) of x's h x w `image` (coordinates of the padded
// input less the padding): inside x, x's own; within `reflected` rows or columns of x's edges
// (Conv2dShape::reflect: its pad; else 0), the reflection; else zero: the zero padding, and past
// a reflect padding (the last tiles' overhang) as the conv of the padded tensor reads there. One
// code for both paddings, not a template on the mode: the reflect and zero-padding transforms must
// be one compiled instance so that a reflect conv has the bits of padding first (two instances
// may contract the transforms' products into FMAs differently).
__device__ __forceinline__ float padded_value(const float* image, int ih, int iw, int h, int w, int reflected) {
  if (ih < 0 && ih >= -reflected) ih = -ih;
  if (ih >= h && ih < h + reflected) ih = 2 * (h - 1) - ih;
  if (iw < 0 && iw >= -reflected) iw = -iw;
  if (iw >= w && iw < w + reflected) iw = 2 * (w - 1) - iw;
  return unsigned(ih) < unsigned(h) && unsigned(iw) < unsigned(w) ? image[ih * w + iw] : 0.f;  // negative ones wrap
}

// The stride-2 weight gradient's transform of dy (defined beside F(4x4, 3x3)'s in
// conv2d_winograd.cu, whose kernel it shares): dM[xi][c][t] = (A dy_tile A^T)[xi] with F(4x4,
// 2x2)'s A, for every channel c < channels and 4x4 tile t of `grid` of dy [n][channels][h][w]
// (zeros past its edges).
void winograd_output_grad_stride2(const WinogradTiles& grid, int channels, int h, int w, const float* dy, float* dm);

}  // namespace kernels::cuda
