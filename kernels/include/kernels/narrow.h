#pragma once
// Copies of a block of columns between row-major matrices: the kernels of narrow (torch.narrow,
// as a copy) and of cat, which places each input with narrow_backward. A tensor cut along
// dimension d is viewed as [rows, cols] with rows = prod(shape[:d]) and cols = prod(shape[d:]);
// the block is `block` columns starting at column `offset` (start * prod(shape[d+1:])).
// forward:  y[r, j] = x[r, offset + j] for j < block; x is [rows, x_cols], y [rows, block] (=).
// backward: dx[r, offset + j] = dy[r, j] for j < block (=); dy is [rows, block], dx [rows,
//           dx_cols]. Columns of dx outside the block are left untouched: the caller zeroes them
//           (narrow's backward) or fills them from the other inputs (cat).
// Requires offset + block <= x_cols (dx_cols); source and destination must not alias.
#include <cstdint>

namespace kernels {
namespace cpu {
void narrow_forward(int64_t rows, int64_t x_cols, int64_t offset, int64_t block, const float* x,
                    float* y);
void narrow_backward(int64_t rows, int64_t dx_cols, int64_t offset, int64_t block, const float* dy,
                     float* dx);
}  // namespace cpu
namespace cuda {
void narrow_forward(int64_t rows, int64_t x_cols, int64_t offset, int64_t block, const float* x,
                    float* y);
void narrow_backward(int64_t rows, int64_t dx_cols, int64_t offset, int64_t block, const float* dy,
                     float* dx);
}  // namespace cuda
}  // namespace kernels
