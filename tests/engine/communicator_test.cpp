// engine::Communicator. Plain processes: no communicator (a plain run changes nothing). Under
// `mpirun -np 2 test_engine "[mpi]"` (the ctest entry engine_mpi, in MPI builds): the average of
// gradients and of doubles against a plain loop over the ranks' values in rank order, bit for
// bit, on buffers that do not split evenly over the ranks. The whole training path is in
// tools/ci/test_distributed.sh.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "engine/communicator.h"

namespace {

// The value rank r contributes at element i of tensor t: distinct, sums that round. The products
// are exact, so that the compiler contracting them into FMAs in one loop and not in another
// cannot change a bit.
float contribution(int r, int t, int64_t i) {
  return (float(i) * 0x1p-7f + 0.1f) + float(r) * 0.75f - float(t) * 0.5f;
}

}  // namespace

TEST_CASE("communicator: none outside mpirun", "[communicator]") {
  if (engine::launched_by_mpi()) {
    WARN("SKIPPED: this test process runs under an MPI launcher");
    return;
  }
  CHECK(engine::make_communicator(engine::Device::cpu(), 10) == nullptr);
}

TEST_CASE("communicator: averages in rank order on every rank", "[.][mpi]") {
  REQUIRE(engine::launched_by_mpi());
  const auto comm = engine::make_communicator(engine::Device::cpu(), 60);
  REQUIRE(comm != nullptr);
  const int ranks = comm->size(), rank = comm->rank();
  REQUIRE(ranks >= 2);
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(3), int64_t(1001)}) {
    std::vector<engine::Tensor> tensors;
    for (int t = 0; t < 2; ++t) {
      const int64_t size = t == 0 ? n : 5;  // the whole buffer: n + 5 floats, odd or even
      std::vector<float> values(static_cast<size_t>(size));
      for (int64_t i = 0; i < size; ++i) values[size_t(i)] = contribution(rank, t, i);
      tensors.push_back(engine::Tensor::from_vector(values, {size}));
    }
    comm->average(tensors);
    for (int t = 0; t < 2; ++t) {
      const std::vector<float> got = tensors[size_t(t)].to_vector();
      for (size_t i = 0; i < got.size(); ++i) {
        float sum = contribution(0, t, int64_t(i));
        for (int r = 1; r < ranks; ++r) sum += contribution(r, t, int64_t(i));
        INFO("n " << n << ", tensor " << t << ", element " << i << ", rank " << rank);
        REQUIRE(got[i] == sum / float(ranks));
      }
    }
  }
  std::vector<double> losses = {double(rank), 1.0 / 3.0 + rank};
  comm->average(losses);
  double sum = 0;
  for (int r = 0; r < ranks; ++r) sum += double(r);
  CHECK(losses[0] == sum / ranks);
  CHECK(losses[1] == [&] {
    double s = 1.0 / 3.0;
    for (int r = 1; r < ranks; ++r) s += 1.0 / 3.0 + r;
    return s / ranks;
  }());
  comm->average(std::vector<engine::Tensor>{});  // nothing to average: returns
  CHECK(comm->seconds_averaging() > 0);
}
