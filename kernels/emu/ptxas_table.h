#pragma once
// ptxas's resources of every kernel of kernels/cuda/*.cu for sm_90, generated at build time
// (cmake/ptxas_table.cmake); the list ends with a null name.
#include <cstdint>
#include <string>

namespace kernels::emu::detail {
struct PtxasEntry {
  const char* mangled;
  int registers;
  unsigned static_shared;
};
extern const PtxasEntry kPtxasTable[];

struct PtxasResources {
  int registers = 0;  // 0: unknown (no ptxas report for this kernel)
  std::uint64_t static_shared = 0;
};
// By the full demangled name (template instance), else the most registers among the kernels of
// that name (g++ and nvcc may spell a parameter type differently); h200_model.cpp.
PtxasResources ptxas_resources(const std::string& demangled);
}  // namespace kernels::emu::detail
