// The scheduler under every schedule: a correct block reduction gives the same exact result
// under all of them; the same reduction without its in-loop barrier gives results that differ
// between schedules, which is how the schedule matrix exposes a missing __syncthreads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "emu_test_util.h"

namespace {

constexpr int reduce_block = 256;

__global__ void block_sum_kernel(const int* in, int* out, int n) {
  __shared__ int partial[reduce_block];
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  partial[tid] = i < n ? in[i] : 0;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) partial[tid] += partial[tid + stride];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = partial[0];
}

// The same tree, in dynamic shared memory, without the barrier inside the loop: a thread can
// read a partial sum its neighbour has not written yet (or has already overwritten).
__global__ void block_sum_missing_barrier_kernel(const int* in, int* out, int n) {
  int* partial = kernels::cuda::dynamic_shared<int>();
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  partial[tid] = i < n ? in[i] : 0;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) partial[tid] += partial[tid + stride];
  }
  if (tid == 0) out[blockIdx.x] = partial[0];
}

std::vector<int> test_input(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = (i * 37) % 101 - 50;
  return v;
}

std::vector<int> reference_block_sums(const std::vector<int>& in, int block) {
  std::vector<int> sums((in.size() + block - 1) / block, 0);
  for (std::size_t i = 0; i < in.size(); ++i) sums[i / block] += in[i];
  return sums;
}

}  // namespace

TEST_CASE("shared-memory block reduction is exact under every schedule and worker count", "[emu][schedule]") {
  const int n = 5 * reduce_block + 77;  // a partial last block
  const std::vector<int> in = test_input(n);
  const std::vector<int> expected = reference_block_sums(in, reduce_block);
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<int> d_in(in);
    emu_test::DeviceBuffer<int> d_out(std::vector<int>(expected.size(), -1));
    kernels::cuda::launch(block_sum_kernel, {dim3(static_cast<unsigned>(expected.size())), dim3(reduce_block)},
                          d_in.get(), d_out.get(), n);
    CHECK(d_out.to_host() == expected);
  }
}

TEST_CASE("a missing __syncthreads gives schedule-dependent results", "[emu][schedule]") {
#if defined(__SANITIZE_THREAD__)
  // TSan would (rightly) report the race and fail the run; sanitizer_test.cpp checks that report.
  WARN("TSan build: the missing-barrier kernel runs only in sanitizer_test.cpp's child process");
  return;
#endif
  const int n = 4 * reduce_block;
  const std::vector<int> in = test_input(n);
  const std::vector<int> expected = reference_block_sums(in, reduce_block);
  std::set<std::vector<int>> outcomes;
  bool some_wrong = false;
  for (const auto& s : emu_test::schedule_matrix()) {
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<int> d_in(in);
    emu_test::DeviceBuffer<int> d_out(std::vector<int>(expected.size(), -1));
    kernels::cuda::launch(block_sum_missing_barrier_kernel,
                          {dim3(static_cast<unsigned>(expected.size())), dim3(reduce_block), reduce_block * sizeof(int)},
                          d_in.get(), d_out.get(), n);
    const std::vector<int> got = d_out.to_host();
    outcomes.insert(got);
    some_wrong = some_wrong || got != expected;
  }
  CHECK(outcomes.size() > 1);
  CHECK(some_wrong);
}

namespace {
__global__ void index_kernel(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned at = block * blockDim.x * blockDim.y * blockDim.z + thread;
  out[4 * at + 0] = threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z;
  out[4 * at + 1] = blockIdx.x + 10 * blockIdx.y + 100 * blockIdx.z;
  out[4 * at + 2] = blockDim.x + 10 * blockDim.y + 100 * blockDim.z;
  out[4 * at + 3] = gridDim.x + 10 * gridDim.y + 100 * gridDim.z;
}

// Each thread changes its own copy of a by-value parameter, as on the GPU.
__global__ void parameter_copy_kernel(int base, int* out) {
  base += static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = base;
}
}  // namespace

TEST_CASE("3-D blocks and grids: built-in variables, x fastest", "[emu][schedule]") {
  const dim3 grid(2, 3, 2);
  const dim3 block(4, 3, 2);
  const unsigned total = 2 * 3 * 2 * 4 * 3 * 2;
  emu_test::DeviceBuffer<unsigned> d_out(std::vector<unsigned>(4 * total, 0));
  kernels::cuda::launch(index_kernel, {grid, block}, d_out.get());
  const std::vector<unsigned> out = d_out.to_host();
  unsigned at = 0;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx)
        for (unsigned tz = 0; tz < block.z; ++tz)
          for (unsigned ty = 0; ty < block.y; ++ty)
            for (unsigned tx = 0; tx < block.x; ++tx, ++at) {
              CHECK(out[4 * at + 0] == tx + 10 * ty + 100 * tz);
              CHECK(out[4 * at + 1] == bx + 10 * by + 100 * bz);
              CHECK(out[4 * at + 2] == 4 + 30 + 200);
              CHECK(out[4 * at + 3] == 2 + 30 + 200);
            }
}

TEST_CASE("kernel parameters are per-thread copies", "[emu][schedule]") {
  emu_test::DeviceBuffer<int> d_out(std::vector<int>(64, 0));
  kernels::cuda::launch(parameter_copy_kernel, {dim3(1), dim3(64)}, 1000, d_out.get());
  const std::vector<int> out = d_out.to_host();
  for (int t = 0; t < 64; ++t) CHECK(out[t] == 1000 + t);
}

namespace {
__global__ void block_order_kernel(int* counter, int* order) {
  if (threadIdx.x == 0) order[blockIdx.x + gridDim.x * blockIdx.y] = atomicAdd(counter, 1);
}
}  // namespace

TEST_CASE("blocks are handed out forward, reversed or in a seeded random permutation", "[emu][schedule]") {
  using kernels::emu::Schedule;
  const int gx = 37, gy = 5, n = gx * gy;
  std::vector<int> previous_random;
  for (const auto& s : {emu_test::make_settings(Schedule::forward, 0, 1), emu_test::make_settings(Schedule::reverse, 0, 1),
                        emu_test::make_settings(Schedule::random, 3, 1), emu_test::make_settings(Schedule::random, 4, 1)}) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<int> counter(std::vector<int>{0});
    emu_test::DeviceBuffer<int> order(std::vector<int>(n, -1));
    kernels::cuda::launch(block_order_kernel, {dim3(gx, gy), dim3(32)}, counter.get(), order.get());
    const std::vector<int> got = order.to_host();
    std::vector<int> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < n; ++i) REQUIRE(sorted[i] == i);  // every block ran exactly once
    if (s.schedule == Schedule::forward) {
      for (int b = 0; b < n; ++b) CHECK(got[b] == b);
    } else if (s.schedule == Schedule::reverse) {
      for (int b = 0; b < n; ++b) CHECK(got[b] == n - 1 - b);
    } else {
      int in_place = 0;
      for (int b = 0; b < n; ++b) in_place += got[b] == b;
      CHECK(in_place < n / 2);
      CHECK(got != previous_random);  // another seed, another order
      previous_random = got;
    }
  }
}
