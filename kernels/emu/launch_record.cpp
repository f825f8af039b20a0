// Which kernels have run (kernels/emu.h launched_kernels): the data behind the test suite's
// "kernels exercised: N of N" line.
#include <map>
#include <mutex>

#include "cuda_emu.h"
#include "kernels/emu.h"

namespace kernels::emu {
namespace {

std::mutex g_record_mutex;
std::map<const void*, std::uint64_t>& record() {
  static std::map<const void*, std::uint64_t> launches;
  return launches;
}

}  // namespace

namespace detail {
void record_launch(const void* kernel) {
  std::lock_guard<std::mutex> lock(g_record_mutex);
  ++record()[kernel];
}
}  // namespace detail

std::vector<KernelLaunches> launched_kernels() {
  std::lock_guard<std::mutex> lock(g_record_mutex);
  std::vector<KernelLaunches> out;
  for (const auto& [kernel, launches] : record()) out.push_back({kernel, launches});
  return out;
}

}  // namespace kernels::emu
