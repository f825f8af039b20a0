// The NCCL communicator (contract in nccl_communicator.h). Compiled only in the nvcc build
// (ENGINE_CUDA=ON) with NCCL found; runs on a machine with GPUs (tools/gpu_check.sh).
//
// Determinism: NCCL's ring/tree all-reduce sums in an order fixed by the rank count, the
// topology and the message size, so two runs on the same machine give the same bits; it is not
// the MPI path's rank order, so an NCCL run and an MPI run differ in the last bits.
#include "nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "engine/check.h"
#include "kernels/cuda_stream.h"
#include "mpi_communicator.h"

namespace engine {

namespace {

void nccl_check(ncclResult_t code, const char* call) {
  if (code != ncclSuccess && code != ncclInProgress) ENGINE_FAIL(call, " failed: ", ncclGetErrorString(code));
}

void cuda_check(cudaError_t code, const char* call) {
  if (code != cudaSuccess) ENGINE_FAIL(call, " failed: ", cudaGetErrorString(code));
}

class NcclCommunicator : public Communicator {
 public:
  explicit NcclCommunicator(double timeout_seconds) : mpi_(timeout_seconds), timeout_(timeout_seconds) {
    int devices = 0;
    cuda_check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
    ENGINE_CHECK(devices > 0, "rank ", mpi_.rank(), ": NCCL training needs a GPU, none is visible");
    // Before any allocation: the engine's buffers then live on this rank's GPU.
    cuda_check(cudaSetDevice(mpi_.local_rank() % devices), "cudaSetDevice");
    ncclUniqueId id;
    if (mpi_.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi_.broadcast(&id, sizeof(id), "NCCL unique id");
    nccl_check(ncclCommInitRank(&comm_, mpi_.size(), id, mpi_.rank()), "ncclCommInitRank");
  }
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }
  int rank() const override { return mpi_.rank(); }
  int size() const override { return mpi_.size(); }
  std::string backend() const override { return "nccl"; }

  void average(const std::vector<Tensor>& tensors) override {
    const auto start = std::chrono::steady_clock::now();
    auto stream = static_cast<cudaStream_t>(kernels::cuda::current_stream());
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (const Tensor& t : tensors) {
      ENGINE_CHECK(t.device().is_cuda(), "NCCL average: a tensor on the cpu");
      nccl_check(ncclAllReduce(t.data(), t.data(), size_t(t.numel()), ncclFloat, ncclAvg, comm_, stream),
                 "ncclAllReduce");
    }
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
    wait(stream, start);
    seconds_averaging_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void average(std::vector<double>& values) override { mpi_.average(values); }

 private:
  // Polls the stream so that a peer that died or hangs stops the job after the timeout; MPI
  // then names the ranks that do not answer.
  void wait(cudaStream_t stream, std::chrono::steady_clock::time_point start) {
    for (;;) {
      const cudaError_t state = cudaStreamQuery(stream);
      if (state == cudaSuccess) return;
      if (state != cudaErrorNotReady) cuda_check(state, "NCCL all-reduce");
      ncclResult_t async = ncclSuccess;
      nccl_check(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
      nccl_check(async, "NCCL all-reduce");
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > timeout_) {
        ncclCommAbort(comm_);
        std::vector<double> token = {1.0};
        mpi_.average(token);  // aborts naming the silent ranks; returns if all answered
        mpi_.abort_silent({}, "NCCL all-reduce timed out although every rank answers over MPI");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  MpiCommunicator mpi_;
  double timeout_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(double timeout_seconds) {
  return std::make_unique<NcclCommunicator>(timeout_seconds);
}

}  // namespace engine
