#pragma once
// Stream capture and CUDA graphs in the emulator (graph.cpp; docs/emulator.md, "Graphs"), between
// graph.cpp, the launch path (runtime.cpp) and the memory calls (device_memory.cpp).
//
// Work issued to a capturing stream is recorded, not run: kernel launches (validated first, their
// arguments copied), device-to-device copies and memsets. cudaGraphLaunch runs the recorded nodes
// in order. The capture rules of CUDA that catch code which cannot be captured are enforced:
// while a capture prohibits it (cudaThreadExchangeStreamCaptureMode's rules), a potentially unsafe
// call (cudaMalloc, cudaFree, a synchronous copy or memset, device synchronisation, work on the
// legacy stream) fails and invalidates the capture; synchronising the capturing stream, copying
// host memory into or out of it, or recording an event on it fails and invalidates it always.
#include <cstddef>

#include "cuda_emu.h"

namespace kernels::emu::detail {

// Runs a validated launch now: every block, profiled and counted (runtime.cpp).
cudaError_t run_launch(const KernelLaunch& k);

// Copies and memsets with the runtime's checks: device ranges inside one allocation (device_memory.cpp).
cudaError_t check_copy(const char* call, void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t copy_memory(const char* call, void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t check_fill(const char* call, void* p, std::size_t bytes);
cudaError_t fill_memory(const char* call, void* p, int value, std::size_t bytes);

// Streams made by cudaStreamCreate; the legacy stream (null or cudaStreamLegacy) and
// cudaStreamPerThread are not.
bool is_created_stream(cudaStream_t stream);
bool is_legacy_stream(cudaStream_t stream);

// When `stream` is capturing: records the operation (a launch's closure is copied) and returns
// true with the call's result in *result; false when the stream is not capturing.
bool capture_launch(const KernelLaunch& k, cudaError_t* result);
bool capture_copy(const char* call, cudaStream_t stream, void* dst, const void* src, std::size_t bytes,
                  cudaMemcpyKind kind, cudaError_t* result);
bool capture_fill(const char* call, cudaStream_t stream, void* p, int value, std::size_t bytes, cudaError_t* result);

// A potentially unsafe call: when a capture prohibits it on this thread, invalidates that capture
// and returns `code` (as the call's error, with a message naming `call`); else cudaSuccess.
cudaError_t check_unsafe_call(const char* call, cudaError_t code = cudaErrorStreamCaptureUnsupported);

// check_unsafe_call for work issued to `stream` when it is the legacy stream (which a capture
// cannot order after a capturing blocking stream: cudaErrorStreamCaptureImplicit); else cudaSuccess.
cudaError_t check_legacy_stream_work(const char* call, cudaStream_t stream);

// True for a launch of cudaGraphLaunch's replay: the profiler marks it a graph node.
bool in_graph_replay();

}  // namespace kernels::emu::detail
