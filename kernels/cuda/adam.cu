// Adam over many parameter tensors in one launch (kernels/adam.h; torch.optim.Adam, single-tensor
// path, same per-element operations as kernels/cpu/adam.cpp).
// Multi-tensor apply: the launcher packs up to adam_tensors_per_launch tensors' pointers into one
// by-value kernel argument (kept under the classic 4 KiB parameter limit) and cuts every tensor
// into chunks of adam_chunk elements; each block takes chunks in a grid-stride loop and finds its
// tensor by a binary search over the chunk prefix sums (indexing the argument in the parameter
// bank, no local-memory copy). Within a chunk, float4 loads and stores when the four arrays of
// the tensor are 16-byte aligned (chunk starts are multiples of 4 elements). Purely elementwise:
// no reductions, no atomics.
#include "common.cuh"
#include "kernels/adam.h"

#include <algorithm>

namespace kernels::cuda {
namespace {

constexpr int adam_block = 256;
constexpr int64_t adam_chunk = adam_block * 16;  // 16 elements a thread per chunk
constexpr int adam_tensors_per_launch = 80;

struct AdamTensorTable {
  float* param[adam_tensors_per_launch];
  const float* grad[adam_tensors_per_launch];
  float* exp_avg[adam_tensors_per_launch];
  float* exp_avg_sq[adam_tensors_per_launch];
  int64_t size[adam_tensors_per_launch];
  int32_t first_chunk[adam_tensors_per_launch];  // prefix sums of the chunk counts
  int32_t count;
  int32_t total_chunks;
};
static_assert(sizeof(AdamTensorTable) + sizeof(AdamStepParams) <= 4096, "kernel arguments exceed 4 KiB");

__device__ __forceinline__ void adam_update(float& param, float grad, float& m, float& v, const AdamStepParams& p) {
  m = m * p.beta1 + p.one_minus_beta1 * grad;
  v = v * p.beta2 + p.one_minus_beta2 * grad * grad;
  const float denom = sqrtf(v) / p.bias_correction2_sqrt + p.eps;
  param = param + -p.step_size * m / denom;
}

__global__ void adam_step_kernel(AdamTensorTable table, AdamStepParams p) {
  if (p.device_finite_guard != nullptr && !isfinite(*p.device_finite_guard)) return;
  if (p.device_step_scalars != nullptr) {
    p.step_size = p.device_step_scalars[0];
    p.bias_correction2_sqrt = p.device_step_scalars[1];
  }
  for (int32_t chunk = blockIdx.x; chunk < table.total_chunks; chunk += gridDim.x) {
    int lo = 0, hi = table.count - 1;  // the last tensor whose first chunk is <= chunk
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (table.first_chunk[mid] <= chunk) lo = mid; else hi = mid - 1;
    }
    float* param = table.param[lo];
    const float* grad = table.grad[lo];
    float* m = table.exp_avg[lo];
    float* v = table.exp_avg_sq[lo];
    const int64_t begin = (chunk - table.first_chunk[lo]) * adam_chunk;
    const int64_t end = min(begin + adam_chunk, table.size[lo]);
    int64_t scalar_from = begin;
    const uintptr_t addresses = reinterpret_cast<uintptr_t>(param) | reinterpret_cast<uintptr_t>(grad) |
                                reinterpret_cast<uintptr_t>(m) | reinterpret_cast<uintptr_t>(v);
    if (addresses % 16 == 0) {
      const int64_t vectors = (end - begin) / 4;
      for (int64_t i = threadIdx.x; i < vectors; i += blockDim.x) {
        const int64_t at = begin / 4 + i;
        float4 pv = reinterpret_cast<float4*>(param)[at], mv = reinterpret_cast<float4*>(m)[at],
               vv = reinterpret_cast<float4*>(v)[at];
        const float4 gv = reinterpret_cast<const float4*>(grad)[at];
        adam_update(pv.x, gv.x, mv.x, vv.x, p);
        adam_update(pv.y, gv.y, mv.y, vv.y, p);
        adam_update(pv.z, gv.z, mv.z, vv.z, p);
        adam_update(pv.w, gv.w, mv.w, vv.w, p);
        reinterpret_cast<float4*>(param)[at] = pv;
        reinterpret_cast<float4*>(m)[at] = mv;
        reinterpret_cast<float4*>(v)[at] = vv;
      }
      scalar_from = begin + vectors * 4;
    }
    for (int64_t i = scalar_from + threadIdx.x; i < end; i += blockDim.x) adam_update(param[i], grad[i], m[i], v[i], p);
  }
}

}  // namespace

void adam_step(int64_t count, float* const* params, const float* const* grads, float* const* exp_avgs,
               float* const* exp_avg_sqs, const int64_t* sizes, AdamStepParams p) {
  AdamTensorTable table{};
  const auto flush = [&] {
    if (table.total_chunks == 0) return;
    const unsigned blocks = static_cast<unsigned>(std::min<int32_t>(table.total_chunks, 65535));
    launch(adam_step_kernel, {dim3(blocks), dim3(adam_block), 0, stream()}, table, p);
    table = AdamTensorTable{};
  };
  for (int64_t t = 0; t < count; ++t) {
    if (sizes[t] == 0) continue;
    if (table.count == adam_tensors_per_launch) flush();
    const int i = table.count++;
    table.param[i] = params[t];
    table.grad[i] = grads[t];
    table.exp_avg[i] = exp_avgs[t];
    table.exp_avg_sq[i] = exp_avg_sqs[t];
    table.size[i] = sizes[t];
    table.first_chunk[i] = table.total_chunks;
    table.total_chunks += static_cast<int32_t>((sizes[t] + adam_chunk - 1) / adam_chunk);
  }
  flush();
}

}  // namespace kernels::cuda
