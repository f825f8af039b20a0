#pragma once
// Elementwise arithmetic with broadcasting: y = a (op) b, y contiguous and overwritten (=).
// Matches torch.add/sub/mul/div on float32.
#include "kernels/broadcast.h"

namespace kernels {

enum class BinaryOp { add, sub, mul, div };

namespace cpu {
void binary_forward(BinaryOp op, const BroadcastIndex& index, const float* a, const float* b, float* y);
}
namespace cuda {
void binary_forward(BinaryOp op, const BroadcastIndex& index, const float* a, const float* b, float* y);
}

}  // namespace kernels
