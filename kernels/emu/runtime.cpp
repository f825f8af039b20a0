// The CUDA runtime the emulated build links instead of libcudart, all but device memory
// (device_memory.cpp): streams and launches are synchronous, and launches are validated as the
// driver validates them before the blocks run on a pool of worker OS threads; the per-thread error
// state, device properties and function attributes.
// Definitions match the toolkit's declarations (cuda_runtime_api.h), so the same host code
// compiles under nvcc and g++.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "capture.h"
#include "kernels/emu_profile.h"
#include "profile.h"
#include "runtime.h"
#include "scheduler.h"

struct CUevent_st {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
};

namespace kernels::emu {
namespace {

using detail::fail;
using detail::GridRun;

constexpr std::size_t default_shared_limit = 48 * 1024;
constexpr std::size_t opt_in_shared_limit = 227 * 1024;
constexpr int max_worker_threads = 64;

// ---- error state, per host thread as in CUDA ----
thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_last_message;

// ---- settings ----
Settings settings_from_environment() {
  Settings s;
  if (const char* v = std::getenv("ENGINE_EMU_SCHEDULE"); v != nullptr && *v != '\0') {
    const std::string text = v;
    if (text == "forward") {
      s.schedule = Schedule::forward;
    } else if (text == "reverse") {
      s.schedule = Schedule::reverse;
    } else if (text.rfind("random:", 0) == 0 && text.size() > 7 &&
               text.find_first_not_of("0123456789", 7) == std::string::npos) {
      s.schedule = Schedule::random;
      s.seed = std::stoull(text.substr(7));
    } else {
      throw std::invalid_argument("ENGINE_EMU_SCHEDULE='" + text +
                                  "' is not one of forward, reverse, random:<seed> (seed a decimal integer)");
    }
  }
  if (const char* v = std::getenv("ENGINE_EMU_THREADS"); v != nullptr && *v != '\0') {
    const std::string text = v;
    if (text.size() > 2 || text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) < 1 ||
        std::stoi(text) > max_worker_threads) {
      throw std::invalid_argument("ENGINE_EMU_THREADS='" + text + "' is not a worker count from 1 to 64");
    }
    s.worker_threads = std::stoi(text);
  }
  return s;
}

std::mutex g_settings_mutex;
Settings& settings_storage() {
  static Settings s = settings_from_environment();
  return s;
}

// ---- worker pool: persistent threads; each runs whole blocks, so fibers never migrate ----
// Threads are only ever added: a launch with fewer workers leaves the extra ones idle. Ending
// and re-creating them made ASan report stack-buffer-overflows in a new thread's TLS
// initialisation (glibc reuses the cached stack, and its TLS, of the thread that ended).
class WorkerPool {
public:
  ~WorkerPool() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      threads = std::move(threads_);
    }
    wake_.notify_all();
    for (auto& t : threads) t.join();
  }

  void run(GridRun& run, int workers) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<int>(threads_.size()) < workers) {
      const int index = static_cast<int>(threads_.size());
      threads_.emplace_back([this, index, g = generation_] { loop(index, g); });
    }
    job_ = &run;
    active_ = workers;
    busy_ = workers;
    ++generation_;
    wake_.notify_all();
    done_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
  }

private:
  void loop(int index, std::uint64_t seen) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= active_) continue;
      GridRun* job = job_;
      lock.unlock();
      detail::run_blocks(*job);
      lock.lock();
      if (--busy_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> threads_;
  GridRun* job_ = nullptr;
  int active_ = 0;
  int busy_ = 0;
  bool stop_ = false;
  std::uint64_t generation_ = 0;
};

std::mutex g_launch_mutex;  // one grid at a time: launches are synchronous anyway
WorkerPool& pool() {
  static WorkerPool p;
  return p;
}
std::uint64_t g_launch_count = 0;

// ---- function attributes set through cudaFuncSetAttribute ----
std::mutex g_attribute_mutex;
std::map<const void*, int> g_max_dynamic_shared;

std::string dim_text(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

}  // namespace

Settings settings() {
  std::lock_guard<std::mutex> lock(g_settings_mutex);
  return settings_storage();
}

