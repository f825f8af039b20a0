#pragma once
// Real-GPU baselines: the three conv2d operations of kernels/conv2d.h (same Conv2dShape, same
// pointers, same contract: NCHW float32 on the device, outputs overwritten, no aliasing) through
// NVIDIA's libraries, to cross-check our kernels and to be the benchmark's yardstick (apps/bench/).
//   kernels::cudnn   cudnnConvolutionForward / BackwardData / BackwardFilter, the algorithm chosen
//                    once per shape by cudnnFind* (fastest deterministic one), FMA math (no TF32,
//                    like our fp32 kernels), workspace kept and grown on demand.
//   kernels::cublas  im2col / col2im kernels + cublasSgemm(StridedBatched): the textbook
//                    "lower to GEMM" convolution.
// Built only with ENGINE_CUDA=ON (macro ENGINE_WITH_CUDA_BASELINES); the cuDNN half only when
// CMake found cuDNN (ENGINE_WITH_CUDNN). They need a GPU: the emulator cannot run vendor code.
//
// ENGINE_CONV_IMPL=ours|cudnn|cublas (read once; default ours) selects what the engine's conv ops
// run on a real GPU (engine/ops/conv2d.cpp); set_conv_impl overrides it (the benchmark does).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/conv2d.h"

namespace kernels {

enum class ConvImpl { ours, cudnn, cublas };
const char* conv_impl_name(ConvImpl impl);
// The selected implementation: set_conv_impl's, else ENGINE_CONV_IMPL's (throws CudaError on an
// unknown value, or on cudnn in a build without cuDNN), else ours.
ConvImpl conv_impl();
void set_conv_impl(ConvImpl impl);  // throws CudaError for cudnn in a build without cuDNN
bool cudnn_in_build();

// The three operations through `impl` (cudnn or cublas): what the engine's conv dispatch calls.
namespace baseline {
// The forward's epilogue runs after the vendor's convolution, as our kernel's summing pass
// (cuda::conv2d_apply_epilogue): cuDNN's fused bias-activation forward has no leaky ReLU.
void conv2d_forward(ConvImpl impl, const Conv2dShape& shape, const float* x, const float* w, float* y,
                    const ConvEpilogue& epilogue = {});
void conv2d_backward_input(ConvImpl impl, const Conv2dShape& shape, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(ConvImpl impl, const Conv2dShape& shape, const float* x, const float* dy, float* dw);
}  // namespace baseline

namespace cudnn {  // defined only when cudnn_in_build()
void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y);
void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw);
}  // namespace cudnn

namespace cublas {
void conv2d_forward(const Conv2dShape& shape, const float* x, const float* w, float* y);
void conv2d_backward_input(const Conv2dShape& shape, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const Conv2dShape& shape, const float* x, const float* dy, float* dw);
// Row-major c[m][n] = a[m][k] * b[k][n] on the device (fp32, no TF32): the benchmark's ceiling.
void sgemm(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c);
}  // namespace cublas

namespace gpu {
// The device's theoretical peaks, from cudaDeviceGetAttribute (CUDA 13 dropped the clock fields
// of cudaDeviceProp): fp32 = 2 x FP32 lanes per SM (by compute capability) x SMs x boost clock;
// bandwidth = 2 (double data rate) x memory clock x bus width.
struct DevicePeak {
  std::string name;
  int major = 0, minor = 0, sm_count = 0, fp32_lanes_per_sm = 0;
  double clock_ghz = 0, memory_clock_ghz = 0;
  int bus_width_bits = 0;
  double fp32_gflops = 0, bandwidth_gbs = 0;
};
DevicePeak device_peak();

// Device time in milliseconds of each of `repeats` calls of `call`, after `warmup` untimed ones,
// between CUDA events recorded on the current stream around each call.
std::vector<double> time_calls_ms(const std::function<void()>& call, int warmup, int repeats);
}  // namespace gpu

}  // namespace kernels
