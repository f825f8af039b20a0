// The emulator as a profiler (kernels/emu_profile.h, docs/perf.md). The kernel sources are
// compiled with GCC's ThreadSanitizer instrumentation (-fsanitize=thread, no libtsan linked), so
// every load and store they make calls __tsan_readN/__tsan_writeN below with its address; the
// return address names the instruction. In a sampled block each access is kept with its thread;
// when the block ends, the k-th execution of one instruction by the lanes of one warp forms one
// warp-level request, as on the GPU, from which come the 32-byte sectors (global) and the bank
// wavefronts (shared). Addresses are classed by where they lie: a cudaMalloc allocation is
// global; the block's dynamic shared memory or the executable's static TLS block (where
// `__shared__` = thread_local arrays live) is shared; anything else (fiber stacks, the launch's
// argument copies, the built-in index variables) is not counted.
#include "profile.h"

#include <cxxabi.h>
#include <link.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "capture.h"
#include "kernels/emu_profile.h"
#include "kernels/h200_prediction.h"
#include "kernels/profile_flops.h"
#include "ptxas_table.h"
#include "runtime.h"
#include "worker.h"

namespace kernels::emu {
namespace detail {
std::string kernel_symbol(const void* kernel);  // mangled name by address (symbols.cpp)
}  // namespace detail

namespace {

using detail::KernelLaunch;
using detail::Worker;

enum : std::uint8_t { kWrite = 1, kShared = 2 };

struct Access {
  std::uintptr_t pc;
  std::uintptr_t address;
  std::uint16_t thread;
  std::uint8_t size;
  std::uint8_t flags;
};

// Counters of one launch, summed over its sampled blocks (under g_mutex).
struct Totals {
  double gl_req = 0, gl_sec = 0, gs_req = 0, gs_sec = 0;
  double sl_req = 0, ss_req = 0, sl_conf = 0, ss_conf = 0;
  std::unordered_set<std::uintptr_t> sectors;
  std::uint64_t ffma = 0;
  std::uint64_t sampled = 0;
};

#if defined(ENGINE_EMU_PROFILE_HOOKS)
constexpr bool kHooks = true;
#else
constexpr bool kHooks = false;
#endif

std::mutex g_mutex;
int g_on = -1;  // -1: read ENGINE_EMU_PROFILE on first use
bool g_sampled_only = false;
// The launch's allocations, sorted by host address, each with its device address: cudaMalloc
// aligns to 256 bytes on the GPU, the emulator's heap blocks only to 16, and sectors and banks
// are counted on device addresses.
struct Allocation {
  std::uintptr_t host;
  std::size_t bytes;
  std::uintptr_t device;
};
std::vector<Allocation> g_allocations;
Totals g_totals;
std::vector<LaunchProfile> g_record;
std::uint64_t g_taken = 0;  // launches taken out of g_record so far

struct BlockRecord {
  Worker* worker = nullptr;
  std::uintptr_t dyn_lo = 0, dyn_hi = 0, tls_lo = 0, tls_hi = 0;
  std::vector<Access> accesses;
  std::uint64_t ffma = 0;
};
thread_local BlockRecord* t_block = nullptr;
thread_local BlockRecord t_storage;

struct TlsSegment {
  std::size_t size = 0, align = 1;
};

int tls_segment(dl_phdr_info* info, size_t, void* out) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_TLS) {
      auto& segment = *static_cast<TlsSegment*>(out);
      segment.align = info->dlpi_phdr[i].p_align ? info->dlpi_phdr[i].p_align : 1;
      segment.size = (info->dlpi_phdr[i].p_memsz + segment.align - 1) / segment.align * segment.align;
    }
  }
  return 1;  // the executable only: where kernels' thread_local __shared__ arrays are
}

bool in_builtin(std::uintptr_t a) {
  auto in = [a](const void* v, std::size_t n) {
    const auto b = reinterpret_cast<std::uintptr_t>(v);
    return a >= b && a < b + n;
  };
  return in(&threadIdx, sizeof threadIdx) || in(&blockIdx, sizeof blockIdx) || in(&blockDim, sizeof blockDim) ||
         in(&gridDim, sizeof gridDim);
}

