#pragma once
// The correlation step of LSRF/OMP training (train.h), on the cpu or the cuda device:
//   corr[j * kb + kk] = sum over rows r of features[r, j] * residuals[r, k0 + kk]      (=)
// features and residuals are [rows, P] row-major with rows = 3 channels x n samples stacked, so
// the sum over the channels is part of the reduction; corr is [P, kb] for the block of kb output
// pixels starting at k0. One kernels/gemm_tn.h call per block: OpenBLAS on the cpu; on cuda the
// features are copied to the device once, and each block sends its kb residual columns and brings
// corr back (the picks and the ridge solves stay on the host).
#include <cstdint>
#include <vector>

#include "engine/device.h"
#include "engine/tensor.h"

namespace models::lsrf {

class Correlation {
 public:
  // `features` must outlive this object; blocks have at most max_block output pixels.
  Correlation(const std::vector<float>& features, int64_t rows, int64_t pixels, int max_block,
              engine::Device device);
  void operator()(const std::vector<float>& residuals, int64_t k0, int kb, std::vector<float>& corr);

 private:
  const std::vector<float>& features_;
  const int64_t rows_, pixels_;
  const engine::Device device_;
  // cuda only: the features, one block of residual columns [rows, max_block], corr [P, max_block]
  engine::Tensor features_device_, block_device_, corr_device_;
  std::vector<float> block_;  // the block's residual columns, gathered on the host
};

}  // namespace models::lsrf
