#pragma once
// Data-parallel training's collectives (docs/distributed.md): the ranks that mpirun or srun
// started, each holding a slice of the global batch, average their gradients before every
// optimiser step. The MPI implementation reduces through host memory (the cpu device and the
// emulated cuda device); the NCCL one (real GPUs) reduces in device memory, its unique id sent
// over MPI. A build without MPI has neither and make_communicator() refuses multi-rank launches.
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/tensor.h"

namespace engine {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi" or "nccl"

  // Replaces every tensor, in place, by its elementwise mean over the ranks. Every rank gets the
  // same bits, and two runs the same bits: the MPI path sums in rank order (0, 1, ...), then
  // divides by size(). Tensors may be on any device; all ranks pass the same shapes in the same order.
  virtual void average(const std::vector<Tensor>& tensors) = 0;
  // The same for host doubles (loss values), summed in rank order.
  virtual void average(std::vector<double>& values) = 0;

  // Seconds spent inside both average()s so far, waiting for slower ranks included (the scaling
  // benchmark reports it apart).
  double seconds_averaging() const { return seconds_averaging_; }

 protected:
  double seconds_averaging_ = 0;
};

// True when this process was started by mpirun/mpiexec (OpenMPI, MPICH) or srun, whatever the
// rank count.
bool launched_by_mpi();
// The rank the launcher announced to this process, before any communicator exists (0 in a plain
// run): for what only rank 0 may do first, such as locking the checkpoint folder.
int launched_rank();

// The communicator of this process, or nullptr when it was not launched by MPI (a plain run:
// nothing changes). `device` picks NCCL for a real cuda device when the build has it, else MPI.
// A collective that has not completed after timeout_seconds stops the whole job: the message
// names the ranks that did not answer. Throws engine::Error when launched by MPI with more than
// one rank but built without MPI (ENGINE_MPI=OFF), so that N copies never train side by side.
// One per process (MPI is initialised once and finalised by the destructor).
std::unique_ptr<Communicator> make_communicator(Device device, double timeout_seconds);

}  // namespace engine
