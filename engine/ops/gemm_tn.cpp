// gemm_tn: C = A^T B for A [K,M] and B [K,N] stored K-major (kernels/gemm_tn.h), the correlation
// GEMM of LSRF/OMP training. The backward, dA = B G^T and dB = A G, is written as broadcast
// products summed over the contracted dimension, so it is differentiable to any order; it holds a
// [K,M,N] temporary, which suits the small checks that need it (training never differentiates it).
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/gemm_tn.h"
#include "op_util.h"

namespace engine {

Tensor gemm_tn(const Tensor& a, const Tensor& b) {
  const Device device = ops::common_device("gemm_tn", {a, b});
  ops::check_rank("gemm_tn", "a", a, 2);
  ops::check_rank("gemm_tn", "b", b, 2);
  const int64_t k = a.shape()[0], m = a.shape()[1], n = b.shape()[1];
  ENGINE_CHECK(b.shape()[0] == k, "gemm_tn: expected a [K,M] and b [K,N] with the same K, got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  Tensor c = Tensor::empty({m, n}, device);
  if (c.numel() > 0) ENGINE_DISPATCH(device, gemm_tn, m, n, k, a.data(), m, b.data(), n, c.data(), n);
  return record("gemm_tn", {a, b}, c, [a, b](const Tensor& g) -> std::vector<Tensor> {
    const Tensor g_mn = unsqueeze(g, 0);                          // [1,M,N]
    return {sum(unsqueeze(b, 1) * g_mn, {2}),                      // dA[l,i] = sum_j B[l,j] G[i,j]
            sum(unsqueeze(a, 2) * g_mn, {1})};                     // dB[l,j] = sum_i A[l,i] G[i,j]
  });
}

}  // namespace engine
