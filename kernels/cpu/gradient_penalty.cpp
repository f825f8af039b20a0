// The WGAN-GP penalty; sums of squares in double (the reference for the CUDA kernel).
#include "kernels/gradient_penalty.h"

#include <cmath>

namespace kernels::cpu {

void gradient_penalty_forward(int64_t n, int64_t m, const float* g, float* norms, float* loss) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double squares = 0.0;
    for (int64_t j = 0; j < m; ++j) squares += double(g[i * m + j]) * g[i * m + j];
    const double norm = std::sqrt(squares);
    norms[i] = static_cast<float>(norm);
    total += (norm - 1.0) * (norm - 1.0);
  }
  loss[0] = static_cast<float>(total / static_cast<double>(n));
}

void gradient_penalty_backward(int64_t n, int64_t m, const float* g, const float* norms,
                               const float* dloss, float* dg) {
  for (int64_t i = 0; i < n; ++i) {
    const float scale =
        norms[i] > 0.f ? dloss[0] * 2.f * (norms[i] - 1.f) / (static_cast<float>(n) * norms[i]) : 0.f;
    for (int64_t j = 0; j < m; ++j) dg[i * m + j] = scale * g[i * m + j];
  }
}

}  // namespace kernels::cpu
