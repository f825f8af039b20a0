#pragma once
// Broadcast copy: y (contiguous, =) takes x's element through index.stride_a; stride_b unused.
// The forward of expand/repeat; its backward is sum (kernels/sum.h).
#include "kernels/broadcast.h"

namespace kernels {
namespace cpu {
void expand_forward(const BroadcastIndex& index, const float* x, float* y);
}
namespace cuda {
void expand_forward(const BroadcastIndex& index, const float* x, float* y);
}
}  // namespace kernels
