#pragma once
// The caching allocator for tensor memory: freed blocks are kept by (rounded) size and handed out
// again, so steady-state training calls cudaMalloc only while shapes are new. When the device runs
// out of memory the cache is emptied and the allocation retried once. Host memory goes through one
// too: glibc returns large blocks to the kernel on free, and the fresh pages of the next
// allocation cost a page fault and a clearing each (about a tenth of a CPU training step).
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace engine {

struct AllocatorStats {
  size_t current_bytes = 0;  // handed out and not yet released
  size_t peak_bytes = 0;     // the maximum of current_bytes
  size_t cached_bytes = 0;   // held in the cache, free for reuse
  size_t device_allocations = 0;  // calls to the device's malloc
};

class CachingAllocator {
 public:
  using RawAlloc = void* (*)(size_t);
  using RawFree = void (*)(void*);
  CachingAllocator(RawAlloc raw_alloc, RawFree raw_free) : raw_alloc_(raw_alloc), raw_free_(raw_free) {}
  ~CachingAllocator();
  void* allocate(size_t bytes);
  void release(void* ptr, size_t bytes);
  void empty_cache();
  AllocatorStats stats() const;
  void reset_peak();
  static size_t rounded(size_t bytes);

 private:
  void free_cache_locked();
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;
  AllocatorStats stats_;
};

CachingAllocator& cuda_caching_allocator();
CachingAllocator& cpu_caching_allocator();

// A private pool for the cuda tensors of a CUDA graph's capture (engine/cuda_graph.h): while one is
// set on this thread, new cuda Storage comes from it and returns to it, so no block the graph
// uses is handed to other work while the graph or any of its tensors lives (each Storage holds
// its pool). Null when none is set.
std::shared_ptr<CachingAllocator> make_cuda_graph_pool();
const std::shared_ptr<CachingAllocator>& cuda_capture_pool();
void set_cuda_capture_pool(std::shared_ptr<CachingAllocator> pool);

}  // namespace engine
