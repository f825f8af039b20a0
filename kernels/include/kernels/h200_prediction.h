#pragma once
// Whole-workload H200 predictions for the apps (docs/perf.md): the sum of the modelled H200
// times of the kernel launches the emulator profiled since the last call (which clears them).
// Negative when nothing is profiled: not an emulator build, or ENGINE_EMU_PROFILE is not 1.
namespace kernels {

#if defined(ENGINE_CUDA_EMULATED)
double take_predicted_h200_ms();
#else
inline double take_predicted_h200_ms() { return -1; }
#endif

}  // namespace kernels
