#pragma once
// The arithmetic of the CUDA convolution kernels (kernels/conv2d.h).
//   fp32  every product and sum in fp32 FMAs (the default; bit-identical to the kernels before
//         the setting existed, within 1e-5-level tolerances of the CPU op)
//   tf32  operands rounded to TF32 (10 mantissa bits, cvt.rna) and multiplied on the tensor
//         cores (mma.sync m16n8k8), sums in fp32: relative error near 1e-3 of the sum of |products|
//         (docs/kernels.md, "TF32 tensor-core path"). Needs sm_80 or later.
// The CPU kernels take the setting and ignore it: they always compute in fp32.
namespace kernels {

enum class Precision { fp32, tf32 };

inline const char* precision_name(Precision p) { return p == Precision::tf32 ? "tf32" : "fp32"; }

}  // namespace kernels
