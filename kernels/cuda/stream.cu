// The per-thread current stream that every launcher uses, and the graphs captured from streams.
#include "common.cuh"

namespace kernels::cuda {
namespace {
thread_local cudaStream_t current = nullptr;
}

void* create_stream() {
  cudaStream_t s = nullptr;
  CUDA_CHECK(cudaStreamCreate(&s));
  return s;
}
void destroy_stream(void* s) { CUDA_CHECK(cudaStreamDestroy(static_cast<cudaStream_t>(s))); }
void set_current_stream(void* s) { current = static_cast<cudaStream_t>(s); }
void* current_stream() { return current; }
void synchronize_stream(void* s) { CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(s))); }

void begin_capture(void* s) {
  CUDA_CHECK(cudaStreamBeginCapture(static_cast<cudaStream_t>(s), cudaStreamCaptureModeGlobal));
}

CapturedGraph end_capture(void* s) {
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(static_cast<cudaStream_t>(s), &graph));
  CapturedGraph captured;
  const cudaError_t counted = cudaGraphGetNodes(graph, nullptr, &captured.nodes);
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = counted == cudaSuccess ? cudaGraphInstantiate(&exec, graph, 0) : counted;
  CUDA_CHECK(cudaGraphDestroy(graph));
  CUDA_CHECK(instantiated);
  captured.exec = exec;
  return captured;
}

void abandon_capture(void* s) {
  cudaGraph_t graph = nullptr;
  if (cudaStreamEndCapture(static_cast<cudaStream_t>(s), &graph) == cudaSuccess && graph != nullptr)
    (void)cudaGraphDestroy(graph);
  (void)cudaGetLastError();  // the body's own error was thrown already
}

void launch_graph(void* exec, void* s) {
  CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), static_cast<cudaStream_t>(s)));
}

void destroy_graph(void* exec) { CUDA_CHECK(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec))); }

}  // namespace kernels::cuda
