// The choice of a communicator (contract in engine/communicator.h); the implementations are in
// engine/dist/, compiled when CMake finds MPI (ENGINE_MPI) and NCCL (ENGINE_NCCL).
#include "engine/communicator.h"

#include <cstdlib>

#include "engine/check.h"

#if ENGINE_WITH_MPI
#include "../dist/mpi_communicator.h"
#endif
#if ENGINE_WITH_NCCL
#include "../dist/nccl_communicator.h"
#endif

namespace engine {

namespace {

// The world size the launcher announced: OpenMPI, then MPICH/Hydra and Slurm's PMI; 0 when none did.
int announced_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return std::getenv("PMIX_RANK") != nullptr ? 1 : 0;
}

}  // namespace

bool launched_by_mpi() { return announced_size() > 0; }

int launched_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

std::unique_ptr<Communicator> make_communicator(Device device, double timeout_seconds) {
  if (!launched_by_mpi()) return nullptr;
  ENGINE_CHECK(timeout_seconds > 0, "the collectives' timeout must be positive, got ", timeout_seconds);
#if ENGINE_WITH_NCCL
  if (device.is_cuda()) return make_nccl_communicator(timeout_seconds);
#endif
#if ENGINE_WITH_MPI
  (void)device;
  return make_mpi_communicator(timeout_seconds);
#else
  (void)device;
  if (announced_size() > 1)
    ENGINE_FAIL("started as one of ", announced_size(), " MPI ranks, but this build has no MPI "
                "(configure with -DENGINE_MPI=ON and libopenmpi-dev installed): refusing to train ",
                announced_size(), " independent copies");
  return nullptr;
#endif
}

}  // namespace engine
