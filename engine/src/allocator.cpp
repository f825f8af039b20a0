#include "engine/allocator.h"

#include <algorithm>
#include <cstdlib>

#include "engine/check.h"
#include "engine/dispatch.h"
#if ENGINE_WITH_CUDA
#include "kernels/cuda_device.h"
#endif

namespace engine {

CachingAllocator::~CachingAllocator() { empty_cache(); }

size_t CachingAllocator::rounded(size_t bytes) {
  // 512-byte granules; above 1 MiB, 1 MiB granules so that slightly different shapes share blocks.
  const size_t granule = bytes > (size_t{1} << 20) ? (size_t{1} << 20) : 512;
  return std::max<size_t>(granule, (bytes + granule - 1) / granule * granule);
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  void* ptr = nullptr;
  auto& bucket = free_blocks_[size];
  if (!bucket.empty()) {
    ptr = bucket.back();
    bucket.pop_back();
    stats_.cached_bytes -= size;
  } else {
    try {
      ptr = raw_alloc_(size);
    } catch (const std::exception&) {
      ptr = nullptr;
    }
    if (!ptr) {  // out of memory: give the cache back to the device and try once more
      free_cache_locked();
      ptr = raw_alloc_(size);
    }
    ENGINE_CHECK(ptr != nullptr, "out of memory allocating ", bytes, " bytes (",
                 stats_.current_bytes, " bytes in use)");
    ++stats_.device_allocations;
  }
  stats_.current_bytes += size;
  stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.current_bytes);
  return ptr;
}

void CachingAllocator::release(void* ptr, size_t bytes) {
  if (!ptr) return;
  const size_t size = rounded(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  free_blocks_[size].push_back(ptr);
  stats_.current_bytes -= size;
  stats_.cached_bytes += size;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  free_cache_locked();
}

void CachingAllocator::free_cache_locked() {
  for (auto& [size, blocks] : free_blocks_)
    for (void* block : blocks) raw_free_(block);
  free_blocks_.clear();
  stats_.cached_bytes = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes = stats_.current_bytes;
}

CachingAllocator& cuda_caching_allocator() {
#if ENGINE_WITH_CUDA
  // Leaked on purpose: tensors in static storage may be freed after main returns.
  static auto* allocator = new CachingAllocator(kernels::cuda::malloc_bytes, kernels::cuda::free_bytes);
#else
  static auto* allocator = new CachingAllocator(
      [](size_t) -> void* { detail::no_cuda_in_build("cuda allocation"); }, [](void*) {});
#endif
  return *allocator;
}

namespace {
thread_local std::shared_ptr<CachingAllocator> t_capture_pool;
}

std::shared_ptr<CachingAllocator> make_cuda_graph_pool() {
#if ENGINE_WITH_CUDA
  return std::make_shared<CachingAllocator>(kernels::cuda::malloc_bytes, kernels::cuda::free_bytes);
#else
  detail::no_cuda_in_build("make_cuda_graph_pool");
#endif
}
const std::shared_ptr<CachingAllocator>& cuda_capture_pool() { return t_capture_pool; }
void set_cuda_capture_pool(std::shared_ptr<CachingAllocator> pool) { t_capture_pool = std::move(pool); }

CachingAllocator& cpu_caching_allocator() {
  // Blocks are multiples of 512 bytes, so 64-byte (cache line, AVX-512) alignment is valid.
  static auto* allocator =
      new CachingAllocator([](size_t bytes) { return std::aligned_alloc(64, bytes); }, std::free);
  return *allocator;
}

}  // namespace engine
