// TF32 rounding and the m16n8k8 TF32 MMA's arithmetic (tensor_core.h); the rendezvous that
// gathers the warp's fragments is the warp collective engine's (scheduler.cpp).
#include "tensor_core.h"

#include <cmath>
#include <cstring>

namespace kernels::emu {
namespace {

float tf32_operand(std::uint32_t bits) {  // a register holding a TF32 value: low 13 bits ignored
  bits &= 0xffffe000u;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

}  // namespace

std::uint32_t tf32_round(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if (std::isnan(x)) return 0x7fffffffu;
  if (std::isinf(x)) return bits;
  // Adding half a TF32 ulp (bit 12) to the magnitude and dropping the low 13 bits rounds to
  // nearest with ties away from zero; a carry out of the mantissa lands in the exponent, which
  // is the rounded value (up to infinity past the largest TF32). Subnormals need no case.
  return (bits + 0x1000u) & 0xffffe000u;
}

// PTX ISA, "Matrix Fragments for mma.m16n8k8" (.tf32), with g = lane >> 2, t = lane % 4:
//   A (16x8, row): a0 (g, t)  a1 (g+8, t)  a2 (g, t+4)  a3 (g+8, t+4)
//   B (8x8, col):  b0 (t, g)  b1 (t+4, g)
//   C, D (16x8):   c0 (g, 2t) c1 (g, 2t+1) c2 (g+8, 2t) c3 (g+8, 2t+1)
void mma_m16n8k8_tf32(MmaTf32Fragments* const lanes[32]) {
  float a[16][8], b[8][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane % 4;
    const MmaTf32Fragments& f = *lanes[lane];
    a[g][t] = tf32_operand(f.a[0]);
    a[g + 8][t] = tf32_operand(f.a[1]);
    a[g][t + 4] = tf32_operand(f.a[2]);
    a[g + 8][t + 4] = tf32_operand(f.a[3]);
    b[t][g] = tf32_operand(f.b[0]);
    b[t + 4][g] = tf32_operand(f.b[1]);
  }
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane % 4;
    MmaTf32Fragments& f = *lanes[lane];
    for (int r = 0; r < 4; ++r) {
      const int row = g + 8 * (r >> 1), col = 2 * t + (r & 1);
      float sum = f.c[r];
      for (int k = 0; k < 8; ++k) sum = std::fmaf(a[row][k], b[k][col], sum);
      f.d[r] = sum;
    }
  }
}

}  // namespace kernels::emu
