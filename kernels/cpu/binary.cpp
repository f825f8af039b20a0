// y = a (op) b with broadcasting; the row loop is specialised on the operands' inner strides so
// the common cases (both contiguous, one broadcast scalar) vectorise.
#include "kernels/binary.h"

#include "broadcast_walk.h"

namespace kernels::cpu {
namespace {

template <class Op>
void binary_rows(const BroadcastIndex& index, const float* a, const float* b, float* y, Op op) {
  for_each_broadcast_row(index, [&](int64_t out, int64_t offset_a, int64_t offset_b, int64_t n,
                                    int64_t step_a, int64_t step_b) {
    const float* row_a = a + offset_a;
    const float* row_b = b + offset_b;
    float* row_y = y + out;
    if (step_a == 1 && step_b == 1) {
      for (int64_t i = 0; i < n; ++i) row_y[i] = op(row_a[i], row_b[i]);
    } else if (step_a == 1 && step_b == 0) {
      const float value_b = row_b[0];
      for (int64_t i = 0; i < n; ++i) row_y[i] = op(row_a[i], value_b);
    } else if (step_a == 0 && step_b == 1) {
      const float value_a = row_a[0];
      for (int64_t i = 0; i < n; ++i) row_y[i] = op(value_a, row_b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) row_y[i] = op(row_a[i * step_a], row_b[i * step_b]);
    }
  });
}

}  // namespace

void binary_forward(BinaryOp op, const BroadcastIndex& index, const float* a, const float* b, float* y) {
  switch (op) {
    case BinaryOp::add: return binary_rows(index, a, b, y, [](float p, float q) { return p + q; });
    case BinaryOp::sub: return binary_rows(index, a, b, y, [](float p, float q) { return p - q; });
    case BinaryOp::mul: return binary_rows(index, a, b, y, [](float p, float q) { return p * q; });
    case BinaryOp::div: return binary_rows(index, a, b, y, [](float p, float q) { return p / q; });
  }
}

}  // namespace kernels::cpu
