#pragma once
// The Conv2dShape of a conv with a square k x k kernel, its output size by conv2d's floor
// division: for the kernel tests (CPU and emulated CUDA alike, so no engine dependency).
#include "kernels/conv2d.h"

namespace test {

inline kernels::Conv2dShape square_conv_shape(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t k,
                                              int64_t stride, int64_t pad) {
  kernels::Conv2dShape s;
  s.n = n;
  s.c_in = c_in;
  s.h_in = h;
  s.w_in = w;
  s.c_out = c_out;
  s.k_h = s.k_w = k;
  s.stride = stride;
  s.pad = pad;
  s.h_out = (h + 2 * pad - k) / stride + 1;
  s.w_out = (w + 2 * pad - k) / stride + 1;
  return s;
}

}  // namespace test
