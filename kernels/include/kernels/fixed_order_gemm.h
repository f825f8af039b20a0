#pragma once
// A CPU GEMM whose every entry is summed in one fixed order, on the register-blocked kernel of
// kernels/cpu/winograd_gemm.h. The conv kernels use it where an image's bits must not depend on
// the other images of its batch, which OpenBLAS does not promise (the bits of a column follow the
// GEMM's column count and its split over threads; docs/ops/conv2d.md).
//
//   c[i][j] = sum over l of op(a)[i][l] * b[l][j]
//   op(a) = a [m][k] (rows lda apart) or, transposed, a [k][m] (rows lda apart)
//   b [k][n], rows ldb apart; c [m][n], rows ldc apart, overwritten
//
// The order is fixed: l in chunks of 256, each chunk summed in order from zero (each step a
// fused multiply-add where the build has AVX2 and FMA), the chunks' sums added in order. So
// c[i][j] depends only on row i of op(a), column j of b and k: not on m, n, the column's position
// or the thread count. b is packed into panels of 16 columns (k * n floats of workspace), op(a) a
// block of rows at a time by the thread that multiplies it; threads take blocks of rows.
#include <cstdint>

namespace kernels::cpu {

void fixed_order_gemm(bool a_transposed, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float* c, int64_t ldc);

}  // namespace kernels::cpu
