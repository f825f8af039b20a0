// Per-row softmax cross-entropy (F.cross_entropy with reduction='none') and its fused backward.
// Rows are few and short (SARGAN: batch x 7 expressions), so rows run serially; the exp sum is
// kept in double.
#include "kernels/cross_entropy.h"

#include <cmath>

namespace kernels::cpu {

void cross_entropy_forward(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                           float* loss, float* lse) {
  for (int64_t row = 0; row < n; ++row) {
    const float* z = logits + row * k;
    float max = z[0];
    for (int64_t j = 1; j < k; ++j) max = std::fmax(max, z[j]);
    double total = 0.0;
    for (int64_t j = 0; j < k; ++j) total += std::exp(static_cast<double>(z[j]) - max);
    const double log_sum_exp = max + std::log(total);
    lse[row] = static_cast<float>(log_sum_exp);
    loss[row] = static_cast<float>(log_sum_exp - z[labels[row]]);
  }
}

void cross_entropy_backward(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                            const float* lse, const float* dloss, float* dlogits) {
  for (int64_t row = 0; row < n; ++row) {
    const float* z = logits + row * k;
    float* dz = dlogits + row * k;
    for (int64_t j = 0; j < k; ++j) dz[j] = dloss[row] * std::exp(z[j] - lse[row]);
    dz[labels[row]] -= dloss[row];
  }
}

}  // namespace kernels::cpu
