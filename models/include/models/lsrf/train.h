#pragma once
// Learning the sparse linear map W (S² x S²+1) from paired images, one output pixel k at a time
// (all of them in parallel), by orthogonal matching pursuit (OMP) or OMP with the LSRF locality
// constraint (Akram & Khan, LSRF, MTAP 2023), f steps each:
//   features  X_c[n, j] = input pixel j of sample n in channel c; its normalised copy is centred per
//             pixel over the samples and scaled to unit norm (sklearn's normalize(axis=0))
//   residual  r_c = targets of pixel k (channel c) over the samples, at the start
//   step      corr_j = sum_c <Xnorm_c[:, j], r_c>, for every j and every k at once: one GEMM per
//             block of output pixels, the channels stacked in its reduction (correlation.h; on the
//             cpu OpenBLAS, on the cuda device a kernel; the rest of the step runs on the host)
//             OMP:  add the j not yet chosen with the largest |corr_j|
//             LSRF: add the j with the largest |corr_j| + beta / dist_j, where dist_j sums over the
//                   output pixels m of the window around k (side 2 floor(sqrt(f)/2) + 1, as the
//                   authors' f_create_mask) the distance from j to the nearest pixel chosen for m
//                   in the previous steps (m itself before the first step); candidates at distance 0
//                   win, the largest |corr_j| among them. With f = 1 this picks pixel k itself.
//             the bias column S² joins at the first step; then solve the ridge problem
//             (A^T A + lamda I) w = A^T t on the chosen columns with the channels stacked (A's bias
//             column is 1), and r_c = t_c - A_c w
// Row k of W holds w at the chosen columns, in increasing column order (scipy's canonical CSR).
#include <string>
#include <vector>

#include "engine/device.h"
#include "models/lsrf/weights.h"

namespace models::lsrf {

// count pairs of 3-channel S x S images, channel-major: inputs[(c * count + n) * S² + p].
struct TrainingSet {
  int size = 0;
  int count = 0;
  std::vector<float> inputs;
  std::vector<float> targets;
};

// <dir>/trainA/*.png (neutral) paired by natural-sort position with <dir>/trainB/*.png (target),
// each read through load_planes. Throws engine::Error for missing or unpaired folders (the counts
// and the first unmatched file named) and for unreadable images, before anything is trained.
TrainingSet load_training_set(const std::string& dir, int size, const std::string& split = "train");

enum class Method { omp, lsrf };

struct TrainOptions {
  Method method = Method::lsrf;
  int f = 5;            // nonzero input weights per output pixel (the bias comes on top)
  double lamda = 0.4;   // ridge penalty
  double beta = 60.0;   // LSRF locality weight
  bool progress = false;  // one line per step on stderr
  engine::Device device = engine::Device::cpu();  // where the correlation GEMMs run
};

CsrWeights train(const TrainingSet& set, const TrainOptions& options);

}  // namespace models::lsrf
