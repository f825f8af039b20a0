// Streams, stream capture and CUDA graphs of the emulated runtime (contract in capture.h). Work
// is synchronous, so a stream orders nothing; it exists to be captured. A graph is the list of
// its nodes in capture order, and a replay runs them in that order, which is the order a single
// captured stream gives them on the GPU.
#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "capture.h"
#include "runtime.h"

struct CUgraphNode_st {
  cudaGraphNodeType type = cudaGraphNodeTypeEmpty;
  // kernel: the launch, its closure owned by `closure`
  kernels::emu::detail::KernelLaunch launch{};
  std::shared_ptr<void> closure;
  // memcpy and memset
  void* dst = nullptr;
  const void* src = nullptr;
  std::size_t bytes = 0;
  cudaMemcpyKind kind = cudaMemcpyDeviceToDevice;
  int value = 0;
};

struct CUgraph_st {
  std::vector<std::unique_ptr<CUgraphNode_st>> nodes;
};

struct CUgraphExec_st {
  std::vector<CUgraphNode_st> nodes;  // copies: an executable graph outlives its graph
};

struct CUstream_st {
  // Capture state, under g_capture_mutex. `graph` is non-null while the stream captures.
  CUgraph_st* graph = nullptr;
  bool invalidated = false;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
};

namespace kernels::emu::detail {
namespace {

std::mutex g_capture_mutex;
std::set<CUstream_st*> g_capturing;
thread_local cudaStreamCaptureMode t_mode = cudaStreamCaptureModeGlobal;
thread_local bool t_replaying = false;

// Whether capture `s` prohibits unsafe calls on this thread (cudaThreadExchangeStreamCaptureMode).
bool prohibits(const CUstream_st& s) {
  if (t_mode == cudaStreamCaptureModeRelaxed || s.mode == cudaStreamCaptureModeRelaxed) return false;
  if (s.thread == std::this_thread::get_id()) return true;
  return t_mode == cudaStreamCaptureModeGlobal && s.mode == cudaStreamCaptureModeGlobal;
}

// The stream's graph while it captures (caller holds g_capture_mutex), else null.
CUgraph_st* capturing_graph(cudaStream_t stream) {
  return is_created_stream(stream) && stream->graph != nullptr ? stream->graph : nullptr;
}

cudaError_t invalidate(CUstream_st* stream, cudaError_t code, const std::string& message) {
  stream->invalidated = true;
  return fail(code, message + " (the capture is invalidated: cudaStreamEndCapture will fail)");
}

// Records `node` unless the capture is already invalidated (then the call fails as in CUDA).
cudaError_t append(cudaStream_t stream, CUgraphNode_st node, const char* call) {
  if (stream->invalidated)
    return fail(cudaErrorStreamCaptureInvalidated, std::string(call) + ": the stream's capture was invalidated earlier");
  stream->graph->nodes.push_back(std::make_unique<CUgraphNode_st>(std::move(node)));
  return cudaSuccess;
}

cudaError_t run_node(const CUgraphNode_st& n) {
  switch (n.type) {
    case cudaGraphNodeTypeKernel: return run_launch(n.launch);
    case cudaGraphNodeTypeMemcpy: return copy_memory("cudaGraphLaunch (memcpy node)", n.dst, n.src, n.bytes, n.kind);
    case cudaGraphNodeTypeMemset: return fill_memory("cudaGraphLaunch (memset node)", n.dst, n.value, n.bytes);
    default: return cudaSuccess;
  }
}

}  // namespace

bool is_legacy_stream(cudaStream_t stream) { return stream == nullptr || stream == cudaStreamLegacy; }
bool is_created_stream(cudaStream_t stream) { return !is_legacy_stream(stream) && stream != cudaStreamPerThread; }

bool capture_launch(const KernelLaunch& k, cudaError_t* result) {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  if (capturing_graph(k.stream) == nullptr) return false;
  CUgraphNode_st node;
  node.type = cudaGraphNodeTypeKernel;
  node.closure = std::shared_ptr<void>(k.copy_closure(k.closure), k.delete_closure);
  node.launch = k;
  node.launch.closure = node.closure.get();
  *result = append(k.stream, std::move(node), "kernel launch");
  return true;
}

bool capture_copy(const char* call, cudaStream_t stream, void* dst, const void* src, std::size_t bytes,
                  cudaMemcpyKind kind, cudaError_t* result) {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  if (capturing_graph(stream) == nullptr) return false;
  if (kind != cudaMemcpyDeviceToDevice) {
    *result = invalidate(stream, cudaErrorStreamCaptureUnsupported,
                         std::string(call) + " of host memory on a capturing stream: the emulator captures device-to-device "
                                             "copies only (copy host data in or out before or after the graph)");
    return true;
  }
  *result = check_copy(call, dst, src, bytes, kind);
  if (*result != cudaSuccess) return true;
  CUgraphNode_st node;
  node.type = cudaGraphNodeTypeMemcpy;
  node.dst = dst, node.src = src, node.bytes = bytes, node.kind = kind;
  *result = append(stream, std::move(node), call);
  return true;
}

bool capture_fill(const char* call, cudaStream_t stream, void* p, int value, std::size_t bytes, cudaError_t* result) {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  if (capturing_graph(stream) == nullptr) return false;
  *result = check_fill(call, p, bytes);
  if (*result != cudaSuccess) return true;
  CUgraphNode_st node;
  node.type = cudaGraphNodeTypeMemset;
  node.dst = p, node.value = value, node.bytes = bytes;
  *result = append(stream, std::move(node), call);
  return true;
}

cudaError_t check_unsafe_call(const char* call, cudaError_t code) {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  bool prohibited = false;
  for (CUstream_st* s : g_capturing) {
    if (!prohibits(*s)) continue;
    s->invalidated = true;
    prohibited = true;
  }
  if (!prohibited) return cudaSuccess;
  return fail(code, std::string(call) +
                        " while a stream capture prohibits it (a synchronous or allocating call, or work on the legacy "
                        "stream; the capture is invalidated: cudaStreamEndCapture will fail). An allocation the graph "
                        "keeps may be made under cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureModeRelaxed)");
}

cudaError_t check_legacy_stream_work(const char* call, cudaStream_t stream) {
  return is_legacy_stream(stream) ? check_unsafe_call(call, cudaErrorStreamCaptureImplicit) : cudaSuccess;
}

bool in_graph_replay() { return t_replaying; }

}  // namespace kernels::emu::detail

