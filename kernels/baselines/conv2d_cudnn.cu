// conv2d through cuDNN (kernels/conv2d_baseline.h): the vendor yardstick for kernels/cuda/conv2d.cu.
// Compiled only in ENGINE_CUDA=ON builds where CMake found cuDNN.
//
// Per (operation, shape) a plan is made once and kept: descriptors, and the algorithm that
// cudnnFind* measured fastest among the deterministic ones (ours is deterministic, so the
// comparison is like for like; a nondeterministic one only when no deterministic one runs).
// CUDNN_FMA_MATH keeps cuDNN in plain fp32 (no TF32 tensor cores) as our kernels are.
#include <cudnn.h>

#include <array>
#include <map>
#include <string>

#include "common.cuh"
#include "kernels/conv2d_baseline.h"

namespace kernels::cudnn {
namespace {

void check_cudnn(cudnnStatus_t status, const char* what, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw CudaError(std::string("cuDNN error ") + cudnnGetErrorString(status) + " in " + what + " at " + file + ":" +
                    std::to_string(line));
}
#define CUDNN_CHECK(expr) check_cudnn((expr), #expr, __FILE__, __LINE__)

cudnnHandle_t handle() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    CUDNN_CHECK(cudnnCreate(&created));
    return created;
  }();
  CUDNN_CHECK(cudnnSetStream(h, cuda::stream()));
  return h;
}

// Scratch for the chosen algorithms, grown on demand and kept (one host thread issues convs;
// ScratchBuffer never frees a buffer a captured CUDA graph may hold).
void* workspace(size_t bytes) {
  static cuda::ScratchBuffer<unsigned char> buffer;
  return buffer.get(bytes);
}

enum class Op { forward, backward_input, backward_weight };

struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = 0;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t, by Op
  size_t workspace_bytes = 0;
};

// The fastest deterministic result that ran (Find sorts by time), else the fastest that ran. The
// calls run with the descriptor's math type (FMA) whatever the result reports.
template <class Perf>
const Perf& choose(const Perf* results, int count, const char* op) {
  for (int i = 0; i < count; ++i)
    if (results[i].status == CUDNN_STATUS_SUCCESS && results[i].determinism == CUDNN_DETERMINISTIC) return results[i];
  for (int i = 0; i < count; ++i)
    if (results[i].status == CUDNN_STATUS_SUCCESS) return results[i];
  throw CudaError(std::string("cuDNN: no algorithm runs ") + op + " for this shape");
}

Plan make_plan(Op op, const Conv2dShape& s) {
  Plan p;
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.x));
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&p.y));
  CUDNN_CHECK(cudnnCreateFilterDescriptor(&p.w));
  CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p.conv));
  const auto i = [](int64_t v) { return static_cast<int>(v); };
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i(s.n), i(s.c_in), i(s.h_in),
                                         i(s.w_in)));
  CUDNN_CHECK(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i(s.n), i(s.c_out), i(s.h_out),
                                         i(s.w_out)));
  CUDNN_CHECK(
      cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, i(s.c_out), i(s.c_in), i(s.k_h), i(s.k_w)));
  CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p.conv, i(s.pad), i(s.pad), i(s.stride), i(s.stride), 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv, CUDNN_FMA_MATH));
  constexpr int max_algos = 16;
  int returned = 0;
  if (op == Op::forward) {
    cudnnConvolutionFwdAlgoPerf_t results[max_algos];
    CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(handle(), p.x, p.w, p.conv, p.y, max_algos, &returned, results));
    const auto& best = choose(results, returned, "conv2d_forward");
    p.algo = best.algo;
    p.workspace_bytes = best.memory;
  } else if (op == Op::backward_input) {
    cudnnConvolutionBwdDataAlgoPerf_t results[max_algos];
    CUDNN_CHECK(
        cudnnFindConvolutionBackwardDataAlgorithm(handle(), p.w, p.y, p.conv, p.x, max_algos, &returned, results));
    const auto& best = choose(results, returned, "conv2d_backward_input");
    p.algo = best.algo;
    p.workspace_bytes = best.memory;
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t results[max_algos];
    CUDNN_CHECK(
        cudnnFindConvolutionBackwardFilterAlgorithm(handle(), p.x, p.y, p.conv, p.w, max_algos, &returned, results));
    const auto& best = choose(results, returned, "conv2d_backward_weight");
    p.algo = best.algo;
    p.workspace_bytes = best.memory;
  }
  return p;
}

const Plan& plan(Op op, const Conv2dShape& s) {
  using Key = std::array<int64_t, 12>;
  static std::map<Key, Plan> plans;
  const Key key{static_cast<int64_t>(op), s.n, s.c_in, s.h_in, s.w_in, s.c_out, s.k_h, s.k_w, s.stride, s.pad, s.h_out,
                s.w_out};
  auto found = plans.find(key);
  if (found == plans.end()) found = plans.emplace(key, make_plan(op, s)).first;
  return found->second;
}

bool empty(const Conv2dShape& s) { return s.n == 0 || s.c_in == 0 || s.c_out == 0 || s.h_out == 0 || s.w_out == 0; }

}  // namespace

void conv2d_forward(const Conv2dShape& s, const float* x, const float* w, float* y) {
  if (empty(s)) return;
  const Plan& p = plan(Op::forward, s);
  const float one = 1.f, zero = 0.f;
  CUDNN_CHECK(cudnnConvolutionForward(handle(), &one, p.x, x, p.w, w, p.conv,
                                      static_cast<cudnnConvolutionFwdAlgo_t>(p.algo), workspace(p.workspace_bytes),
                                      p.workspace_bytes, &zero, p.y, y));
}

void conv2d_backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  if (s.n == 0 || s.c_in == 0) return;
  if (empty(s)) {
    CUDA_CHECK(cudaMemsetAsync(dx, 0, sizeof(float) * s.n * s.c_in * s.h_in * s.w_in, cuda::stream()));
    return;
  }
  const Plan& p = plan(Op::backward_input, s);
  const float one = 1.f, zero = 0.f;
  CUDNN_CHECK(cudnnConvolutionBackwardData(handle(), &one, p.w, w, p.y, dy, p.conv,
                                           static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algo),
                                           workspace(p.workspace_bytes), p.workspace_bytes, &zero, p.x, dx));
}

void conv2d_backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  if (s.c_out == 0 || s.c_in == 0) return;
  if (empty(s)) {
    CUDA_CHECK(cudaMemsetAsync(dw, 0, sizeof(float) * s.c_out * s.c_in * s.k_h * s.k_w, cuda::stream()));
    return;
  }
  const Plan& p = plan(Op::backward_weight, s);
  const float one = 1.f, zero = 0.f;
  CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle(), &one, p.x, x, p.y, dy, p.conv,
                                             static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algo),
                                             workspace(p.workspace_bytes), p.workspace_bytes, &zero, p.w, dw));
}

}  // namespace kernels::cudnn
