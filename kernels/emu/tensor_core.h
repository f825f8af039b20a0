#pragma once
// The emulator's side of kernels/cuda/ptx.cuh (included by cuda_emu.h, so the kernels call the
// same functions under g++ as under nvcc). ptx.cuh documents each instruction and its fragment
// layout; docs/emulator.md ("Tensor cores") what the emulator does where PTX leaves it open.
#include <cstdint>

#include "cuda_emu.h"  // warp_collective; this header is the last cuda_emu.h includes

namespace kernels::emu {

// cvt.rna.tf32.f32: x rounded to TF32 (fp32's sign and 8-bit exponent, 10 mantissa bits) to
// nearest, ties away from zero, returned as an fp32 bit pattern whose low 13 bits are zero.
// Subnormals round like normal numbers (no flush: cvt has no .ftz here), infinities stay,
// finite values that round past the largest TF32 become infinities, and every NaN becomes the
// canonical NaN 0x7fffffff.
std::uint32_t tf32_round(float x);

// One lane's registers of mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32.
struct MmaTf32Fragments {
  std::uint32_t a[4];
  std::uint32_t b[2];
  float c[4];
  float d[4];
};

// The warp's arithmetic without the rendezvous: lanes[l] holds lane l's registers; sets every
// lane's d. A and B elements are read as TF32 (their low 13 bits ignored); each D element is
// C + sum_k A[i][k] B[k][j] with k = 0..7 added in order, each product exact and each addition
// rounded once to fp32 (fmaf).
void mma_m16n8k8_tf32(MmaTf32Fragments* const lanes[32]);

}  // namespace kernels::emu

namespace kernels::cuda::ptx {

inline std::uint32_t cvt_rna_tf32(float x) { return kernels::emu::tf32_round(x); }

// A warp collective: the 32 lanes meet (each must call it, from the same line), the last to
// arrive computes every lane's d, and all are released in the schedule's order.
inline void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                             const float (&c)[4], const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace kernels::emu::detail;
  kernels::emu::MmaTf32Fragments mine{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}, {c[0], c[1], c[2], c[3]}, {}};
  warp_collective(WarpOp::mma_tf32, 0xffffffffu, reinterpret_cast<std::uintptr_t>(&mine), 0, warpSize, file, line);
  for (int i = 0; i < 4; ++i) d[i] = mine.d[i];
#if defined(ENGINE_EMU_COUNT_FFMA)
  count_ffma(16 * 8 * 8 / 32);  // the lane's share of the warp's multiply-adds (cuda_emu.h)
#endif
}

// The blocks of a launch run on several OS threads: a C++ acq_rel read-modify-write orders their
// memory as the PTX one orders the SMs' (and ThreadSanitizer sees the ordering).
inline unsigned atom_add_acq_rel_gpu(unsigned* a, unsigned b) { return __atomic_fetch_add(a, b, __ATOMIC_ACQ_REL); }

}  // namespace kernels::cuda::ptx
