// The correlation GEMM of LSRF/OMP training on the cpu or the cuda device (contract in
// correlation.h).
#include "models/lsrf/correlation.h"

#include <algorithm>

#include "engine/check.h"
#include "engine/ops.h"

namespace models::lsrf {

Correlation::Correlation(const std::vector<float>& features, int64_t rows, int64_t pixels, engine::Device device)
    : rows_(rows), pixels_(pixels), device_(device) {
  ENGINE_CHECK(features.size() == size_t(rows * pixels), "lsrf training: ", features.size(),
               " features for ", rows, " x ", pixels);
  ENGINE_CHECK(device.is_cpu() || engine::cuda_available(),
               "lsrf training: the cuda device is not available; use --device cpu");
  features_ = engine::Tensor::from_vector(features, {rows, pixels}, device);
}

void Correlation::operator()(const std::vector<float>& residuals, int64_t k0, int kb, std::vector<float>& corr) {
  // Only the block's columns travel: gathered here into [rows, kb].
  block_.resize(size_t(rows_) * kb);
  for (int64_t r = 0; r < rows_; ++r)
    std::copy_n(&residuals[size_t(r * pixels_ + k0)], kb, &block_[size_t(r * kb)]);
  corr = engine::gemm_tn(features_, engine::Tensor::from_vector(block_, {rows_, kb}, device_)).to_vector();
}

}  // namespace models::lsrf