// The device address of host address `a` if it lies in an allocation, else 0.
std::uintptr_t device_address(std::uintptr_t a) {
  auto it = std::upper_bound(g_allocations.begin(), g_allocations.end(), a,
                             [](std::uintptr_t x, const Allocation& y) { return x < y.host; });
  if (it == g_allocations.begin()) return 0;
  --it;
  return a < it->host + it->bytes ? it->device + (a - it->host) : 0;
}

inline void record(const void* p, unsigned size, bool write, const void* pc) {
  BlockRecord* b = t_block;
  if (b == nullptr || b->worker->current < 0) return;
  auto a = reinterpret_cast<std::uintptr_t>(p);
  std::uint8_t flags = write ? kWrite : 0;
  if (const std::uintptr_t device = device_address(a); device != 0) {
    a = device;
  } else if ((a >= b->dyn_lo && a < b->dyn_hi) || (a >= b->tls_lo && a < b->tls_hi && !in_builtin(a))) {
    flags |= kShared;
  } else {
    return;
  }
  b->accesses.push_back({reinterpret_cast<std::uintptr_t>(pc), a, static_cast<std::uint16_t>(b->worker->current),
                         static_cast<std::uint8_t>(size > 255 ? 255 : size), flags});
}

// One warp-level request: the lanes' accesses [first, last).
void count_request(const Access* first, const Access* last, Totals& t) {
  if (first->flags & kShared) {
    // Wavefronts: the most distinct 4-byte words any of the 32 banks must serve; the ideal is
    // one per 128 bytes the warp moves.
    std::vector<std::uintptr_t> words;
    std::uint64_t bytes = 0;
    for (const Access* a = first; a != last; ++a) {
      bytes += a->size;
      for (std::uintptr_t w = a->address / 4; w <= (a->address + a->size - 1) / 4; ++w) words.push_back(w);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    int per_bank[32] = {};
    int worst = 0;
    for (std::uintptr_t w : words) worst = std::max(worst, ++per_bank[w % 32]);
    const double ideal = std::max<double>(1, static_cast<double>((bytes + 127) / 128));
    const double conflicts = std::max(0.0, worst - ideal);
    if (first->flags & kWrite) {
      t.ss_req += 1;
      t.ss_conf += conflicts;
    } else {
      t.sl_req += 1;
      t.sl_conf += conflicts;
    }
    return;
  }
  std::vector<std::uintptr_t> sectors;
  for (const Access* a = first; a != last; ++a) {
    for (std::uintptr_t s = a->address / 32; s <= (a->address + a->size - 1) / 32; ++s) sectors.push_back(s);
  }
  std::sort(sectors.begin(), sectors.end());
  sectors.erase(std::unique(sectors.begin(), sectors.end()), sectors.end());
  t.sectors.insert(sectors.begin(), sectors.end());
  if (first->flags & kWrite) {
    t.gs_req += 1;
    t.gs_sec += static_cast<double>(sectors.size());
  } else {
    t.gl_req += 1;
    t.gl_sec += static_cast<double>(sectors.size());
  }
}

// Groups a block's accesses into warp-level requests: by instruction and warp, then the k-th
// execution of that instruction by each lane.
void count_block(std::vector<Access>& acc, Totals& t) {
  std::vector<std::uint32_t> k(acc.size());
  {
    std::vector<std::size_t> order(acc.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return std::make_tuple(acc[x].pc, acc[x].thread / 32, acc[x].flags) <
             std::make_tuple(acc[y].pc, acc[y].thread / 32, acc[y].flags);
    });
    std::vector<Access> sorted(acc.size());
    for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = acc[order[i]];
    acc.swap(sorted);
  }
  std::size_t begin = 0;
  std::vector<Access> group;
  std::vector<std::uint32_t> nth;
  while (begin < acc.size()) {
    std::size_t end = begin;
    while (end < acc.size() && acc[end].pc == acc[begin].pc && acc[end].thread / 32 == acc[begin].thread / 32 &&
           acc[end].flags == acc[begin].flags)
      ++end;
    std::uint32_t count[32] = {};
    nth.resize(end - begin);
    for (std::size_t i = begin; i < end; ++i) nth[i - begin] = count[acc[i].thread % 32]++;
    std::vector<std::size_t> order(end - begin);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return nth[x] < nth[y]; });
    group.resize(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) group[i] = acc[begin + order[i]];
    for (std::size_t i = 0; i < group.size();) {
      std::size_t j = i;
      while (j < group.size() && nth[order[j]] == nth[order[i]]) ++j;
      count_request(group.data() + i, group.data() + j, t);
      i = j;
    }
    begin = end;
  }
}

