#pragma once
// What the benchmarks see below the ops (apps/bench*, docs/perf.md): on a real GPU the vendor
// baselines of the conv ops (cuDNN, cuBLAS), the device's peaks and CUDA-event timing; on the
// emulator its profiler and the calibrated H200 model. The types are kernels/'s, re-exported so
// that the apps and models include engine headers only. Every function exists in every build:
// the real-GPU ones throw engine::Error unless gpu_baselines_in_build(), the profiler's unless
// engine::cuda_emulated() (take_h200_workload says `profiled = false` there, for the whole-model
// benches).
#include <functional>
#include <vector>

#include "engine/device.h"
#include "kernels/conv2d_baseline.h"
#include "kernels/emu_profile.h"
#include "kernels/h200_prediction.h"

namespace engine::perf {

bool gpu_baselines_in_build();  // ENGINE_CUDA=ON: everything of the real-GPU half below

// ---- real GPU ----
using kernels::ConvImpl;
using kernels::gpu::DevicePeak;
const char* conv_impl_name(ConvImpl impl);
ConvImpl conv_impl();  // what the engine's cuda convolutions run (ENGINE_CONV_IMPL)
void set_conv_impl(ConvImpl impl);
bool cudnn_in_build();
DevicePeak device_peak();
// Row-major c[m][n] = a[m][k] b[k][n], device pointers, cuBLAS fp32 (no TF32).
void cublas_sgemm(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c);
// Device milliseconds of each of `repeats` calls after `warmup` untimed ones (CUDA events).
std::vector<double> time_cuda_calls_ms(const std::function<void()>& call, int warmup, int repeats);

// ---- the emulator's profiler (kernels/emu_profile.h) ----
using kernels::emu::LaunchProfile;
bool profile_available();
void set_profiling(bool on);
// ENGINE_EMU_PROFILE=sampled (kernels/emu_profile.h): launches run only the profiler's sampled
// blocks, so device results are placeholders; a caller that checks values (a loss being finite)
// skips the check while this is true. False outside the emulator.
bool sampled_blocks_only();
std::vector<LaunchProfile> take_launch_profiles();  // since the last take; clears them
double predict_h200_ms(const LaunchProfile& p);
// The modelled H200 time of the launches profiled since the last call (clears them), in total
// and per kernel; `profiled` is false when nothing is profiled (not an emulator build, or
// ENGINE_EMU_PROFILE is not 1).
using kernels::H200Workload;
H200Workload take_h200_workload();
// Prints `predicted H200: <ms> ms (modelled per <unit>, not measured; N launches)` and the `top`
// kernels by modelled time, each divided by `runs`; nothing when the workload was not profiled.
void print_h200_workload(const H200Workload& w, int runs, const char* unit, int top = 12);

}  // namespace engine::perf
