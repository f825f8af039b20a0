#pragma once
// The correlation step of LSRF/OMP training (train.h), on the cpu or the cuda device:
//   corr[j * kb + kk] = sum over rows r of features[r, j] * residuals[r, k0 + kk]      (=)
// features and residuals are [rows, P] row-major with rows = 3 channels x n samples stacked, so
// the sum over the channels is part of the reduction; corr is [P, kb] for the block of kb output
// pixels starting at k0. One engine::gemm_tn per block (OpenBLAS on the cpu, a kernel on cuda):
// the features are copied to the device once, and each block sends its kb residual columns and
// brings corr back (the picks and the ridge solves stay on the host).
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace models::lsrf {

class Correlation {
 public:
  Correlation(const std::vector<float>& features, int64_t rows, int64_t pixels, engine::Device device);
  void operator()(const std::vector<float>& residuals, int64_t k0, int kb, std::vector<float>& corr);

 private:
  const int64_t rows_, pixels_;
  const engine::Device device_;
  engine::Tensor features_;   // [rows, P] on the device
  std::vector<float> block_;  // the block's residual columns, gathered on the host
};

}  // namespace models::lsrf