void set_settings(const Settings& s) {
  if (s.worker_threads < 1 || s.worker_threads > max_worker_threads) {
    throw std::invalid_argument("kernels::emu::set_settings: worker_threads = " + std::to_string(s.worker_threads) +
                                " is not from 1 to 64");
  }
  std::lock_guard<std::mutex> lock(g_settings_mutex);
  settings_storage() = s;
}

std::string last_error_message() { return t_last_message; }

std::uint64_t fiber_switch_count() { return detail::switch_total(); }

namespace detail {

cudaError_t fail(cudaError_t code, std::string message) {
  t_last_error = code;
  t_last_message = std::move(message);
  return code;
}

cudaError_t launch_kernel(const KernelLaunch& k) {
  const auto refuse = [](cudaError_t code, const std::string& why) { return fail(code, "kernel launch refused: " + why); };
  const dim3 b = k.block;
  const dim3 g = k.grid;
  if (b.x == 0 || b.y == 0 || b.z == 0 || g.x == 0 || g.y == 0 || g.z == 0) {
    return refuse(cudaErrorInvalidConfiguration, "grid " + dim_text(g) + " or block " + dim_text(b) + " has a zero dimension");
  }
  const std::uint64_t threads = std::uint64_t{b.x} * b.y * b.z;
  if (threads > 1024) {
    return refuse(cudaErrorInvalidConfiguration, "block " + dim_text(b) + " has " + std::to_string(threads) +
                                                     " threads; a block has at most 1024 threads");
  }
  if (b.y > 1024 || b.z > 64) {
    return refuse(cudaErrorInvalidConfiguration, "block " + dim_text(b) + " exceeds the per-dimension limits (1024,1024,64)");
  }
  if (g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
    return refuse(cudaErrorInvalidConfiguration, "grid " + dim_text(g) + " exceeds the limits (2147483647,65535,65535)");
  }
  int opted_in = 0;
  {
    std::lock_guard<std::mutex> lock(g_attribute_mutex);
    if (auto it = g_max_dynamic_shared.find(k.kernel); it != g_max_dynamic_shared.end()) opted_in = it->second;
  }
  const std::size_t shared_limit = opted_in > 0 ? static_cast<std::size_t>(opted_in) : default_shared_limit;
  if (k.dynamic_shared_bytes > shared_limit) {
    const std::string bytes = std::to_string(k.dynamic_shared_bytes);
    return refuse(cudaErrorInvalidValue,
                  opted_in > 0 ? bytes + " bytes of dynamic shared memory exceed the " + std::to_string(opted_in) +
                                     " bytes set with cudaFuncSetAttribute(kernel, "
                                     "cudaFuncAttributeMaxDynamicSharedMemorySize, ...)"
                               : bytes + " bytes of dynamic shared memory exceed the default limit of 49152 bytes; "
                                         "opt in with cudaFuncSetAttribute(kernel, "
                                         "cudaFuncAttributeMaxDynamicSharedMemorySize, " + bytes + ") (at most 232448)");
  }

  if (cudaError_t captured = cudaSuccess; capture_launch(k, &captured)) return captured;
  if (const cudaError_t e = check_legacy_stream_work("kernel launch on the legacy stream", k.stream); e != cudaSuccess)
    return e;
  return run_launch(k);
}

cudaError_t run_launch(const KernelLaunch& k) {
  const dim3 g = k.grid;
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  GridRun run;
  run.kernel = &k;
  run.settings = settings();
  run.launch_index = g_launch_count++;
  run.blocks = std::uint64_t{g.x} * g.y * g.z;
  run.sampled_blocks_only = sampled_blocks_only();
  plan_block_order(run);
  profile_launch_begin(k);
  pool().run(run, run.settings.worker_threads);
  profile_launch_end(k, !run.failed);
  if (run.failed) return fail(cudaErrorLaunchFailure, "kernel failed in " + run.error);
  record_launch(k.kernel);
  return cudaSuccess;
}

}  // namespace detail
}  // namespace kernels::emu

using kernels::emu::detail::fail;

// ---------------------------------------------------------------------------------------------
// The CUDA runtime API subset (C linkage, from the toolkit's declarations).

