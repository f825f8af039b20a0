// The per-thread current stream that every launcher uses.
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

}  // namespace kernels::cuda
