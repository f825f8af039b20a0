// 2-d convolution and its gradients on the CPU, as GEMM on the BLAS (Caffe's im2col): the
// receptive fields of a block of output rows are unrolled into a column matrix
// col [Ci*Kh*Kw, P] (P = output positions of the block), so that, per image,
//   forward          y[Co, P]       = w[Co, Ci*Kh*Kw] * col
//   backward input   col            = w^T * dy[Co, P], then col2im adds col back into dx
//   backward weight  dw[Co, CiKhKw] += dy[Co, P] * col^T
// Matches torch.nn.functional.conv2d (zero padding) and its input and weight gradients.
//
// The threads are the BLAS's alone: im2col and col2im run on the calling thread. An OpenMP region
// between GEMMs leaves its workers spin-waiting (libgomp's default) while OpenBLAS's own pthreads
// need the cores: on a loaded 2-core machine that made these kernels 3-4x slower. Serial im2col
// costs about a tenth of the single-threaded time on the big shapes (more on the 7x7 64->3 conv,
// whose GEMM is thin), so a parallel one could gain at most that much on an idle machine.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "kernels/conv2d.h"

namespace kernels::cpu {
namespace {

// Output rows go through the GEMM in blocks whose column matrix stays under this many floats
// (4 MB): it bounds the workspace (a 7x7 conv of 64 channels over 128x128 would need 200 MB at
// once) and keeps the block in the last-level cache between im2col writing it and the GEMM
// reading it, which made the 7x7 64->3 conv 1.5-1.8x faster than 16 MB blocks; the 3x3
// 256-channel GEMMs still get 352 columns, enough to run at the BLAS's peak.
constexpr int64_t workspace_floats = int64_t{1} << 20;

// Grow-only, per thread: the conv ops of a training step reuse one buffer instead of paying for
// fresh pages on every call.
float* workspace(int64_t count) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < count) buffer.resize(count);
  return buffer.data();
}

int64_t patch_size(const Conv2dShape& s) { return s.c_in * s.k_h * s.k_w; }

// Output rows per block: within the workspace, and balanced so that no block is a thin remainder.
int64_t block_rows(const Conv2dShape& s) {
  const int64_t max_rows = std::clamp<int64_t>(workspace_floats / (patch_size(s) * s.w_out), 1, s.h_out);
  const int64_t blocks = (s.h_out + max_rows - 1) / max_rows;
  return (s.h_out + blocks - 1) / blocks;
}

// The output columns [begin, end) whose tap at kernel column `kw` lands inside the input row:
// 0 <= ow * stride - pad + kw < w_in.
void valid_columns(const Conv2dShape& s, int64_t kw, int64_t& begin, int64_t& end) {
  const int64_t offset = s.pad - kw;  // ow * stride >= offset
  begin = offset > 0 ? (offset + s.stride - 1) / s.stride : 0;
  const int64_t last = s.w_in - 1 + offset;  // ow * stride <= last
  end = last >= 0 ? std::min(last / s.stride + 1, s.w_out) : 0;
  begin = std::min(begin, end);
}

// col[(c, kh, kw), (i, ow)] = x[c, (oh0 + i) * stride - pad + kh, ow * stride - pad + kw], 0 outside.
void im2col(const Conv2dShape& s, const float* x, int64_t oh0, int64_t rows, float* col) {
  const int64_t taps = s.k_h * s.k_w, cols = rows * s.w_out;
  for (int64_t r = 0; r < patch_size(s); ++r) {
    const int64_t c = r / taps, kh = (r % taps) / s.k_w, kw = r % s.k_w;
    int64_t begin, end;
    valid_columns(s, kw, begin, end);
    const float* plane = x + c * s.h_in * s.w_in;
    for (int64_t i = 0; i < rows; ++i) {
      float* dst = col + r * cols + i * s.w_out;
      const int64_t ih = (oh0 + i) * s.stride - s.pad + kh;
      if (ih < 0 || ih >= s.h_in) {
        std::fill(dst, dst + s.w_out, 0.f);
        continue;
      }
      const float* src = plane + ih * s.w_in;
      const int64_t shift = kw - s.pad;
      std::fill(dst, dst + begin, 0.f);
      if (s.stride == 1) {  // a separate loop so that the contiguous copy vectorises
        for (int64_t ow = begin; ow < end; ++ow) dst[ow] = src[ow + shift];
      } else {
        for (int64_t ow = begin; ow < end; ++ow) dst[ow] = src[ow * s.stride + shift];
      }
      std::fill(dst + end, dst + s.w_out, 0.f);
    }
  }
}

