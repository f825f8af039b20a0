// Block copies for narrow and cat: each row is one contiguous memcpy-like run.
#include "kernels/narrow.h"

#include <cstring>

namespace kernels::cpu {

void narrow_forward(int64_t rows, int64_t x_cols, int64_t offset, int64_t block, const float* x,
                    float* y) {
#pragma omp parallel for schedule(static) if (rows > 1 && rows * block > 65536)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(y + r * block, x + r * x_cols + offset, sizeof(float) * block);
}

void narrow_backward(int64_t rows, int64_t dx_cols, int64_t offset, int64_t block, const float* dy,
                     float* dx) {
#pragma omp parallel for schedule(static) if (rows > 1 && rows * block > 65536)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dx + r * dx_cols + offset, dy + r * block, sizeof(float) * block);
}

}  // namespace kernels::cpu
