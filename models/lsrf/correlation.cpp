// The correlation GEMM of LSRF/OMP training on the cpu or the cuda device (contract in
// correlation.h).
#include "models/lsrf/correlation.h"

#include <algorithm>

#include "engine/check.h"
#include "kernels/gemm_tn.h"

namespace models::lsrf {

Correlation::Correlation(const std::vector<float>& features, int64_t rows, int64_t pixels, int max_block,
                         engine::Device device)
    : features_(features), rows_(rows), pixels_(pixels), device_(device) {
  ENGINE_CHECK(features.size() == size_t(rows * pixels), "lsrf training: ", features.size(),
               " features for ", rows, " x ", pixels);
  if (device.is_cpu()) return;
  ENGINE_CHECK(engine::cuda_available(), "lsrf training: the cuda device is not available; use --device cpu");
  features_device_ = engine::Tensor::from_vector(features, {rows, pixels}, device);
  block_device_ = engine::Tensor::empty({rows, max_block}, device);
  corr_device_ = engine::Tensor::empty({pixels, max_block}, device);
}

void Correlation::operator()(const std::vector<float>& residuals, int64_t k0, int kb, std::vector<float>& corr) {
  corr.resize(size_t(pixels_) * kb);
  if (device_.is_cpu()) {
    kernels::cpu::gemm_tn(pixels_, kb, rows_, features_.data(), pixels_, &residuals[size_t(k0)], pixels_,
                          corr.data(), kb);
    return;
  }
#if ENGINE_WITH_CUDA
  ENGINE_CHECK(kb <= block_device_.shape()[1], "lsrf training: a block of ", kb, " pixels exceeds ",
               block_device_.shape()[1]);
  // Only the block's columns travel: gathered here into [rows, kb], B's row stride is then kb.
  block_.resize(size_t(rows_) * kb);
  for (int64_t r = 0; r < rows_; ++r)
    std::copy_n(&residuals[size_t(r * pixels_ + k0)], kb, &block_[size_t(r * kb)]);
  const engine::Device cpu = engine::Device::cpu();
  engine::device_copy(device_, block_device_.data(), cpu, block_.data(), block_.size() * sizeof(float));
  kernels::cuda::gemm_tn(pixels_, kb, rows_, features_device_.data(), pixels_, block_device_.data(), kb,
                         corr_device_.data(), kb);
  engine::device_copy(cpu, corr.data(), device_, corr_device_.data(), corr.size() * sizeof(float));
#else
  ENGINE_FAIL("lsrf training: this build has no cuda device; use --device cpu");
#endif
}

}  // namespace models::lsrf
