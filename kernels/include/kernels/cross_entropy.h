#pragma once
// Softmax cross-entropy per row (F.cross_entropy(logits, labels, reduction='none')); the engine
// takes the mean. Legend: N rows (batch), K classes.
// forward:  logits [N,K], labels [N] (device memory, each in [0, K), checked by the caller) ->
//           loss[n] = lse[n] - logits[n, labels[n]] (=) and lse[n] = log sum_k exp(logits[n,k])
//           (=), computed as max + log sum exp(logit - max) so that no exp overflows.
// backward: dlogits[n,k] = dloss[n] * (exp(logits[n,k] - lse[n]) - [k == labels[n]]) (=),
//           from the forward's lse.
// Outputs must not alias inputs. A GPU kernel can take one warp or block per row.
#include <cstdint>

namespace kernels {
namespace cpu {
void cross_entropy_forward(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                           float* loss, float* lse);
void cross_entropy_backward(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                            const float* lse, const float* dloss, float* dlogits);
}  // namespace cpu
namespace cuda {
void cross_entropy_forward(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                           float* loss, float* lse);
void cross_entropy_backward(int64_t n, int64_t k, const float* logits, const int64_t* labels,
                            const float* lse, const float* dloss, float* dlogits);
}  // namespace cuda
}  // namespace kernels
