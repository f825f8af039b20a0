#pragma once
// The emulator as a profiler (docs/perf.md): what NVIDIA's profiler would report for every
// kernel launch the emulator runs, and the calibrated model of its time on an NVIDIA H200.
// Defined only in ENGINE_CUDA=EMU builds (ENGINE_CUDA_EMULATED). Memory counters need the
// instrumented kernel build (ENGINE_EMU_PROFILE=ON, the default without a sanitizer);
// profile_available() says whether this build has it.
//
// Switched on by ENGINE_EMU_PROFILE=1 (read on first launch) or set_profiling(true).
// ENGINE_EMU_PROFILE=sampled (or set_profiling(true, true)), in an instrumented build: each
// launch runs only the blocks the profiler samples, so every counter and prediction is the same
// as with =1 at a small fraction of the time, but the launches' results are NOT computed (the
// other blocks' outputs are whatever memory held): for the launch list and the modelled time of
// whole workloads (docs/perf.md), never for results.
#include <cstdint>
#include <string>
#include <vector>

namespace kernels::emu {

// sm_90 (H200) per-SM limits, CUDA's occupancy rules.
struct Sm90 {
  static constexpr int sm_count = 132;
  static constexpr int max_warps = 64;
  static constexpr int max_blocks = 32;
  static constexpr int registers = 65536;
  static constexpr int register_unit = 256;  // registers per warp are allocated in units of 256
  static constexpr int shared_bytes = 233472;  // 228 KiB, the largest carveout
  static constexpr int shared_reserved_per_block = 1024;  // the driver's per-block reservation
};

struct Occupancy {
  int blocks_per_sm = 0;  // 0: the block cannot run (too many registers or too much shared memory)
  const char* limiter = "";  // "warps", "registers", "shared", "blocks"
  double warps_fraction = 0;  // active warps / 64
};
// Blocks per SM for `threads` per block, `registers` per thread, `shared` bytes per block
// (static + dynamic).
Occupancy sm90_occupancy(int threads, int registers, std::uint64_t shared);

struct LaunchProfile {
  std::string kernel;  // demangled
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  std::uint64_t blocks = 0, threads_per_block = 0;
  std::uint64_t dynamic_shared = 0, static_shared = 0;  // static: from ptxas
  int registers = 0;  // per thread, from ptxas for sm_90; 0 when unknown
  Occupancy occupancy;
  double waves = 0;  // blocks / (132 * blocks_per_sm)
  std::uint64_t sampled_blocks = 0;  // blocks whose accesses were recorded; counts are scaled
  bool memory_counted = false;
  // Warp-level requests and 32-byte sectors (scaled to the whole grid).
  double global_load_requests = 0, global_load_sectors = 0;
  double global_store_requests = 0, global_store_sectors = 0;
  double shared_load_requests = 0, shared_store_requests = 0;
  double shared_load_conflicts = 0, shared_store_conflicts = 0;  // extra wavefronts, ncu's meaning
  double global_footprint_bytes = 0;  // distinct sectors touched x 32: the DRAM traffic estimate
  double flops = 0;  // attributed by the caller (bench knows each op's FLOPs); 0 if unknown
  // FMA instructions the threads executed (scaled to the whole grid), counted only in kernels
  // built with ENGINE_EMU_COUNT_FFMA (docs/perf.md); 0 otherwise. The model takes
  // max(flops, 2 x executed_ffma): a kernel that multiplies zeros or idle tile columns pays for them.
  double executed_ffma = 0;
  // A node of a CUDA graph's replay (cudaGraphLaunch), not a launch of its own: the model
  // charges graph_node_us for it instead of launch_us.
  bool graph_node = false;
  double predicted_h200_ms = 0;  // the model, filled by predict_h200_ms()
};

bool profile_available();
bool profiling();
bool sampled_blocks_only();  // true only while profiling in an instrumented build
void set_profiling(bool on, bool sampled_blocks_only = false);
// Launches recorded since the last take; clears the record.
std::vector<LaunchProfile> take_launch_profiles();

// The time model (kernels/emu/h200_model.cpp), calibrated on the measured H200 bench; the
// constants are data (kernels/emu/h200_model.cfg, compiled in at configure time) fitted by
// tools/perf/calibrate_h200.py. Generic: driven only by the
// counters above, never by a kernel's name.
struct H200Model {
  double launch_us = 2.5;  // per-launch overhead
  // Per kernel node of a replayed graph. NOT calibrated: no graph has run on the H200 yet. 2 us
  // is the order NVIDIA reports for back-to-back kernel nodes on Hopper (the launch_us above
  // also holds the host's per-launch work, which a replay does not repeat); docs/perf.md.
  double graph_node_us = 2.0;
  double fp32_gflops = 66908;  // peak
  double compute_efficiency = 0.5;  // achieved fraction of peak at full occupancy
  double l2_gbs = 10000;  // sector traffic bandwidth (L1 -> L2)
  double dram_gbs = 4800;  // footprint bandwidth
  double dram_efficiency = 0.6;
  double shared_wavefront_ns = 0.0;  // per extra bank-conflict wavefront, per SM
  double lsu_request_ns = 0.0;  // per warp-level global memory request, per SM
  double hiding_warps = 16;  // resident warps per SM that hide memory and pipeline latency
};
const H200Model& h200_model();
double predict_h200_ms(const LaunchProfile& p, const H200Model& m = h200_model());

}  // namespace kernels::emu
