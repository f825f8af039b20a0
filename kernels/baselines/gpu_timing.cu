// The benchmark's view of a real GPU (kernels/conv2d_baseline.h, namespace gpu): its theoretical
// peaks and CUDA-event timing. ENGINE_CUDA=ON builds only; the emulator has no speed to measure.
#include "common.cuh"
#include "kernels/conv2d_baseline.h"

namespace kernels::gpu {
namespace {

int attribute(cudaDeviceAttr which, int device) {
  int value = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&value, which, device));
  return value;
}

// FP32 FMA lanes per SM (CUDA C Programming Guide, "Arithmetic Instructions"): 64 on the
// data-centre parts sm_60/70/75/80, 128 on sm_86/89/90 and later.
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 6 && minor == 0) return 64;
  if (major == 7 || (major == 8 && minor == 0)) return 64;
  return 128;
}

}  // namespace

DevicePeak device_peak() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DevicePeak peak;
  peak.name = prop.name;
  peak.major = prop.major;
  peak.minor = prop.minor;
  peak.sm_count = attribute(cudaDevAttrMultiProcessorCount, device);
  peak.fp32_lanes_per_sm = fp32_lanes_per_sm(peak.major, peak.minor);
  peak.clock_ghz = attribute(cudaDevAttrClockRate, device) * 1e-6;  // kHz
  peak.memory_clock_ghz = attribute(cudaDevAttrMemoryClockRate, device) * 1e-6;
  peak.bus_width_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device);
  peak.fp32_gflops = 2.0 * peak.fp32_lanes_per_sm * peak.sm_count * peak.clock_ghz;
  peak.bandwidth_gbs = 2.0 * peak.memory_clock_ghz * peak.bus_width_bits / 8.0;
  return peak;
}

std::vector<double> time_calls_ms(const std::function<void()>& call, int warmup, int repeats) {
  for (int i = 0; i < warmup; ++i) call();
  cudaEvent_t start = nullptr, stop = nullptr;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> times;
  try {
    for (int i = 0; i < repeats; ++i) {
      CUDA_CHECK(cudaEventRecord(start, cuda::stream()));
      call();
      CUDA_CHECK(cudaEventRecord(stop, cuda::stream()));
      CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      times.push_back(ms);
    }
  } catch (...) {
    (void)cudaEventDestroy(start);
    (void)cudaEventDestroy(stop);
    throw;
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  return times;
}

}  // namespace kernels::gpu
