#pragma once
// Settings of the CPU emulator of the CUDA execution model (kernels/emu/, docs/emulator.md).
// Only meaningful in ENGINE_CUDA=EMU builds (ENGINE_CUDA_EMULATED defined): the functions are
// defined only there.
//
// Defaults come from the environment, read on first use:
//   ENGINE_EMU_SCHEDULE = forward | reverse | random:<seed>   (default forward)
//   ENGINE_EMU_THREADS  = <n>, 1..64 worker OS threads          (default 2)
// A malformed value throws std::invalid_argument naming the variable.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kernels::emu {

// Order in which the threads of a block resume after every barrier or warp collective, and
// in which blocks are handed to the workers. A kernel whose result depends on it has a race.
enum class Schedule { forward, reverse, random };

struct Settings {
  Schedule schedule = Schedule::forward;
  std::uint64_t seed = 0;  // for Schedule::random; the same seed gives the same interleaving
  int worker_threads = 2;  // blocks run on this many OS threads; a block never changes thread
};

Settings settings();
// Applies to launches that start after the call; throws std::invalid_argument when
// worker_threads is outside 1..64.
void set_settings(const Settings& s);

// Detail of the last emulator failure on this host thread (refused launch, deadlock,
// divergent barrier, bad device range): what cudaGetErrorString cannot say. Empty if none.
std::string last_error_message();

// Fiber switches performed so far by all workers (for throughput reports).
std::uint64_t fiber_switch_count();

// Every kernel that has completed a launch in this process, by address (the __global__ function
// as the launch received it; one entry per template instance), with its launch count. The
// kernel-coverage test maps the addresses to names.
struct KernelLaunches {
  const void* kernel;
  std::uint64_t launches;
};
std::vector<KernelLaunches> launched_kernels();

// Run-time address -> mangled name of every function in this executable's ELF symbol table
// (file-local ones included); empty if /proc/self/exe cannot be read.
std::multimap<std::uintptr_t, std::string> function_symbols();

}  // namespace kernels::emu
