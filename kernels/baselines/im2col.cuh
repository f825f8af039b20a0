#pragma once
// The im2col and col2im kernels of the cuBLAS conv baseline (conv2d_cublas.cu), in a header of
// their own so that tests/kernels/emu/im2col_test.cpp runs them on the emulator against the CPU
// convolution (cuBLAS itself cannot run there). Include from one translation unit per target.
// Legend as kernels/conv2d.h; k = (ci, r, q) a kernel tap, p = (oh, ow) an output pixel.
#include "common.cuh"
#include "kernels/conv2d.h"

namespace kernels::cublas::detail {

// col[n][k = (ci, r, q)][p = (oh, ow)] for `images` images of x (already offset to the first).
__global__ void im2col_kernel(Conv2dShape s, int64_t images, const float* x, float* col) {
  const int64_t taps = s.k_h * s.k_w, k_total = s.c_in * taps, pixels = s.h_out * s.w_out;
  const int64_t count = images * k_total * pixels;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e % pixels, k = (e / pixels) % k_total, n = e / (pixels * k_total);
    const int64_t ci = k / taps, tap = k % taps;
    const int64_t ih = (p / s.w_out) * s.stride - s.pad + tap / s.k_w;
    const int64_t iw = (p % s.w_out) * s.stride - s.pad + tap % s.k_w;
    const bool inside = ih >= 0 && ih < s.h_in && iw >= 0 && iw < s.w_in;
    col[e] = inside ? x[((n * s.c_in + ci) * s.h_in + ih) * s.w_in + iw] : 0.f;
  }
}

// dx[n][ci][ih][iw] = sum of dcol[n][(ci, r, q)][(oh, ow)] over the taps that land on (ih, iw).
__global__ void col2im_kernel(Conv2dShape s, int64_t images, const float* dcol, float* dx) {
  const int64_t taps = s.k_h * s.k_w, pixels = s.h_out * s.w_out, plane = s.h_in * s.w_in;
  const int64_t count = images * s.c_in * plane;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t iw = e % s.w_in, ih = (e / s.w_in) % s.h_in, ci = (e / plane) % s.c_in, n = e / (plane * s.c_in);
    const float* image = dcol + n * s.c_in * taps * pixels;
    float total = 0.f;
    for (int64_t r = 0; r < s.k_h; ++r) {
      const int64_t oh_scaled = ih + s.pad - r;
      if (oh_scaled < 0 || oh_scaled % s.stride != 0 || oh_scaled / s.stride >= s.h_out) continue;
      for (int64_t q = 0; q < s.k_w; ++q) {
        const int64_t ow_scaled = iw + s.pad - q;
        if (ow_scaled < 0 || ow_scaled % s.stride != 0 || ow_scaled / s.stride >= s.w_out) continue;
        const int64_t k = (ci * s.k_h + r) * s.k_w + q;
        total += image[k * pixels + (oh_scaled / s.stride) * s.w_out + ow_scaled / s.stride];
      }
    }
    dx[e] = total;
  }
}

// col[n][k][p] = the input value tap k of output pixel p reads (0 in the padding), for `images`
// images of x (x already offset to the first).
inline void im2col(const Conv2dShape& s, int64_t images, const float* x, float* col) {
  const int64_t count = images * s.c_in * s.k_h * s.k_w * s.h_out * s.w_out;
  cuda::launch(im2col_kernel, {dim3(cuda::grid_for(count)), dim3(cuda::elementwise_block), 0, cuda::stream()}, s,
               images, x, col);
}

// dx[n] = the sum over taps of dcol[n][k][p] landing on each input element (overwritten), for
// `images` images (dx already offset to the first).
inline void col2im(const Conv2dShape& s, int64_t images, const float* dcol, float* dx) {
  const int64_t count = images * s.c_in * s.h_in * s.w_in;
  cuda::launch(col2im_kernel, {dim3(cuda::grid_for(count)), dim3(cuda::elementwise_block), 0, cuda::stream()}, s,
               images, dcol, dx);
}

}  // namespace kernels::cublas::detail
