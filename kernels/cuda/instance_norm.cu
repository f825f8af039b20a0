// torch.nn.InstanceNorm2d, training statistics, optional affine and fused ReLU
// (kernels/instance_norm.h, maths in docs/ops/instance_norm.md). Legend: N batch, C channels,
// hw = H*W pixels per plane.
// Forward: one block per (n, c) plane. Two-pass statistics like the CPU (mean, then the sum of
// squared deviations: no E[x^2] - E[x]^2 cancellation), each a fixed warp-shuffle tree, then the
// normalised, affine (and ReLU) output; three passes over the plane, the second and third served
// from L1/L2 (a SARGAN plane is at most 64 KiB). float4 loads when the plane allows.
// Backward: dx, again one block per plane (two block sums, then the elementwise formula); the
// parameter gradients sum over n as well, so a second kernel takes one block per channel and
// walks its n planes in a fixed order: deterministic, no atomics, no workspace.
#include "common.cuh"
#include "kernels/instance_norm.h"

namespace kernels::cuda {
namespace {

// Threads per block: enough to cover small planes without idle warps, at most 512.
int norm_block(int64_t hw) {
  int64_t threads = 32;
  while (threads < 512 && threads * 4 < hw) threads *= 2;
  return static_cast<int>(threads);
}

// V consecutive floats (V = 1 or 4, the plane's vector width) as a float4 with the tail unused.
template <int V>
__device__ __forceinline__ float4 load(const float* p, int64_t i) {
  if (V == 4) return reinterpret_cast<const float4*>(p)[i];
  return make_float4(p[i], 0.f, 0.f, 0.f);
}

template <int V>
__device__ __forceinline__ void store(float* p, int64_t i, float4 v) {
  if (V == 4) {
    reinterpret_cast<float4*>(p)[i] = v;
  } else {
    p[i] = v.x;
  }
}

template <int V>
__device__ __forceinline__ float lane_sum(float4 v) {
  return V == 4 ? (v.x + v.y) + (v.z + v.w) : v.x;
}

// Sum over the block, made visible to every thread (block_sum leaves it in thread 0 only).
__device__ __forceinline__ float block_sum_all(float v, float* scratch, float* result) {
  v = block_sum(v, scratch);
  if (threadIdx.x == 0) *result = v;
  __syncthreads();
  return *result;
}

// (x - mean) * (rstd * weight) + bias, as the CPU rounds it; the ReLU maps NaN to 0 as v > 0 ? v : 0.
__device__ __forceinline__ float normalise(float v, float mu, float scale, float shift, bool fuse_relu) {
  const float out = (v - mu) * scale + shift;
  return fuse_relu ? (out > 0.f ? out : 0.f) : out;
}

template <int V>
__global__ void instance_norm_forward_kernel(int64_t c, int64_t hw, float eps, const float* x, const float* weight,
                                             const float* bias, bool fuse_relu, float* y, float* mean, float* rstd) {
  __shared__ float scratch[32];
  __shared__ float broadcast;
  const int64_t plane = blockIdx.x, vectors = hw / V;
  const float* xp = x + plane * hw;
  float* yp = y + plane * hw;
  float partial = 0.f;
  for (int64_t i = threadIdx.x; i < vectors; i += blockDim.x) partial += lane_sum<V>(load<V>(xp, i));
  const float mu = block_sum_all(partial, scratch, &broadcast) / static_cast<float>(hw);
  partial = 0.f;
  for (int64_t i = threadIdx.x; i < vectors; i += blockDim.x) {
    const float4 v = load<V>(xp, i);
    const float4 d = make_float4(v.x - mu, v.y - mu, v.z - mu, v.w - mu);
    partial += lane_sum<V>(make_float4(d.x * d.x, d.y * d.y, d.z * d.z, d.w * d.w));
  }
  const float squares = block_sum_all(partial, scratch, &broadcast);
  const float r = 1.f / sqrtf(squares / static_cast<float>(hw) + eps);
  if (threadIdx.x == 0) {
    mean[plane] = mu;
    rstd[plane] = r;
  }
  const int64_t channel = plane % c;
  const float scale = r * (weight ? weight[channel] : 1.f);
  const float shift = bias ? bias[channel] : 0.f;
  for (int64_t i = threadIdx.x; i < vectors; i += blockDim.x) {
    const float4 v = load<V>(xp, i);
    store<V>(yp, i,
             make_float4(normalise(v.x, mu, scale, shift, fuse_relu), normalise(v.y, mu, scale, shift, fuse_relu),
                         normalise(v.z, mu, scale, shift, fuse_relu), normalise(v.w, mu, scale, shift, fuse_relu)));
  }
}

// The upstream gradient with the fused ReLU's mask applied (relu_y null: not fused).
__device__ __forceinline__ float masked(float dy, const float* relu_y, int64_t at) {
  return relu_y == nullptr || relu_y[at] > 0.f ? dy : 0.f;
}

// dx of one plane; one block per plane. Scalar loads: the masked gradient mixes three inputs.
__global__ void instance_norm_backward_dx_kernel(int64_t c, int64_t hw, const float* x, const float* weight,
                                                 const float* mean, const float* rstd, const float* relu_y,
                                                 const float* dy, float* dx) {
  __shared__ float scratch[32];
  __shared__ float broadcast;
  const int64_t plane = blockIdx.x, base = plane * hw;
  const float mu = mean[plane], r = rstd[plane];
  float partial_g = 0.f, partial_g_xhat = 0.f;
  for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) {
    const float g = masked(dy[base + i], relu_y, base + i);
    partial_g += g;
    partial_g_xhat += g * ((x[base + i] - mu) * r);
  }
  const float sum_g = block_sum_all(partial_g, scratch, &broadcast);
  const float sum_g_xhat = block_sum_all(partial_g_xhat, scratch, &broadcast);
  const float gamma = weight ? weight[plane % c] : 1.f;
  const float inv_hw = 1.f / static_cast<float>(hw);
  const float mean_g = sum_g * gamma * inv_hw, mean_g_xhat = sum_g_xhat * gamma * inv_hw;
  for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) {
    const float xhat = (x[base + i] - mu) * r;
    dx[base + i] = r * (masked(dy[base + i], relu_y, base + i) * gamma - mean_g - xhat * mean_g_xhat);
  }
}

