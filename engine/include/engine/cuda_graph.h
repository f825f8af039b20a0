#pragma once
// CudaGraph: the device work of a piece of host code, captured once from the current stream and
// replayed with one launch (CUDA graphs; the role of torch.cuda.CUDAGraph). A replay re-runs the
// captured kernels, copies and memsets on the same addresses with the same arguments; the host
// code does not run again. So the captured code must:
//   - read what changes between replays from device tensors that the caller refills before
//     each replay (inputs, learning-rate scalars), never from host values uploaded inside it;
//   - make no host copy and no synchronisation (the capture fails on them, naming the call);
//   - keep its tensors alive as long as it is replayed: outputs are read after each replay from
//     the tensors the capture made.
// Tensors made during the capture come from the graph's private memory pool (allocator.h), so no
// other work is handed memory the graph writes. Run the code once outside a capture first: lazy
// set-up (kernel attributes, workspaces) then happens outside the graph.
#include <cstddef>
#include <functional>
#include <memory>

namespace engine {

class CachingAllocator;

class CudaGraph {
 public:
  CudaGraph() = default;
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Captures the device work `body` issues on the current stream, which must be a created stream
  // (engine::StreamGuard), not the default one. Nothing runs on the device during the capture.
  // Throws (and keeps no graph) when the body throws or makes a call that cannot be captured.
  // A graph is captured once.
  void capture(const std::function<void()>& body);
  // Runs the captured work on the current stream (in order with its other work).
  void replay() const;

  bool captured() const { return exec_ != nullptr; }
  std::size_t nodes() const { return nodes_; }  // kernels, copies and memsets captured

 private:
  void* exec_ = nullptr;
  std::size_t nodes_ = 0;
  std::shared_ptr<CachingAllocator> pool_;
};

}  // namespace engine
