// Column-block copies between row-major matrices (kernels/narrow.h): narrow's forward, and its
// backward, which cat uses to place each input. One kernel serves both directions: a copy of a
// [rows, cols] block between two row strides. blockIdx.y walks the rows (grid-stride, gridDim.y
// stops at 65535), blockIdx.x and threadIdx.x the columns, so every warp reads and writes one
// contiguous run. When the block, both strides and both pointers allow it the copy moves float4s
// (a quarter of the memory instructions); cat along channels of NCHW maps always do.
#include "common.cuh"
#include "kernels/narrow.h"

namespace kernels::cuda {
namespace {

constexpr int narrow_block = 256;

// dst[r * dst_stride + j] = src[r * src_stride + j] for r < rows, j < cols; strides and cols in
// units of T.
template <class T>
__global__ void narrow_copy_kernel(int64_t rows, int64_t cols, const T* src, int64_t src_stride, T* dst,
                                   int64_t dst_stride) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= cols) return;  // no barrier in this kernel
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) dst[r * dst_stride + j] = src[r * src_stride + j];
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

void copy_block(int64_t rows, int64_t cols, const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
  if (rows * cols == 0) return;
  const unsigned row_blocks = static_cast<unsigned>(rows < 65535 ? rows : 65535);
  if (cols % 4 == 0 && src_stride % 4 == 0 && dst_stride % 4 == 0 && aligned16(src) && aligned16(dst)) {
    const int64_t cols4 = cols / 4;
    launch(narrow_copy_kernel<float4>,
           {dim3(static_cast<unsigned>((cols4 + narrow_block - 1) / narrow_block), row_blocks), dim3(narrow_block), 0,
            stream()},
           rows, cols4, reinterpret_cast<const float4*>(src), src_stride / 4, reinterpret_cast<float4*>(dst),
           dst_stride / 4);
  } else {
    launch(narrow_copy_kernel<float>,
           {dim3(static_cast<unsigned>((cols + narrow_block - 1) / narrow_block), row_blocks), dim3(narrow_block), 0,
            stream()},
           rows, cols, src, src_stride, dst, dst_stride);
  }
}

}  // namespace

void narrow_forward(int64_t rows, int64_t x_cols, int64_t offset, int64_t block, const float* x, float* y) {
  copy_block(rows, block, x + offset, x_cols, y, block);
}

void narrow_backward(int64_t rows, int64_t dx_cols, int64_t offset, int64_t block, const float* dy, float* dx) {
  copy_block(rows, block, dy, block, dx + offset, dx_cols);
}

}  // namespace kernels::cuda