std::string demangled(const std::string& mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  std::string out = status == 0 && d != nullptr ? d : mangled;
  std::free(d);
  return out;
}

}  // namespace

Occupancy sm90_occupancy(int threads, int registers, std::uint64_t shared) {
  Occupancy o;
  const int warps = (threads + 31) / 32;
  if (warps <= 0) return o;
  int by_warps = Sm90::max_warps / warps;
  o.limiter = "warps";
  int best = by_warps;
  if (Sm90::max_blocks < best) {
    best = Sm90::max_blocks;
    o.limiter = "blocks";
  }
  if (registers > 0) {
    const int per_warp = (registers * 32 + Sm90::register_unit - 1) / Sm90::register_unit * Sm90::register_unit;
    // A warp's registers come from one of the SM's 4 sub-partitions' files.
    const int by_registers = registers > 255 ? 0 : Sm90::registers / 4 / per_warp * 4 / warps;
    if (by_registers < best) {
      best = by_registers;
      o.limiter = "registers";
    }
  }
  const std::uint64_t per_block = shared + Sm90::shared_reserved_per_block;
  const int by_shared = static_cast<int>(std::min<std::uint64_t>(Sm90::shared_bytes / per_block, 1000));
  if (by_shared < best) {
    best = by_shared;
    o.limiter = "shared";
  }
  o.blocks_per_sm = best;
  o.warps_fraction = static_cast<double>(best * warps) / Sm90::max_warps;
  return o;
}

bool profile_available() { return kHooks; }

namespace {
void read_environment() {  // under g_mutex
  if (g_on >= 0) return;
  const char* v = std::getenv("ENGINE_EMU_PROFILE");
  const std::string mode = v != nullptr ? v : "";
  if (mode != "" && mode != "0" && mode != "1" && mode != "sampled")  // a typo would profile nothing, silently
    throw std::invalid_argument("ENGINE_EMU_PROFILE='" + mode + "' is not one of 0, 1, sampled");
  g_sampled_only = mode == "sampled";
  g_on = mode == "1" || g_sampled_only;
}
}  // namespace

bool profiling() {
  std::lock_guard<std::mutex> lock(g_mutex);
  read_environment();
  return g_on == 1;
}

bool sampled_blocks_only() {
  std::lock_guard<std::mutex> lock(g_mutex);
  read_environment();
  return kHooks && g_on == 1 && g_sampled_only;
}

void set_profiling(bool on, bool sampled_blocks_only) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_on = on;
  g_sampled_only = on && sampled_blocks_only;
}

std::vector<LaunchProfile> take_launch_profiles() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<LaunchProfile> out;
  out.swap(g_record);
  g_taken += out.size();
  return out;
}

