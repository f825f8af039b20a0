// The emulator under the sanitizers: ASan reports an out-of-bounds write in a kernel at the
// kernel's line (exact-size device allocations, fiber stacks annotated); TSan, told about the
// fibers, reports a missing __syncthreads as a data race at its line and stays silent on the
// correct kernel. Each report ends the process that makes it, so the kernels run in a child
// process (hidden test cases). Plus a throughput print of fiber switches.
#include <catch2/catch.hpp>

#include <ctime>

#include "emu_test_util.h"

namespace {

using Catch::Matchers::Contains;

constexpr int out_of_bounds_line = __LINE__ + 2;
__global__ void write_one_past_kernel(int* p) {
  p[threadIdx.x] = static_cast<int>(threadIdx.x);
}

constexpr int race_block = 64;
constexpr int race_read_line = __LINE__ + 8;
template <bool with_barrier>
__global__ void tree_sum_kernel(const int* in, int* out) {
  __shared__ int partial[race_block];
  const int tid = threadIdx.x;
  partial[tid] = in[tid];
  __syncthreads();
  for (int stride = race_block / 2; stride > 0; stride /= 2) {
    if (tid < stride) partial[tid] += partial[tid + stride];
    if (with_barrier) __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = partial[0];
}

template <bool with_barrier>
int run_tree_sum() {
  std::vector<int> in(race_block);
  for (int i = 0; i < race_block; ++i) in[i] = i;
  emu_test::DeviceBuffer<int> d_in(in);
  emu_test::DeviceBuffer<int> d_out(std::vector<int>(2, 0));
  kernels::cuda::launch(tree_sum_kernel<with_barrier>, {dim3(2), dim3(race_block)}, d_in.get(), d_out.get());
  return d_out.to_host()[0];
}

__global__ void barrier_loop_kernel(int rounds, int* out) {
  int acc = 0;
  for (int r = 0; r < rounds; ++r) {
    acc += r;
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

}  // namespace

TEST_CASE("oob child: writes one int past a device allocation", "[.oob_child]") {
  int* p = static_cast<int*>(kernels::cuda::malloc_bytes(31 * sizeof(int)));
  kernels::cuda::launch(write_one_past_kernel, {dim3(1), dim3(32)}, p);
  kernels::cuda::free_bytes(p);
}

TEST_CASE("race child: tree sum with and without the barrier", "[.race_child]") {
  kernels::emu::Settings s = kernels::emu::settings();
  s.worker_threads = 1;
  emu_test::ScopedSettings scoped(s);
  CHECK(run_tree_sum<true>() == race_block * (race_block - 1) / 2);
  std::printf("correct kernel done\n");
  std::fflush(stdout);
  run_tree_sum<false>();
}

TEST_CASE("ASan reports an out-of-bounds write in a kernel at its line", "[emu][sanitizer]") {
#if defined(__SANITIZE_ADDRESS__)
  int status = 0;
  const std::string out = emu_test::run_self("[.oob_child]", &status);
  INFO(out);
  CHECK(status != 0);
  CHECK_THAT(out, Contains("heap-buffer-overflow") && Contains("WRITE of size 4") &&
                      Contains("sanitizer_test.cpp:" + std::to_string(out_of_bounds_line)) &&
                      Contains("124-byte region"));
#else
  WARN("not an ASan build (-DENGINE_SANITIZE=address): the out-of-bounds kernel is not run; exact device "
       "bounds are checked by the copy tests in runtime_test.cpp");
#endif
}

TEST_CASE("TSan reports a missing __syncthreads as a race at its line, and nothing on the correct kernel",
          "[emu][sanitizer]") {
#if defined(__SANITIZE_THREAD__)
  int status = 0;
  const std::string out = emu_test::run_self("[.race_child]", &status);
  INFO(out);
  const std::size_t correct_done = out.find("correct kernel done");
  REQUIRE(correct_done != std::string::npos);
  CHECK(out.substr(0, correct_done).find("WARNING: ThreadSanitizer") == std::string::npos);
  const std::string after = out.substr(correct_done);
  CHECK_THAT(after, Contains("WARNING: ThreadSanitizer: data race") &&
                        Contains("sanitizer_test.cpp:" + std::to_string(race_read_line)));
  CHECK(status != 0);
#else
  WARN("not a TSan build (-DENGINE_SANITIZE=thread): the race report is not checked here; the schedule "
       "matrix test in schedule_test.cpp catches the same kernel by its results");
#endif
}

TEST_CASE("throughput of the fiber scheduler (printed, not asserted)", "[emu][sanitizer]") {
  const int blocks = 8, threads = 256, rounds = 200;
  emu_test::DeviceBuffer<int> out(std::vector<int>(blocks, 0));
  for (int workers : {1, 2}) {
    emu_test::ScopedSettings scoped(emu_test::make_settings(kernels::emu::Schedule::forward, 0, workers));
    const std::uint64_t before = kernels::emu::fiber_switch_count();
    // Process CPU time (all workers), not wall time: CI machines are shared.
    const std::clock_t start = std::clock();
    kernels::cuda::launch(barrier_loop_kernel, {dim3(blocks), dim3(threads)}, rounds, out.get());
    const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
    const std::uint64_t switches = kernels::emu::fiber_switch_count() - before;
    // Every thread is switched to once per barrier phase (rounds + 1 phases per block).
    CHECK(switches >= static_cast<std::uint64_t>(blocks) * threads * (rounds + 1));
    for (int v : out.to_host()) CHECK(v == rounds * (rounds - 1) / 2);
    std::printf("emulator throughput, %d worker(s): %.1f M fiber switches per CPU second, %.1f CPU ns per thread "
                "per __syncthreads\n",
                workers, switches / seconds / 1e6, seconds * 1e9 / (double(blocks) * threads * rounds));
  }
}
