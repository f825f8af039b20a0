#pragma once
// Between the two files of the CUDA runtime shim (runtime.cpp: launches, streams, events, errors,
// device properties and attributes; device_memory.cpp: allocations and copies) and the profiler
// (profile.cpp), which reads the live allocations.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cuda_emu.h"

namespace kernels::emu::detail {

// Makes (code, message) this host thread's last error, as cudaGetLastError and
// kernels::emu::last_error_message report it, and returns code.
cudaError_t fail(cudaError_t code, std::string message);

// The host's physical memory: the emulated device's total global memory.
std::size_t physical_memory();

// The live cudaMalloc allocations, (address, bytes) in address order.
std::vector<std::pair<std::uintptr_t, std::size_t>> allocation_snapshot();

}  // namespace kernels::emu::detail