namespace detail {

void profile_launch_begin(const KernelLaunch&) {
  if (!profiling()) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_allocations.clear();
  std::uintptr_t device = 256;
  for (const auto& [host, bytes] : allocation_snapshot()) {
    g_allocations.push_back({host, bytes, device});
    device += (bytes + 511) / 256 * 256;  // 256-aligned, a gap between allocations
  }
  g_totals = Totals{};
}

void profile_launch_end(const KernelLaunch& k, bool succeeded) {
  if (!succeeded || !profiling()) return;
  LaunchProfile p;
  p.kernel = demangled(kernel_symbol(k.kernel));
  const PtxasResources r = ptxas_resources(p.kernel);
  p.grid[0] = k.grid.x, p.grid[1] = k.grid.y, p.grid[2] = k.grid.z;
  p.block[0] = k.block.x, p.block[1] = k.block.y, p.block[2] = k.block.z;
  p.blocks = std::uint64_t{k.grid.x} * k.grid.y * k.grid.z;
  p.threads_per_block = std::uint64_t{k.block.x} * k.block.y * k.block.z;
  p.dynamic_shared = k.dynamic_shared_bytes;
  p.static_shared = r.static_shared;
  p.registers = r.registers;
  p.occupancy = sm90_occupancy(static_cast<int>(p.threads_per_block), p.registers, p.static_shared + p.dynamic_shared);
  if (p.occupancy.blocks_per_sm > 0)
    p.waves = static_cast<double>(p.blocks) / (Sm90::sm_count * p.occupancy.blocks_per_sm);
  const std::lock_guard<std::mutex> lock(g_mutex);
  const Totals& t = g_totals;
  p.sampled_blocks = t.sampled;
  p.memory_counted = kHooks && t.sampled > 0;
  if (p.memory_counted) {
    const double s = static_cast<double>(p.blocks) / static_cast<double>(t.sampled);
    p.global_load_requests = t.gl_req * s, p.global_load_sectors = t.gl_sec * s;
    p.global_store_requests = t.gs_req * s, p.global_store_sectors = t.gs_sec * s;
    p.shared_load_requests = t.sl_req * s, p.shared_store_requests = t.ss_req * s;
    p.shared_load_conflicts = t.sl_conf * s, p.shared_store_conflicts = t.ss_conf * s;
    // Distinct sectors: blocks share inputs, so the sampled blocks' union scales at most as
    // the sector traffic does.
    p.global_footprint_bytes =
        std::min(32.0 * static_cast<double>(t.sectors.size()) * s, 32.0 * (p.global_load_sectors + p.global_store_sectors));
    p.executed_ffma = static_cast<double>(t.ffma) * s;
  }
  p.graph_node = in_graph_replay();
  p.predicted_h200_ms = predict_h200_ms(p);
  g_record.push_back(std::move(p));
}

void profile_block_begin(Worker& w, std::uint64_t linear_block, std::uint64_t blocks) {
  t_block = nullptr;
  if (!kHooks || !profiling() || !profile_samples_block(linear_block, blocks)) return;
  BlockRecord& b = t_storage;
  b.worker = &w;
  b.dyn_lo = reinterpret_cast<std::uintptr_t>(w.dynamic_shared);
  b.dyn_hi = b.dyn_lo + (w.kernel != nullptr ? w.kernel->dynamic_shared_bytes : 0);
  TlsSegment tls;
  dl_iterate_phdr(tls_segment, &tls);
  const auto thread_pointer = reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
#if defined(__x86_64__)
  b.tls_hi = thread_pointer;  // TLS variant II: the executable's block ends at the thread pointer
  b.tls_lo = b.tls_hi - tls.size;
#else
  // AArch64, TLS variant I: a 16-byte thread control block at the thread pointer, then the
  // executable's block at the next multiple of its alignment.
  b.tls_lo = thread_pointer + (16 + tls.align - 1) / tls.align * tls.align;
  b.tls_hi = b.tls_lo + tls.size;
#endif
  b.accesses.clear();
  b.ffma = 0;
  t_block = &b;
}

void profile_block_end(Worker&) {
  BlockRecord* b = t_block;
  t_block = nullptr;
  if (b == nullptr) return;
  Totals local;
  count_block(b->accesses, local);
  b->accesses.clear();
  b->accesses.shrink_to_fit();
  std::lock_guard<std::mutex> lock(g_mutex);
  Totals& t = g_totals;
  t.gl_req += local.gl_req, t.gl_sec += local.gl_sec, t.gs_req += local.gs_req, t.gs_sec += local.gs_sec;
  t.sl_req += local.sl_req, t.ss_req += local.ss_req, t.sl_conf += local.sl_conf, t.ss_conf += local.ss_conf;
  t.sectors.insert(local.sectors.begin(), local.sectors.end());
  t.ffma += b->ffma;
  ++t.sampled;
}

void count_ffma(unsigned fmas) noexcept {
  if (BlockRecord* b = t_block) b->ffma += fmas;
}

}  // namespace detail
}  // namespace kernels::emu

