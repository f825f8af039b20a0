// NCCL behind an opaque interface (contract in kernels/nccl_comm.h).
#include "kernels/nccl_comm.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <string>

#include "kernels/cuda_error.h"

namespace kernels::nccl {

static_assert(unique_id_bytes == sizeof(ncclUniqueId), "NCCL's unique id changed size");

namespace {

void check(ncclResult_t code, const char* call) {
  if (code != ncclSuccess && code != ncclInProgress)
    throw CudaError(std::string(call) + " failed: " + ncclGetErrorString(code));
}

void check(cudaError_t code, const char* call) {
  if (code != cudaSuccess) throw CudaError(std::string(call) + " failed: " + cudaGetErrorString(code));
}

ncclComm_t handle(void* comm) { return static_cast<ncclComm_t>(comm); }

}  // namespace

int device_count() {
  int count = 0;
  check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  return count;
}

void set_device(int device) { check(cudaSetDevice(device), "cudaSetDevice"); }

void get_unique_id(void* id) {
  ncclUniqueId unique;
  check(ncclGetUniqueId(&unique), "ncclGetUniqueId");
  std::memcpy(id, &unique, sizeof(unique));
}

void* init_rank(int ranks, const void* id, int rank) {
  ncclUniqueId unique;
  std::memcpy(&unique, id, sizeof(unique));
  ncclComm_t comm = nullptr;
  check(ncclCommInitRank(&comm, ranks, unique, rank), "ncclCommInitRank");
  return comm;
}

void destroy(void* comm) { ncclCommDestroy(handle(comm)); }

void abort(void* comm) { ncclCommAbort(handle(comm)); }

void average(void* comm, float* const* buffers, const size_t* counts, size_t n, void* stream) {
  check(ncclGroupStart(), "ncclGroupStart");
  for (size_t i = 0; i < n; ++i)
    check(ncclAllReduce(buffers[i], buffers[i], counts[i], ncclFloat, ncclAvg, handle(comm),
                        static_cast<cudaStream_t>(stream)),
          "ncclAllReduce");
  check(ncclGroupEnd(), "ncclGroupEnd");
}

bool finished(void* comm, void* stream) {
  const cudaError_t state = cudaStreamQuery(static_cast<cudaStream_t>(stream));
  if (state == cudaSuccess) return true;
  if (state != cudaErrorNotReady) check(state, "NCCL all-reduce");
  ncclResult_t async = ncclSuccess;
  check(ncclCommGetAsyncError(handle(comm), &async), "ncclCommGetAsyncError");
  check(async, "NCCL all-reduce");
  return false;
}

}  // namespace kernels::nccl
