#pragma once
// The MPI communicator (engine/communicator.h): gradients through host memory, reduced in a fixed
// order by point-to-point messages (a reduce-scatter then an all-gather, each rank summing one
// chunk), every wait bounded by the timeout. NCCL's communicator uses it for its id and liveness.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/communicator.h"

namespace engine {

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(double timeout_seconds);  // MPI_Init unless already initialised
  ~MpiCommunicator() override;                       // MPI_Finalize when it initialised
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  void average(const std::vector<Tensor>& tensors) override;
  void average(std::vector<double>& values) override;

  // The rank on this node (MPI_COMM_TYPE_SHARED), which picks the GPU.
  int local_rank() const { return local_rank_; }
  // Rank 0's `bytes` to every rank, within the timeout.
  void broadcast(void* data, int64_t bytes, const char* what);
  // Prints "rank r: <what>: no answer from rank(s) ... within T s ..." (or, with none named,
  // "rank r: <what>") on stderr and aborts the job (MPI_Abort: mpirun exits non-zero).
  [[noreturn]] void abort_silent(const std::vector<int>& silent, const char* what) const;

 private:
  // Sends send_counts[j] elements of `type` from sends[j] to rank j and receives recv_counts[j]
  // into recvs[j] from rank j (j != rank; zero counts skip), then waits for all within the timeout.
  void exchange(const std::vector<const void*>& sends, const std::vector<int>& send_counts,
                const std::vector<void*>& recvs, const std::vector<int>& recv_counts, MPI_Datatype type,
                const char* what);
  void average_floats(float* data, int64_t n);

  int rank_ = 0, size_ = 1, local_rank_ = 0;
  double timeout_;
  bool finalize_ = false;
  int tag_ = 0;  // advances per exchange, so a late message never matches a later exchange
};

std::unique_ptr<Communicator> make_mpi_communicator(double timeout_seconds);

}  // namespace engine
