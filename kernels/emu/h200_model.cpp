// The H200 time model (kernels/emu_profile.h, docs/perf.md) and the ptxas resource lookup.
// Generic: a launch's predicted time comes from its counters only (FLOPs, sectors, requests,
// bank conflicts, occupancy, waves), never from its name, so new kernels are predicted too.
#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "kernels/emu_profile.h"
#include "ptxas_table.h"

namespace kernels::emu {
namespace detail {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && d != nullptr ? d : mangled;
  std::free(d);
  return out;
}

// The kernel's own name: no namespaces, template arguments or parameters.
std::string base_name(std::string name) {
  name = name.substr(0, name.find('('));
  name = name.substr(0, name.find('<'));
  if (const std::size_t colon = name.rfind(':'); colon != std::string::npos) name = name.substr(colon + 1);
  return name;
}

}  // namespace

PtxasResources ptxas_resources(const std::string& demangled) {
  PtxasResources exact, by_name;
  bool found = false;
  const std::string base = base_name(demangled);
  for (const PtxasEntry* e = kPtxasTable; e->mangled != nullptr; ++e) {
    const std::string d = demangle(e->mangled);
    if (d == demangled) {
      exact = {e->registers, e->static_shared};
      found = true;
    }
    if (base_name(d) == base && e->registers >= by_name.registers) by_name = {e->registers, e->static_shared};
  }
  return found ? exact : by_name;
}

}  // namespace detail

const H200Model& h200_model() {
  static const H200Model model = [] {
    H200Model m;
#include "h200_model_constants.inc"
    return m;
  }();
  return model;
}

double predict_h200_ms(const LaunchProfile& p, const H200Model& m) {
  const int bps = std::max(1, p.occupancy.blocks_per_sm);
  const double warps_per_block = std::ceil(static_cast<double>(p.threads_per_block) / 32.0);
  // Busy SM slots: a grid smaller than the machine, or a last partial wave, leaves SMs idle.
  const double rounds = std::max(1.0, std::ceil(p.waves));
  const double slot_use = std::min(1.0, p.waves / rounds);
  // Warps resident per SM while the grid runs, against what it takes to hide latency.
  const double resident = std::min(static_cast<double>(bps), static_cast<double>(p.blocks) / Sm90::sm_count) * warps_per_block;
  const double latency_hiding = std::min(1.0, resident / m.hiding_warps);
  const double machine = slot_use * std::max(latency_hiding, 1.0 / m.hiding_warps);
  // The work executed: the op's FLOPs, or more where counted FMAs show wasted work.
  const double flops = std::max(p.flops, 2.0 * p.executed_ffma);
  const double compute_s = flops / (m.fp32_gflops * 1e9 * m.compute_efficiency * machine);
  const double sectors = p.global_load_sectors + p.global_store_sectors;
  const double l2_s = 32.0 * sectors / (m.l2_gbs * 1e9 * machine);
  const double dram_s = p.global_footprint_bytes / (m.dram_gbs * 1e9 * m.dram_efficiency);  // whole-device
  // Global requests only: Nsight Compute's file, on which the model is calibrated, has no count
  // of shared-memory requests, only of their bank conflicts.
  const double requests = p.global_load_requests + p.global_store_requests;
  const double lsu_s = (requests * m.lsu_request_ns + (p.shared_load_conflicts + p.shared_store_conflicts) * m.shared_wavefront_ns) *
                       1e-9 / (Sm90::sm_count * machine);
  const double busy_s = std::max({compute_s, l2_s, dram_s, lsu_s});
  return (p.graph_node ? m.graph_node_us : m.launch_us) * 1e-3 + busy_s * 1e3;
}

}  // namespace kernels::emu
