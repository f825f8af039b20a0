#pragma once
#include <cstddef>

// The stream the CUDA kernels of this thread launch on (default: the legacy default stream).
// Opaque here (void*) so that code outside kernels/cuda needs no CUDA header.
namespace kernels::cuda {
void* create_stream();
void destroy_stream(void* stream);
void set_current_stream(void* stream);  // nullptr: the default stream
void* current_stream();
void synchronize_stream(void* stream);

// Stream capture into a CUDA graph (global capture mode) and its replay, for engine::CudaGraph.
// begin_capture needs a created stream. end_capture instantiates what was captured; after a
// failed call inside the capture (which threw, naming itself) it ends the capture, discards it
// and throws. Opaque handles, as the streams.
struct CapturedGraph {
  void* exec = nullptr;
  std::size_t nodes = 0;  // kernels, copies and memsets
};
void begin_capture(void* stream);
CapturedGraph end_capture(void* stream);
void abandon_capture(void* stream);  // ends a capture whose body threw; never throws
void launch_graph(void* exec, void* stream);
void destroy_graph(void* exec);
}  // namespace kernels::cuda