using kernels::emu::detail::fail;
namespace emu = kernels::emu::detail;

// ---------------------------------------------------------------------------------------------
// The CUDA runtime API's stream, capture and graph calls (C linkage, the toolkit's declarations).

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  if (stream == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamCreate: null pointer");
  *stream = new CUstream_st;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!emu::is_created_stream(stream))
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: the default streams cannot be destroyed");
  {
    std::lock_guard<std::mutex> lock(emu::g_capture_mutex);
    if (stream->graph != nullptr) {
      emu::g_capturing.erase(stream);
      delete stream->graph;  // an abandoned capture
    }
  }
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (emu::is_created_stream(stream)) {
    std::lock_guard<std::mutex> lock(emu::g_capture_mutex);
    if (stream->graph != nullptr)
      return emu::invalidate(stream, cudaErrorStreamCaptureUnsupported, "cudaStreamSynchronize of a capturing stream");
    return cudaSuccess;
  }
  return emu::is_legacy_stream(stream) ? emu::check_unsafe_call("cudaStreamSynchronize(legacy stream)") : cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return emu::check_unsafe_call("cudaDeviceSynchronize"); }

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  if (!emu::is_created_stream(stream))
    return fail(cudaErrorStreamCaptureUnsupported,
                "cudaStreamBeginCapture: the legacy and per-thread default streams cannot be captured; create a stream");
  if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
      mode != cudaStreamCaptureModeRelaxed)
    return fail(cudaErrorInvalidValue, "cudaStreamBeginCapture: unknown capture mode");
  std::lock_guard<std::mutex> lock(emu::g_capture_mutex);
  if (stream->graph != nullptr) return fail(cudaErrorIllegalState, "cudaStreamBeginCapture: the stream is capturing already");
  stream->graph = new CUgraph_st;
  stream->invalidated = false;
  stream->mode = mode;
  stream->thread = std::this_thread::get_id();
  emu::g_capturing.insert(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (graph == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamEndCapture: null result pointer");
  *graph = nullptr;
  if (!emu::is_created_stream(stream)) return fail(cudaErrorIllegalState, "cudaStreamEndCapture: the stream is not capturing");
  std::lock_guard<std::mutex> lock(emu::g_capture_mutex);
  if (stream->graph == nullptr) return fail(cudaErrorIllegalState, "cudaStreamEndCapture: the stream is not capturing");
  if (stream->mode != cudaStreamCaptureModeRelaxed && stream->thread != std::this_thread::get_id())
    return fail(cudaErrorStreamCaptureWrongThread, "cudaStreamEndCapture: the capture began on another thread");
  emu::g_capturing.erase(stream);
  std::unique_ptr<CUgraph_st> captured(stream->graph);
  stream->graph = nullptr;
  if (stream->invalidated)
    return fail(cudaErrorStreamCaptureInvalidated,
                "cudaStreamEndCapture: the capture was invalidated by an earlier call (its error named it)");
  *graph = captured.release();
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (status == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamIsCapturing: null result pointer");
  *status = cudaStreamCaptureStatusNone;
  if (!emu::is_created_stream(stream)) return cudaSuccess;
  std::lock_guard<std::mutex> lock(emu::g_capture_mutex);
  if (stream->graph != nullptr)
    *status = stream->invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (mode == nullptr) return fail(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: null pointer");
  std::swap(*mode, emu::t_mode);
  return cudaSuccess;
}

cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  if (graph == nullptr || count == nullptr) return fail(cudaErrorInvalidValue, "cudaGraphGetNodes: null graph or count");
  if (nodes == nullptr) {
    *count = graph->nodes.size();
    return cudaSuccess;
  }
  for (std::size_t i = 0; i < *count; ++i) nodes[i] = i < graph->nodes.size() ? graph->nodes[i].get() : nullptr;
  *count = std::min(*count, graph->nodes.size());
  return cudaSuccess;
}

cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, cudaGraphNodeType* type) {
  if (node == nullptr || type == nullptr) return fail(cudaErrorInvalidValue, "cudaGraphNodeGetType: null node or result");
  *type = node->type;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long /*flags*/) {
  if (exec == nullptr || graph == nullptr) return fail(cudaErrorInvalidValue, "cudaGraphInstantiate: null graph or result");
  auto instance = std::make_unique<CUgraphExec_st>();
  for (const auto& node : graph->nodes) instance->nodes.push_back(*node);
  *exec = instance.release();
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return fail(cudaErrorInvalidValue, "cudaGraphLaunch: null executable graph");
  if (emu::is_created_stream(stream)) {
    std::lock_guard<std::mutex> lock(emu::g_capture_mutex);
    if (stream->graph != nullptr)
      return emu::invalidate(stream, cudaErrorStreamCaptureUnsupported,
                             "cudaGraphLaunch into a capturing stream: the emulator does not nest graphs");
  } else if (const cudaError_t e = emu::check_legacy_stream_work("cudaGraphLaunch on the legacy stream", stream);
             e != cudaSuccess) {
    return e;
  }
  struct Replaying {
    Replaying() { emu::t_replaying = true; }
    ~Replaying() { emu::t_replaying = false; }
  } replaying;
  for (const CUgraphNode_st& node : exec->nodes)
    if (const cudaError_t e = emu::run_node(node); e != cudaSuccess) return e;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