// The adjoint of im2col: dx[c, ih, iw] += every col entry that im2col read from there.
void col2im(const Conv2dShape& s, const float* col, int64_t oh0, int64_t rows, float* dx) {
  const int64_t cols = rows * s.w_out;
  for (int64_t c = 0; c < s.c_in; ++c) {
    float* plane = dx + c * s.h_in * s.w_in;
    for (int64_t kh = 0; kh < s.k_h; ++kh) {
      for (int64_t kw = 0; kw < s.k_w; ++kw) {
        int64_t begin, end;
        valid_columns(s, kw, begin, end);
        const float* src_row = col + ((c * s.k_h + kh) * s.k_w + kw) * cols;
        const int64_t shift = kw - s.pad;
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t ih = (oh0 + i) * s.stride - s.pad + kh;
          if (ih < 0 || ih >= s.h_in) continue;
          const float* src = src_row + i * s.w_out;
          float* dst = plane + ih * s.w_in;
          for (int64_t ow = begin; ow < end; ++ow) dst[ow * s.stride + shift] += src[ow];
        }
      }
    }
  }
}

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, float* y) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, block = block_rows(s);
  float* col = workspace(k * block * s.w_out);
  for (int64_t n = 0; n < s.n; ++n) {
    const float* x_n = x + n * s.c_in * s.h_in * s.w_in;
    float* y_n = y + n * s.c_out * positions;
    for (int64_t oh0 = 0; oh0 < s.h_out; oh0 += block) {
      const int64_t rows = std::min(block, s.h_out - oh0), cols = rows * s.w_out;
      im2col(s, x_n, oh0, rows, col);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.c_out, cols, k, 1.f, w, k, col, cols,
                  0.f, y_n + oh0 * s.w_out, positions);
    }
  }
}

void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, block = block_rows(s);
  std::fill(dx, dx + s.n * s.c_in * s.h_in * s.w_in, 0.f);
  float* col = workspace(k * block * s.w_out);
  for (int64_t n = 0; n < s.n; ++n) {
    const float* dy_n = dy + n * s.c_out * positions;
    float* dx_n = dx + n * s.c_in * s.h_in * s.w_in;
    for (int64_t oh0 = 0; oh0 < s.h_out; oh0 += block) {
      const int64_t rows = std::min(block, s.h_out - oh0), cols = rows * s.w_out;
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, cols, s.c_out, 1.f, w, k,
                  dy_n + oh0 * s.w_out, positions, 0.f, col, cols);
      col2im(s, col, oh0, rows, dx_n);
    }
  }
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  const int64_t k = patch_size(s), positions = s.h_out * s.w_out, block = block_rows(s);
  if (s.n == 0) std::fill(dw, dw + s.c_out * k, 0.f);
  float* col = workspace(k * block * s.w_out);
  for (int64_t n = 0; n < s.n; ++n) {
    const float* x_n = x + n * s.c_in * s.h_in * s.w_in;
    const float* dy_n = dy + n * s.c_out * positions;
    for (int64_t oh0 = 0; oh0 < s.h_out; oh0 += block) {
      const int64_t rows = std::min(block, s.h_out - oh0), cols = rows * s.w_out;
      im2col(s, x_n, oh0, rows, col);
      // The first block overwrites dw (no separate zeroing pass: dw is 134 MB for the last
      // discriminator conv), the others accumulate into it.
      const float beta = n == 0 && oh0 == 0 ? 0.f : 1.f;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.c_out, k, cols, 1.f, dy_n + oh0 * s.w_out,
                  positions, col, cols, beta, dw, k);
    }
  }
}

}  // namespace kernels::cpu
