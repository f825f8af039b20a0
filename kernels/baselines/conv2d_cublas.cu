// conv2d lowered to GEMM on cuBLAS (kernels/conv2d_baseline.h): the second yardstick for
// kernels/cuda/conv2d.cu, and the plain sgemm that is the benchmark's ceiling. ENGINE_CUDA=ON only.
//
// Per image n, with col_n[k = (ci, r, q)][p = (oh, ow)] the unfolded input (im2col):
//   forward          y_n  = w (Co x K) . col_n (K x P)         one strided-batched sgemm per chunk
//   backward_input   dcol_n = w^T (K x Co) . dy_n (Co x P),    then col2im gathers dcol into dx
//   backward_weight  dw  = sum_n dy_n (Co x P) . col_n^T        one sgemm per image, beta = 1 after
//                                                               the first: a fixed order, deterministic
// cuBLAS is column-major: a row-major [R][C] matrix is its column-major [C][R] transpose, so each
// call below computes the transposed product. Images go in chunks whose col buffer stays under
// col_budget floats. col2im gathers (one thread per dx element, taps in a fixed order): no atomics.
#include <cublas_v2.h>

#include <string>

#include "common.cuh"
#include "im2col.cuh"
#include "kernels/conv2d_baseline.h"

namespace kernels::cublas {
namespace {

using detail::col2im;
using detail::im2col;
using kernels::cuda::ScratchBuffer;

constexpr int64_t col_budget = int64_t(1) << 26;  // floats (256 MiB)

void check_cublas(cublasStatus_t status, const char* what, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string("cuBLAS error ") + cublasGetStatusString(status) + " in " + what + " at " + file +
                    ":" + std::to_string(line));
}
#define CUBLAS_CHECK(expr) check_cublas((expr), #expr, __FILE__, __LINE__)

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    CUBLAS_CHECK(cublasCreate(&created));
    // Plain fp32, like our kernels: the default mode never uses TF32 for sgemm (that takes
    // CUBLAS_TF32_TENSOR_OP_MATH); set it anyway against a changed default.
    CUBLAS_CHECK(cublasSetMathMode(created, CUBLAS_DEFAULT_MATH));
    return created;
  }();
  CUBLAS_CHECK(cublasSetStream(h, cuda::stream()));
  return h;
}

int as_int(int64_t v, const char* what) {
  if (v > 0x7fffffff) throw CudaError(std::string("cuBLAS baseline: ") + what + " exceeds the int range of cuBLAS");
  return static_cast<int>(v);
}

ScratchBuffer<float> col_scratch;

float* col_buffer(size_t floats) { return col_scratch.get(floats); }

// Images per chunk so that the chunk's col buffer stays within col_budget (at least one).
int64_t chunk_images(const Conv2dShape& s) {
  const int64_t per_image = s.c_in * s.k_h * s.k_w * s.h_out * s.w_out;
  const int64_t images = per_image > 0 ? col_budget / per_image : s.n;
  return images < 1 ? 1 : (images < s.n ? images : s.n);
}

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  const float one = 1.f, zero = 0.f;
  // Row-major C = A B is column-major C^T = B^T A^T.
  CUBLAS_CHECK(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, as_int(n, "n"), as_int(m, "m"), as_int(k, "k"), &one, b,
                           as_int(n, "n"), a, as_int(k, "k"), &zero, c, as_int(n, "n")));
}

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, float* y) {
  const int64_t k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out, chunk = chunk_images(s);
  if (s.n == 0 || s.c_out == 0 || pixels == 0) return;
  float* col = col_buffer(static_cast<size_t>(chunk * k * pixels));
  const float one = 1.f, zero = 0.f;
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t images = s.n - n0 < chunk ? s.n - n0 : chunk;
    im2col(s, images, x + n0 * s.c_in * s.h_in * s.w_in, col);
    // Column-major y_n^T (P x Co) = col_n^T (P x K) . w^T (K x Co).
    CUBLAS_CHECK(cublasSgemmStridedBatched(handle(), CUBLAS_OP_N, CUBLAS_OP_N, as_int(pixels, "Ho*Wo"),
                                           as_int(s.c_out, "Co"), as_int(k, "Ci*Kh*Kw"), &one, col, as_int(pixels, "P"),
                                           k * pixels, w, as_int(k, "K"), 0, &zero, y + n0 * s.c_out * pixels,
                                           as_int(pixels, "P"), s.c_out * pixels, as_int(images, "N")));
  }
}

void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const int64_t k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out, chunk = chunk_images(s);
  const int64_t in_image = s.c_in * s.h_in * s.w_in;
  if (s.n == 0 || in_image == 0) return;
  float* dcol = col_buffer(static_cast<size_t>(chunk * k * (pixels > 0 ? pixels : 1)));
  const float one = 1.f, zero = 0.f;
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t images = s.n - n0 < chunk ? s.n - n0 : chunk;
    if (pixels > 0 && s.c_out > 0) {
      // Column-major dcol_n^T (P x K) = dy_n^T (P x Co) . w (Co x K).
      CUBLAS_CHECK(cublasSgemmStridedBatched(handle(), CUBLAS_OP_N, CUBLAS_OP_T, as_int(pixels, "Ho*Wo"),
                                             as_int(k, "Ci*Kh*Kw"), as_int(s.c_out, "Co"), &one,
                                             dy + n0 * s.c_out * pixels, as_int(pixels, "P"), s.c_out * pixels, w,
                                             as_int(k, "K"), 0, &zero, dcol, as_int(pixels, "P"), k * pixels,
                                             as_int(images, "N")));
    } else {
      CUDA_CHECK(cudaMemsetAsync(dcol, 0, sizeof(float) * images * k * (pixels > 0 ? pixels : 1), cuda::stream()));
    }
    col2im(s, images, dcol, dx + n0 * in_image);
  }
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  const int64_t k = s.c_in * s.k_h * s.k_w, pixels = s.h_out * s.w_out, chunk = chunk_images(s);
  if (s.c_out == 0 || k == 0) return;
  if (s.n == 0 || pixels == 0) {
    CUDA_CHECK(cudaMemsetAsync(dw, 0, sizeof(float) * s.c_out * k, cuda::stream()));
    return;
  }
  float* col = col_buffer(static_cast<size_t>(chunk * k * pixels));
  const float one = 1.f, zero = 0.f;
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t images = s.n - n0 < chunk ? s.n - n0 : chunk;
    im2col(s, images, x + n0 * s.c_in * s.h_in * s.w_in, col);
    for (int64_t i = 0; i < images; ++i) {
      // Column-major dw^T (K x Co) += col_n (K x P, stored P x K) . dy_n^T (P x Co).
      CUBLAS_CHECK(cublasSgemm(handle(), CUBLAS_OP_T, CUBLAS_OP_N, as_int(k, "Ci*Kh*Kw"), as_int(s.c_out, "Co"),
                               as_int(pixels, "Ho*Wo"), &one, col + i * k * pixels, as_int(pixels, "P"),
                               dy + (n0 + i) * s.c_out * pixels, as_int(pixels, "P"), n0 + i == 0 ? &zero : &one, dw,
                               as_int(k, "K")));
    }
  }
}

}  // namespace kernels::cublas
