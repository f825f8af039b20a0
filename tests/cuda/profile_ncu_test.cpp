// The emulator profiler against Nsight Compute's counters of the same kernels on the H200
// (../shared/gpu/h200-2026-12-04/ncu_kernels.csv): occupancy of every launch, and the launch of
// one bench row (conv2d x 1x64x18x18 k3 s1 p0 -> 64, launch 46 of the profiled run): grid,
// block, ptxas registers and shared memory exactly, memory requests and sectors within 10%.
#include <catch2/catch.hpp>

#if defined(ENGINE_CUDA_EMULATED)
#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
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

TEST_CASE("profiler: occupancy agrees with Nsight Compute on every launch of the H200 run", "[cuda][profile]") {
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

TEST_CASE("profiler: a conv launch's counters against Nsight Compute's", "[cuda][profile]") {
  const auto rows = ncu_rows();
  if (rows.empty()) {
    WARN("SKIPPED: ../shared is absent");
    return;
  }
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  const auto& ncu = rows.at(46);
  REQUIRE(ncu.at("Kernel Name").find("implicit_gemm_kernel") != std::string::npos);
  const engine::Device cuda = engine::Device::cuda();
  const engine::Tensor x = engine::Tensor::full({1, 64, 18, 18}, 0.5f, cuda);
  const engine::Tensor w = engine::Tensor::full({64, 64, 3, 3}, 0.25f, cuda);
  kernels::emu::set_profiling(true);
  kernels::emu::take_launch_profiles();
  {
    engine::NoGradGuard no_grad;
    engine::conv2d(x, w, engine::Tensor(), engine::Conv2dOptions{1, 0});
  }
  kernels::emu::set_profiling(false);
  const std::vector<kernels::emu::LaunchProfile> launches = kernels::emu::take_launch_profiles();
  REQUIRE(launches.size() == 1);
  const kernels::emu::LaunchProfile& p = launches[0];
  INFO(p.kernel);
  CHECK(p.kernel.find("implicit_gemm_kernel") != std::string::npos);
  CHECK(p.blocks == static_cast<std::uint64_t>(number(ncu, "launch__grid_size")));
  CHECK(p.threads_per_block == static_cast<std::uint64_t>(number(ncu, "launch__block_size")));
  CHECK(p.registers == static_cast<int>(number(ncu, "launch__registers_per_thread")));
  CHECK(p.static_shared == static_cast<std::uint64_t>(number(ncu, "launch__shared_mem_per_block_static")));
  CHECK(p.flops == Approx(2.0 * 64 * 16 * 16 * 64 * 9));
  CHECK(p.global_load_requests == Approx(number(ncu, "l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum")).epsilon(0.1));
  CHECK(p.global_load_sectors == Approx(number(ncu, "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum")).epsilon(0.1));
  CHECK(p.global_store_requests == Approx(number(ncu, "l1tex__t_requests_pipe_lsu_mem_global_op_st.sum")).epsilon(0.1));
}
#endif  // ENGINE_CUDA_EMULATED
