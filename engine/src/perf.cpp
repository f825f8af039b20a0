// The benchmarks' view below the ops (contract in perf.h): forwards to kernels/ where the build
// has the part, throws a one-line error where it does not.
#include "engine/perf.h"

#include <cstdio>

#include "engine/check.h"

namespace engine::perf {

#if ENGINE_CUDA_EMULATED
bool profile_available() { return kernels::emu::profile_available(); }
void set_profiling(bool on) { kernels::emu::set_profiling(on); }
bool sampled_blocks_only() { return kernels::emu::sampled_blocks_only(); }
std::vector<LaunchProfile> take_launch_profiles() { return kernels::emu::take_launch_profiles(); }
double predict_h200_ms(const LaunchProfile& p) { return kernels::emu::predict_h200_ms(p); }
#else
namespace {
[[noreturn]] void no_emulator(const char* what) {
  ENGINE_FAIL(what, " needs the emulator's profiler: configure with -DENGINE_CUDA=EMU");
}
}  // namespace
bool profile_available() { return false; }
void set_profiling(bool) { no_emulator("set_profiling"); }
bool sampled_blocks_only() { return false; }
std::vector<LaunchProfile> take_launch_profiles() { return {}; }
double predict_h200_ms(const LaunchProfile&) { no_emulator("predict_h200_ms"); }
#endif
H200Workload take_h200_workload() { return kernels::take_h200_workload(); }

#if ENGINE_WITH_CUDA_BASELINES
bool gpu_baselines_in_build() { return true; }
const char* conv_impl_name(ConvImpl impl) { return kernels::conv_impl_name(impl); }
ConvImpl conv_impl() { return kernels::conv_impl(); }
void set_conv_impl(ConvImpl impl) { kernels::set_conv_impl(impl); }
bool cudnn_in_build() { return kernels::cudnn_in_build(); }
DevicePeak device_peak() { return kernels::gpu::device_peak(); }
void cublas_sgemm(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  kernels::cublas::sgemm(m, n, k, a, b, c);
}
std::vector<double> time_cuda_calls_ms(const std::function<void()>& call, int warmup, int repeats) {
  return kernels::gpu::time_calls_ms(call, warmup, repeats);
}
#else
namespace {
[[noreturn]] void no_gpu(const char* what) {
  ENGINE_FAIL(what, " needs a real-GPU build (-DENGINE_CUDA=ON): the vendor baselines and CUDA events");
}
}  // namespace
bool gpu_baselines_in_build() { return false; }
const char* conv_impl_name(ConvImpl) { no_gpu("conv_impl_name"); }
ConvImpl conv_impl() { return ConvImpl::ours; }
void set_conv_impl(ConvImpl) { no_gpu("set_conv_impl"); }
bool cudnn_in_build() { return false; }
DevicePeak device_peak() { no_gpu("device_peak"); }
void cublas_sgemm(int64_t, int64_t, int64_t, const float*, const float*, float*) { no_gpu("cublas_sgemm"); }
std::vector<double> time_cuda_calls_ms(const std::function<void()>&, int, int) { no_gpu("time_cuda_calls_ms"); }
#endif

void print_h200_workload(const H200Workload& w, int runs, const char* unit, int top) {
  if (!w.profiled) return;
  std::printf("predicted H200: %.3f ms (modelled per %s, not measured; %.0f launches)\n", w.ms / runs, unit,
              double(w.launches) / runs);
  for (std::size_t i = 0; i < w.by_kernel.size() && int(i) < top; ++i) {
    const kernels::H200KernelTotal& k = w.by_kernel[i];
    std::printf("  %8.3f ms %6.0f launches  %s\n", k.ms / runs, double(k.launches) / runs, k.kernel.c_str());
  }
}

}  // namespace engine::perf
