#pragma once
// The one file with inline PTX (tools/check/lint_kernels.sh enforces it). Each wrapper is one
// instruction; under g++ (ENGINE_CUDA=EMU) kernels/emu/tensor_core.h defines the same functions,
// implemented by the emulator with the layouts documented here (docs/emulator.md, "Tensor
// cores"). Both need sm_80 or later.
#include <cstdint>

// ---- cvt.rna.tf32.f32 d, a ----
// uint32_t cvt_rna_tf32(float x): x rounded to TF32 (fp32's sign and exponent, 10 mantissa bits)
// to nearest, ties away from zero, as a 32-bit register whose low 13 bits are zero: an operand
// of the .tf32 MMA below.
//
// ---- mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 d, a, b, c ----
// void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
//                       const float (&c)[4]):  D (16x8) = A (16x8) * B (8x8) + C, fp32 accumulate.
// Warp-wide: all 32 lanes execute it together, each holding a fragment. PTX ISA, "Matrix
// Fragments for mma.m16n8k8" (.tf32), with g = lane >> 2 (groupID), t = lane % 4
// (threadID_in_group), each entry (row, column):
//   A, row-major:     a0 (g, t)    a1 (g+8, t)    a2 (g, t+4)    a3 (g+8, t+4)
//   B, column-major:  b0 (t, g)    b1 (t+4, g)
//   C and D:          c0 (g, 2t)   c1 (g, 2t+1)   c2 (g+8, 2t)   c3 (g+8, 2t+1)
// a and b hold TF32 values (cvt_rna_tf32); products of TF32 values are exact in fp32. The order
// and internal precision of the hardware's sum are not specified by PTX.
//
// ---- atom.acq_rel.gpu.global.add.u32 d, [a], b ----
// unsigned atom_add_acq_rel_gpu(unsigned* a, unsigned b): *a += b atomically, returning the old
// value, with release and acquire semantics at GPU scope: the writes this thread made before it
// (and, after a __syncthreads(), its block's) are visible to any thread that later reads the
// value it stored (or a later one) with an acquire, and that thread's later reads see them. The
// ticket of a split-K tile (conv2d.cu); CUDA's atomicAdd is relaxed, which would need fences.
#if !defined(ENGINE_CUDA_EMULATOR)
namespace kernels::cuda::ptx {

__device__ __forceinline__ std::uint32_t cvt_rna_tf32(float x) {
  std::uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4],
                                                 const std::uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}

__device__ __forceinline__ unsigned atom_add_acq_rel_gpu(unsigned* a, unsigned b) {
  unsigned old;
  asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], %2;" : "=r"(old) : "l"(a), "r"(b) : "memory");
  return old;
}

}  // namespace kernels::cuda::ptx
#endif
