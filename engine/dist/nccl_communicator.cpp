// The NCCL communicator (contract in nccl_communicator.h), on kernels/nccl_comm.h: no CUDA or
// NCCL header here. Compiled only in the nvcc build (ENGINE_CUDA=ON) with NCCL found; runs on a
// machine with GPUs (tools/perf/gpu_check.sh).
//
// Determinism: NCCL's ring/tree all-reduce sums in an order fixed by the rank count, the
// topology and the message size, so two runs on the same machine give the same bits; it is not
// the MPI path's rank order, so an NCCL run and an MPI run differ in the last bits.
#include "nccl_communicator.h"

#include <chrono>
#include <thread>

#include "engine/check.h"
#include "kernels/cuda_error.h"
#include "kernels/cuda_stream.h"
#include "kernels/nccl_comm.h"
#include "mpi_communicator.h"

namespace engine {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class NcclCommunicator : public Communicator {
 public:
  explicit NcclCommunicator(double timeout_seconds) : mpi_(timeout_seconds), timeout_(timeout_seconds) {
    try {
      const int devices = kernels::nccl::device_count();
      ENGINE_CHECK(devices > 0, "rank ", mpi_.rank(), ": NCCL training needs a GPU, none is visible");
      // Before any allocation: the engine's buffers then live on this rank's GPU.
      kernels::nccl::set_device(mpi_.local_rank() % devices);
      unsigned char id[kernels::nccl::unique_id_bytes] = {};
      if (mpi_.rank() == 0) kernels::nccl::get_unique_id(id);
      mpi_.broadcast(id, sizeof(id), "NCCL unique id");
      comm_ = kernels::nccl::init_rank(mpi_.size(), id, mpi_.rank());
    } catch (const kernels::CudaError& e) {
      ENGINE_FAIL("rank ", mpi_.rank(), ": ", e.what());
    }
  }
  ~NcclCommunicator() override { kernels::nccl::destroy(comm_); }
  int rank() const override { return mpi_.rank(); }
  int size() const override { return mpi_.size(); }
  std::string backend() const override { return "nccl"; }

  void average(const std::vector<Tensor>& tensors) override {
    const auto start = std::chrono::steady_clock::now();
    std::vector<float*> buffers;
    std::vector<size_t> counts;
    for (const Tensor& t : tensors) {
      ENGINE_CHECK(t.device().is_cuda(), "NCCL average: a tensor on the cpu");
      buffers.push_back(t.data());
      counts.push_back(size_t(t.numel()));
    }
    void* stream = kernels::cuda::current_stream();
    try {
      kernels::nccl::average(comm_, buffers.data(), counts.data(), buffers.size(), stream);
      // Polled, so that a peer that died or hangs stops the job after the timeout; MPI then
      // names the ranks that do not answer.
      while (!kernels::nccl::finished(comm_, stream)) {
        if (seconds_since(start) > timeout_) {
          kernels::nccl::abort(comm_);
          std::vector<double> token = {1.0};
          mpi_.average(token);  // aborts naming the silent ranks; returns if all answered
          mpi_.abort_silent({}, "NCCL all-reduce timed out although every rank answers over MPI");
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    } catch (const kernels::CudaError& e) {
      ENGINE_FAIL("rank ", mpi_.rank(), ": ", e.what());
    }
    seconds_averaging_ += seconds_since(start);
  }

  void average(std::vector<double>& values) override { mpi_.average(values); }

 private:
  MpiCommunicator mpi_;
  double timeout_;
  void* comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(double timeout_seconds) {
  return std::make_unique<NcclCommunicator>(timeout_seconds);
}

}  // namespace engine
