// Broadcast copy of x into the contiguous y.
#include "kernels/expand.h"

#include "broadcast_walk.h"

namespace kernels::cpu {

void expand_forward(const BroadcastIndex& index, const float* x, float* y) {
  for_each_broadcast_row(index, [&](int64_t out, int64_t offset_x, int64_t, int64_t n, int64_t step,
                                    int64_t) {
    const float* row_x = x + offset_x;
    float* row_y = y + out;
    if (step == 0) {
      for (int64_t i = 0; i < n; ++i) row_y[i] = row_x[0];
    } else {
      for (int64_t i = 0; i < n; ++i) row_y[i] = row_x[i * step];
    }
  });
}

}  // namespace kernels::cpu