// Streams, stream capture and graphs: graph.cpp.

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  if (event == nullptr) return fail(cudaErrorInvalidValue, "cudaEventCreate: null pointer");
  *event = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy: null event");
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: null event");
  if (cudaStreamCaptureStatus status; cudaStreamIsCapturing(stream, &status) == cudaSuccess &&
                                      status != cudaStreamCaptureStatusNone) {
    return fail(cudaErrorStreamCaptureUnsupported,
                "cudaEventRecord on a capturing stream: the emulator does not capture events (time the graph's launch "
                "from outside it)");
  }
  event->time = std::chrono::steady_clock::now();
  event->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (event == nullptr) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: null event");
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr || start == nullptr || end == nullptr) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: null event or result");
  }
  if (!start->recorded || !end->recorded) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was never recorded");
  }
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = kernels::emu::t_last_error;
  kernels::emu::t_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return kernels::emu::t_last_error; }

namespace {
struct ErrorText {
  cudaError_t code;
  const char* name;
  const char* text;
};
// The codes the emulator produces, with CUDA's own wording.
constexpr ErrorText error_texts[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction", "invalid device function"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorIllegalState, "cudaErrorIllegalState", "the operation cannot be performed in the present state"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported", "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated",
     "operation failed due to a previous error during capture"},
    {cudaErrorStreamCaptureImplicit, "cudaErrorStreamCaptureImplicit",
     "operation would make the legacy stream depend on a capturing blocking stream"},
    {cudaErrorStreamCaptureWrongThread, "cudaErrorStreamCaptureWrongThread",
     "attempt to terminate a thread-local capture sequence from another thread"},
};
const ErrorText* find_error(cudaError_t e) {
  for (const auto& t : error_texts) {
    if (t.code == e) return &t;
  }
  return nullptr;
}
}  // namespace

const char* cudaGetErrorString(cudaError_t e) {
  const ErrorText* t = find_error(e);
  return t != nullptr ? t->text : "unrecognized error code";
}
const char* cudaGetErrorName(cudaError_t e) {
  const ErrorText* t = find_error(e);
  return t != nullptr ? t->name : "cudaErrorUnknown";
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: null pointer");
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDevice: null pointer");
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + "): the emulator has device 0 only");
  return cudaSuccess;
}

// sm_80-like limits, except the shared-memory opt-in, which is sm_90's 227 KiB (the most any
// of our targets allows; docs/emulator.md).
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: null pointer");
  if (device != 0) return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties: the emulator has device 0 only");
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "CUDA emulator on CPU");
  prop->totalGlobalMem = kernels::emu::detail::physical_memory();
  prop->sharedMemPerBlock = kernels::emu::default_shared_limit;
  prop->sharedMemPerBlockOptin = kernels::emu::opt_in_shared_limit;
  prop->sharedMemPerMultiprocessor = kernels::emu::opt_in_shared_limit + 1024;
  prop->regsPerBlock = 65536;
  prop->regsPerMultiprocessor = 65536;
  prop->warpSize = 32;
  prop->memPitch = 2147483647;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 65536;
  prop->major = 8;
  prop->minor = 0;
  prop->multiProcessorCount = kernels::emu::settings().worker_threads;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->unifiedAddressing = 1;
  prop->textureAlignment = 512;
  return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
  if (attr == nullptr || func == nullptr) return fail(cudaErrorInvalidDeviceFunction, "cudaFuncGetAttributes: null kernel");
  std::memset(attr, 0, sizeof *attr);
  attr->maxThreadsPerBlock = 1024;
  attr->ptxVersion = 80;
  attr->binaryVersion = 80;
  std::lock_guard<std::mutex> lock(kernels::emu::g_attribute_mutex);
  const auto it = kernels::emu::g_max_dynamic_shared.find(func);
  attr->maxDynamicSharedSizeBytes =
      it != kernels::emu::g_max_dynamic_shared.end() ? it->second : static_cast<int>(kernels::emu::default_shared_limit);
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (func == nullptr) return fail(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: null kernel");
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || static_cast<std::size_t>(value) > kernels::emu::opt_in_shared_limit) {
      return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: cudaFuncAttributeMaxDynamicSharedMemorySize = " +
                                             std::to_string(value) + " is outside 0..232448 bytes");
    }
    std::lock_guard<std::mutex> lock(kernels::emu::g_attribute_mutex);
    kernels::emu::g_max_dynamic_shared[func] = value;
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;  // a hint only
  return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " + std::to_string(static_cast<int>(attr)) +
                                         " is not supported by the emulator");
}