namespace kernels {

namespace {

// "void kernels::cuda::(anonymous namespace)::f<kernels::cuda::T<(Op)1>>(int, ...)" -> "f<T<(Op)1>>".
std::string short_kernel_name(const std::string& demangled) {
  std::string name = demangled;
  if (name.rfind("void ", 0) == 0) name.erase(0, 5);
  for (const char* ns : {"kernels::cuda::", "(anonymous namespace)::", "kernels::"})
    for (std::size_t at; (at = name.find(ns)) != std::string::npos;) name.erase(at, std::string(ns).size());
  int depth = 0;  // the parameter list is the first '(' outside the template arguments
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>') --depth;
    if (name[i] == '(' && depth == 0) return name.substr(0, i);
  }
  return name;
}

}  // namespace

H200Workload take_h200_workload() {
  H200Workload w;
  if (!emu::profiling()) return w;
  w.profiled = true;
  for (const emu::LaunchProfile& p : emu::take_launch_profiles()) {
    const std::string name = short_kernel_name(p.kernel);
    auto it = std::find_if(w.by_kernel.begin(), w.by_kernel.end(), [&](const H200KernelTotal& k) { return k.kernel == name; });
    if (it == w.by_kernel.end()) it = w.by_kernel.insert(w.by_kernel.end(), H200KernelTotal{name});
    ++it->launches;
    it->ms += p.predicted_h200_ms;
    ++w.launches;
    w.ms += p.predicted_h200_ms;
    w.profiles.push_back(p);
  }
  std::sort(w.by_kernel.begin(), w.by_kernel.end(), [](const H200KernelTotal& a, const H200KernelTotal& b) { return a.ms > b.ms; });
  return w;
}

FlopScope::FlopScope(double flops) : flops_(flops) {
  std::lock_guard<std::mutex> lock(emu::g_mutex);
  first_ = emu::g_taken + emu::g_record.size();
}

FlopScope::~FlopScope() {
  std::lock_guard<std::mutex> lock(emu::g_mutex);
  if (first_ < emu::g_taken) return;  // the launches were taken before the scope ended
  const auto requests = [](const emu::LaunchProfile& p) {
    return p.global_load_requests + p.global_store_requests + p.shared_load_requests + p.shared_store_requests;
  };
  double all = 0;
  std::size_t unattributed = 0;
  for (std::size_t i = first_ - emu::g_taken; i < emu::g_record.size(); ++i) {
    if (emu::g_record[i].flops > 0) continue;
    all += requests(emu::g_record[i]);
    ++unattributed;
  }
  for (std::size_t i = first_ - emu::g_taken; i < emu::g_record.size(); ++i) {
    emu::LaunchProfile& p = emu::g_record[i];
    if (p.flops > 0) continue;
    p.flops = all > 0 ? flops_ * requests(p) / all : flops_ / static_cast<double>(unattributed);
    p.predicted_h200_ms = emu::predict_h200_ms(p);
  }
}

}  // namespace kernels

// ---- the instrumentation's entry points (only in the instrumented build) ----
#if defined(ENGINE_EMU_PROFILE_HOOKS)
using kernels::emu::record;
#define ENGINE_TSAN_ACCESS(N)                                                                                  \
  extern "C" void __tsan_read##N(void* p) { record(p, N, false, __builtin_return_address(0)); }              \
  extern "C" void __tsan_write##N(void* p) { record(p, N, true, __builtin_return_address(0)); }              \
  extern "C" void __tsan_unaligned_read##N(void* p) { record(p, N, false, __builtin_return_address(0)); }    \
  extern "C" void __tsan_unaligned_write##N(void* p) { record(p, N, true, __builtin_return_address(0)); }
ENGINE_TSAN_ACCESS(1)
ENGINE_TSAN_ACCESS(2)
ENGINE_TSAN_ACCESS(4)
ENGINE_TSAN_ACCESS(8)
ENGINE_TSAN_ACCESS(16)
#undef ENGINE_TSAN_ACCESS
extern "C" void __tsan_read_range(void* p, unsigned long n) { record(p, static_cast<unsigned>(n), false, __builtin_return_address(0)); }
extern "C" void __tsan_write_range(void* p, unsigned long n) { record(p, static_cast<unsigned>(n), true, __builtin_return_address(0)); }
extern "C" void __tsan_init() {}
extern "C" void __tsan_func_entry(void*) {}
extern "C" void __tsan_func_exit() {}
extern "C" void __tsan_vptr_update(void**, void*) {}
extern "C" void __tsan_vptr_read(void**) {}
#endif
