#pragma once
// The NCCL communicator (engine/communicator.h) for real GPUs: one rank per GPU, the rank on the
// node picks the device, the unique id goes from rank 0 to the others over MPI, gradients are
// averaged in device memory (ncclAvg) on the engine's current stream.
#include <memory>

#include "engine/communicator.h"

namespace engine {

std::unique_ptr<Communicator> make_nccl_communicator(double timeout_seconds);

}  // namespace engine
