#pragma once
// Whole-workload H200 predictions for the apps (docs/perf.md): the modelled H200 time of the
// kernel launches the emulator profiled since the last take (which clears them), in total and
// per kernel. `profiled` is false when nothing is profiled: not an emulator build, or
// ENGINE_EMU_PROFILE is not 1.
#include <string>
#include <vector>

#include "kernels/emu_profile.h"

namespace kernels {

struct H200KernelTotal {
  std::string kernel;  // demangled, namespaces and parameter list dropped: one entry per template instance
  int launches = 0;
  double ms = 0;
};

struct H200Workload {
  bool profiled = false;
  int launches = 0;
  double ms = 0;
  std::vector<H200KernelTotal> by_kernel;  // most modelled time first
  std::vector<emu::LaunchProfile> profiles;  // every launch taken, in launch order
};

#if defined(ENGINE_CUDA_EMULATED)
H200Workload take_h200_workload();
#else
inline H200Workload take_h200_workload() { return {}; }
#endif

}  // namespace kernels