// dweight[c] = sum over n and the plane of g * xhat, dbias[c] = sum of g; one block per channel.
__global__ void instance_norm_backward_params_kernel(int64_t n, int64_t c, int64_t hw, const float* x,
                                                     const float* mean, const float* rstd, const float* relu_y,
                                                     const float* dy, float* dweight, float* dbias) {
  __shared__ float scratch[32];
  const int64_t channel = blockIdx.x;
  float partial_g = 0.f, partial_g_xhat = 0.f;
  for (int64_t batch = 0; batch < n; ++batch) {
    const int64_t plane = batch * c + channel, base = plane * hw;
    const float mu = mean[plane], r = rstd[plane];
    for (int64_t i = threadIdx.x; i < hw; i += blockDim.x) {
      const float g = masked(dy[base + i], relu_y, base + i);
      partial_g += g;
      partial_g_xhat += g * ((x[base + i] - mu) * r);
    }
  }
  const float total_g = block_sum(partial_g, scratch);
  const float total_g_xhat = block_sum(partial_g_xhat, scratch);
  if (threadIdx.x == 0) {
    if (dbias) dbias[channel] = total_g;
    if (dweight) dweight[channel] = total_g_xhat;
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void instance_norm_forward(int64_t n, int64_t c, int64_t hw, float eps, const float* x, const float* weight,
                           const float* bias, bool fuse_relu, float* y, float* mean, float* rstd) {
  if (n * c == 0 || hw == 0) return;
  const LaunchConfig config{dim3(static_cast<unsigned>(n * c)), dim3(norm_block(hw)), 0, stream()};
  if (hw % 4 == 0 && aligned16(x) && aligned16(y)) {
    launch(instance_norm_forward_kernel<4>, config, c, hw, eps, x, weight, bias, fuse_relu, y, mean, rstd);
  } else {
    launch(instance_norm_forward_kernel<1>, config, c, hw, eps, x, weight, bias, fuse_relu, y, mean, rstd);
  }
}

void instance_norm_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* weight, const float* mean,
                            const float* rstd, const float* relu_y, const float* dy, float* dx, float* dweight,
                            float* dbias) {
  if (n * c == 0 || hw == 0) return;
  const dim3 block(norm_block(hw));
  launch(instance_norm_backward_dx_kernel, {dim3(static_cast<unsigned>(n * c)), block, 0, stream()}, c, hw, x, weight,
         mean, rstd, relu_y, dy, dx);
  if (dweight == nullptr && dbias == nullptr) return;
  launch(instance_norm_backward_params_kernel, {dim3(static_cast<unsigned>(c)), dim3(norm_block(n * hw)), 0, stream()},
         n, c, hw, x, mean, rstd, relu_y, dy, dweight, dbias);
}

}  // namespace kernels::cuda
