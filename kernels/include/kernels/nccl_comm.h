#pragma once
// NCCL for the engine's NCCL communicator (engine/dist/nccl_communicator.cpp): handles are opaque
// (void*) so that no CUDA or NCCL header leaves kernels/. Built only with ENGINE_CUDA=ON and NCCL
// found (ENGINE_NCCL). Failures throw kernels::CudaError naming the call and NCCL's reason.
#include <cstddef>

namespace kernels::nccl {

constexpr size_t unique_id_bytes = 128;  // NCCL_UNIQUE_ID_BYTES (checked where nccl.h is seen)

int device_count();
void set_device(int device);  // before any allocation of this process
void get_unique_id(void* id);  // writes unique_id_bytes (rank 0 only, then sent to the others)
void* init_rank(int ranks, const void* id, int rank);
void destroy(void* comm);
void abort(void* comm);  // after a timeout: does not wait for the peers

// Every buffers[i] (counts[i] floats, device memory) replaced by its mean over the ranks
// (ncclAvg), in place, as one NCCL group on `stream`; returns without waiting.
void average(void* comm, float* const* buffers, const size_t* counts, size_t n, void* stream);
// True once `stream` has finished; throws on an asynchronous NCCL or CUDA error.
bool finished(void* comm, void* stream);

}  // namespace kernels::nccl
