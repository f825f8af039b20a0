#pragma once
// The emulator profiler's launches as JSON (docs/perf.md): one object per launch, the same in
// bench's rows (`profile.kernels`) and in the whole-workload files of bench_train and
// bench_sargan (--profile_json), which tools/perf/issue_model.py --workload reads.
#include <nlohmann/json.hpp>
#include <string>

#include "engine/file.h"
#include "engine/perf.h"

inline nlohmann::json launch_json(const engine::perf::LaunchProfile& p) {
  return {{"kernel", p.kernel},
          {"grid", {p.grid[0], p.grid[1], p.grid[2]}},
          {"block", {p.block[0], p.block[1], p.block[2]}},
          {"registers", p.registers},
          {"shared_bytes", p.static_shared + p.dynamic_shared},
          {"blocks_per_sm", p.occupancy.blocks_per_sm},
          {"occupancy_limiter", p.occupancy.limiter},
          {"waves", p.waves},
          {"flops", p.flops},
          {"executed_ffma", p.executed_ffma},
          {"global_load_requests", p.global_load_requests},
          {"global_load_sectors", p.global_load_sectors},
          {"global_store_requests", p.global_store_requests},
          {"global_store_sectors", p.global_store_sectors},
          {"global_footprint_bytes", p.global_footprint_bytes},
          {"shared_load_requests", p.shared_load_requests},
          {"shared_store_requests", p.shared_store_requests},
          {"shared_load_conflicts", p.shared_load_conflicts},
          {"shared_store_conflicts", p.shared_store_conflicts},
          {"graph_node", p.graph_node},
          {"predicted_h200_ms", p.predicted_h200_ms}};
}

// Writes `path` (atomically): {"rows": [{"op", "shape", "predicted_h200_ms", "profile":
// {"launches", "kernels"}}]}, the launches of one of the workload's `runs` runs (the first), in
// launch order. Nothing is written when the workload was not profiled.
inline void write_workload_json(const std::string& path, const std::string& op, const std::string& shape,
                                const engine::perf::H200Workload& w, int runs) {
  if (!w.profiled || path.empty()) return;
  const std::size_t per_run = w.profiles.size() / static_cast<std::size_t>(runs);
  nlohmann::json kernels = nlohmann::json::array();
  for (std::size_t i = 0; i < per_run; ++i) kernels.push_back(launch_json(w.profiles[i]));
  const nlohmann::json row = {{"op", op},
                              {"shape", shape},
                              {"predicted_h200_ms", w.ms / runs},
                              {"profile", {{"launches", per_run}, {"kernels", kernels}}}};
  engine::write_file_atomically(path, nlohmann::json{{"rows", {row}}}.dump() + "\n");
}
