// The emulator profiler against Nsight Compute's counters on the H200
// (../shared/gpu/h200-2026-12-04/ncu_kernels.csv): the occupancy rules on every launch of that run.
// (A per-launch comparison of grid, registers and memory sectors needs ncu counters of the kernels
// as they are now: the conv kernels changed after that run; the next tools/perf/gpu_check.sh brings them.)
#include <catch2/catch.hpp>

#if defined(ENGINE_CUDA_EMULATED)
#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "kernels/emu_profile.h"
#include "test_util.h"

namespace {

// ncu_kernels.csv as rows of named cells (line 2 holds units and is skipped); the kernel name
// is quoted and holds commas.
std::vector<std::map<std::string, std::string>> ncu_rows() {
  const std::string path = test::shared_dir("gpu/h200-2026-12-04/ncu_kernels.csv");
  std::vector<std::map<std::string, std::string>> rows;
  if (path.empty()) return rows;
  std::ifstream in(path);
  REQUIRE(in);
  auto split = [](const std::string& s) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (char ch : s) {
      if (ch == '"') quoted = !quoted;
      else if (ch == ',' && !quoted) cells.emplace_back();
      else cells.back() += ch;
    }
    return cells;
  };
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::getline(in, line);
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split(line);
    REQUIRE(cells.size() == header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

double number(const std::map<std::string, std::string>& row, const std::string& column) {
  const auto it = row.find(column);
  REQUIRE(it != row.end());
  return std::stod(it->second);
}

}  // namespace

TEST_CASE("profiler: occupancy agrees with Nsight Compute on every launch of the H200 run", "[cuda][profile][shared]") {
  const auto rows = ncu_rows();
  if (rows.empty()) {
    WARN("SKIPPED: ../shared is absent");
    return;
  }
  for (const auto& r : rows) {
    // ncu's shared-memory limit is for the carveout the driver chose, ours for the largest:
    // compare where shared memory is not what limits the launch.
    const int expected = static_cast<int>(std::min({number(r, "launch__occupancy_limit_blocks"),
                                                    number(r, "launch__occupancy_limit_registers"),
                                                    number(r, "launch__occupancy_limit_warps")}));
    const kernels::emu::Occupancy o = kernels::emu::sm90_occupancy(
        static_cast<int>(number(r, "launch__block_size")), static_cast<int>(number(r, "launch__registers_per_thread")),
        static_cast<std::uint64_t>(number(r, "launch__shared_mem_per_block_static") +
                                   number(r, "launch__shared_mem_per_block_dynamic")));
    INFO("ncu launch " << r.at("ID") << ": " << r.at("Kernel Name"));
    if (std::string(o.limiter) == "shared") CHECK(o.blocks_per_sm <= expected);
    else CHECK(o.blocks_per_sm == expected);
  }
  CHECK(rows.size() > 100);
}

#endif  // ENGINE_CUDA_EMULATED
