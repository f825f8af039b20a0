// CudaGraph (contract in engine/cuda_graph.h) on the kernels layer's stream capture.
#include "engine/cuda_graph.h"

#include "engine/allocator.h"
#include "engine/check.h"
#include "engine/dispatch.h"
#if ENGINE_WITH_CUDA
#include "kernels/cuda_stream.h"
#endif

namespace engine {

#if ENGINE_WITH_CUDA

CudaGraph::~CudaGraph() {
  if (exec_ == nullptr) return;
  try {
    kernels::cuda::destroy_graph(exec_);
  } catch (...) {  // a destructor must not throw; a failed destroy leaks the graph
  }
}

void CudaGraph::capture(const std::function<void()>& body) {
  ENGINE_CHECK(exec_ == nullptr, "CudaGraph::capture: this graph is captured already");
  void* stream = kernels::cuda::current_stream();
  ENGINE_CHECK(stream != nullptr,
               "CudaGraph::capture: the current stream is the default stream, which cannot be captured; make a "
               "created stream current (engine::StreamGuard)");
  std::shared_ptr<CachingAllocator> pool = make_cuda_graph_pool();
  struct PoolScope {  // the capture's tensors come from the graph's pool, also when the body throws
    explicit PoolScope(std::shared_ptr<CachingAllocator> p) { set_cuda_capture_pool(std::move(p)); }
    ~PoolScope() { set_cuda_capture_pool(nullptr); }
  };
  ENGINE_CHECK(cuda_capture_pool() == nullptr, "CudaGraph::capture: another capture is under way on this thread");
  kernels::cuda::begin_capture(stream);
  try {
    PoolScope scope(pool);
    body();
  } catch (...) {
    kernels::cuda::abandon_capture(stream);
    throw;
  }
  const kernels::cuda::CapturedGraph captured = kernels::cuda::end_capture(stream);
  exec_ = captured.exec;
  nodes_ = captured.nodes;
  pool_ = std::move(pool);
}

void CudaGraph::replay() const {
  ENGINE_CHECK(exec_ != nullptr, "CudaGraph::replay: nothing was captured");
  kernels::cuda::launch_graph(exec_, kernels::cuda::current_stream());
}

#else

CudaGraph::~CudaGraph() = default;
void CudaGraph::capture(const std::function<void()>&) { detail::no_cuda_in_build("CudaGraph::capture"); }
void CudaGraph::replay() const { detail::no_cuda_in_build("CudaGraph::replay"); }

#endif

}  // namespace engine
