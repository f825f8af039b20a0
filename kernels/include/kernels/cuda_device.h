#pragma once
// The device seam the engine calls for memory and synchronisation on the CUDA device (a real
// GPU, or the CPU emulator in ENGINE_CUDA=EMU builds). Declared only when the build has a CUDA
// device (ENGINE_WITH_CUDA). Every function except device_count throws kernels::CudaError on
// failure; all work is on device 0, and copies and memsets are issued on this thread's current
// stream (kernels/cuda_stream.h), in order with its kernels, so that a stream capture records
// them.
#include <cstddef>
#include <string>

namespace kernels::cuda {

// Number of usable devices; 0 when there is no device or driver (never throws).
int device_count();
// e.g. "NVIDIA A100-SXM4-80GB, compute capability 8.0, 79.1 GiB"; the emulator adds
// "(emulated on the CPU)".
std::string device_description();

// `bytes` of device memory (bytes == 0 gives nullptr); free_bytes(nullptr) does nothing.
// malloc_bytes may be called while this thread captures a stream (it switches to the relaxed
// capture mode for the call): the memory is not part of the graph, so whoever allocates it then
// must keep it for the graph's lifetime (the engine's graph pools do). free_bytes during a
// capture fails and invalidates it.
void* malloc_bytes(std::size_t bytes);
void free_bytes(void* p);
// Host copies return once the host buffer may be reused (device to host: once the data are
// there). Neither can be captured: a capture fails on them, naming the call.
void copy_host_to_device(void* device_dst, const void* host_src, std::size_t bytes);
void copy_device_to_host(void* host_dst, const void* device_src, std::size_t bytes);
void copy_device_to_device(void* device_dst, const void* device_src, std::size_t bytes);
void memset_zero(void* device_p, std::size_t bytes);
// Waits for all work on the device; reports asynchronous kernel faults.
void synchronize();
// Free device memory in bytes, as cudaMemGetInfo reports it.
std::size_t memory_free();

}  // namespace kernels::cuda
