#pragma once
// torch.nn.InstanceNorm2d (affine or not, always instance statistics, biased variance) on
// `planes` = N*C contiguous planes of `hw` = H*W elements; channel of plane i is i % C.
// Legend: N batch, C channels, H height, W width.
//
// forward: x [N,C,hw] -> y [N,C,hw] (=), mean [N*C] (=), rstd [N*C] (=) with
//          rstd = 1 / sqrt(var + eps), y = (x - mean) * rstd * weight[c] + bias[c].
//          weight and bias may each be null (1 and 0). With fuse_relu, y = max(y, 0): the
//          IN -> ReLU pair of SARGAN in one pass over memory.
// backward: from x, the forward's mean and rstd, and dy [N,C,hw]: dx (=), and when not null,
//          dweight[c] = sum_{n,hw} dy * xhat (=) and dbias[c] = sum_{n,hw} dy (=), where
//          xhat = (x - mean) * rstd. relu_y is the fused forward's y (its positive entries say
//          where the ReLU passed dy) or null when the forward was not fused.
// x, y, dy and dx must not alias. See docs/ops/instance_norm.md for the derivation.
// A GPU kernel can take one block per plane for the forward and for dx; dweight/dbias are sums
// over N as well, so a deterministic kernel gives each block one channel and loops over n.
#include <cstdint>

namespace kernels {
namespace cpu {
void instance_norm_forward(int64_t n, int64_t c, int64_t hw, float eps, const float* x,
                           const float* weight, const float* bias, bool fuse_relu, float* y,
                           float* mean, float* rstd);
void instance_norm_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* weight,
                            const float* mean, const float* rstd, const float* relu_y,
                            const float* dy, float* dx, float* dweight, float* dbias);
}  // namespace cpu
namespace cuda {
void instance_norm_forward(int64_t n, int64_t c, int64_t hw, float eps, const float* x,
                           const float* weight, const float* bias, bool fuse_relu, float* y,
                           float* mean, float* rstd);
void instance_norm_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* weight,
                            const float* mean, const float* rstd, const float* relu_y,
                            const float* dy, float* dx, float* dweight, float* dbias);
}  // namespace cuda
}  // namespace kernels
