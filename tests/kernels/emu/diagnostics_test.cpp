// What a GPU refuses, the emulator refuses with a message that says why: launch limits,
// dynamic shared memory without the opt-in, early exit before a barrier (deadlock), divergent
// barriers and warp collectives the lanes disagree on. Each failure must leave the emulator
// usable for the next launch.
#include <catch2/catch.hpp>

#include "emu_test_util.h"

namespace {

using Catch::Matchers::Contains;

__global__ void fill_kernel(int* out) {
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  if (t == 0 && blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0) out[0] = 1;
}

// Writes then reads back every byte of its dynamic shared memory.
__global__ void dynamic_shared_kernel(int bytes, int* ok) {
  unsigned char* s = kernels::cuda::dynamic_shared<unsigned char>();
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) s[i] = static_cast<unsigned char>(i * 31);
  __syncthreads();
  int good = 1;
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) good &= s[i] == static_cast<unsigned char>(i * 31);
  if (!good) atomicExch(ok, 0);
}
// A kernel of its own for the opt-in test: the attribute belongs to the kernel.
__global__ void opted_in_kernel(int bytes, int* ok) {
  unsigned char* s = kernels::cuda::dynamic_shared<unsigned char>();
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) s[i] = static_cast<unsigned char>(i);
  __syncthreads();
  if (threadIdx.x == 0 && s[bytes - 1] != static_cast<unsigned char>(bytes - 1)) *ok = 0;
}

__global__ void early_return_kernel(int* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

constexpr int divergent_first_line = __LINE__ + 4;
__global__ void divergent_barrier_kernel(int* out) {
  if (threadIdx.x < 16) {
    out[threadIdx.x] = 1;
    __syncthreads();
  } else {
    __syncthreads();
    out[threadIdx.x] = 2;
  }
}

__global__ void mismatched_collective_kernel(int* out) {
  const int lane = threadIdx.x % warpSize;
  if (lane < 16) {
    out[lane] = __shfl_sync(0xffffffffu, lane, 0);
  } else {
    out[lane] = __shfl_xor_sync(0xffffffffu, lane, 1);
  }
}

__global__ void mask_without_own_lane_kernel(int* out) {
  out[threadIdx.x] = __ballot_sync(0x1u, 1);  // names lane 0 only, called by all lanes
}

// Lane 0 waits in a shuffle for lane 1, which waits at the block barrier: nobody can proceed.
__global__ void cross_wait_kernel(int* out) {
  if (threadIdx.x == 0) out[0] = __shfl_sync(0x3u, 1, 1);
  __syncthreads();
}

void expect_launch_error(const std::function<void()>& launch, const std::vector<std::string>& parts) {
  try {
    launch();
    FAIL("the launch was not refused");
  } catch (const kernels::CudaError& e) {
    const std::string message = e.what();
    INFO(message);
    for (const auto& p : parts) CHECK_THAT(message, Contains(p));
  }
  CHECK(cudaGetLastError() == cudaSuccess);  // the launch check consumed the error
}

void expect_emulator_still_works() {
  emu_test::DeviceBuffer<int> out(std::vector<int>{0});
  kernels::cuda::launch(fill_kernel, {dim3(1), dim3(64)}, out.get());
  CHECK(out.to_host()[0] == 1);
}

}  // namespace

TEST_CASE("launches over the block and grid limits are refused", "[emu][diagnostics]") {
  emu_test::DeviceBuffer<int> out(std::vector<int>{0});
  int* p = out.get();
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(1), dim3(1025)}, p); },
                      {"cudaErrorInvalidConfiguration", "1025 threads", "at most 1024", "diagnostics_test.cpp"});
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(1), dim3(32, 32, 2)}, p); },
                      {"2048 threads", "at most 1024"});
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(1), dim3(1, 1, 65)}, p); },
                      {"block (1,1,65)", "per-dimension limits (1024,1024,64)"});
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(1), dim3(1, 1025)}, p); },
                      {"1025 threads"});
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(1, 65536), dim3(32)}, p); },
                      {"grid (1,65536,1)", "(2147483647,65535,65535)"});
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(1, 1, 65536), dim3(32)}, p); }, {"grid (1,1,65536)"});
  expect_launch_error([&] { kernels::cuda::launch(fill_kernel, {dim3(0), dim3(32)}, p); }, {"zero dimension"});
  CHECK(out.to_host()[0] == 0);  // nothing ran
  // The limits themselves are allowed.
  kernels::cuda::launch(fill_kernel, {dim3(1), dim3(1024)}, p);
  kernels::cuda::launch(fill_kernel, {dim3(1, 1, 2), dim3(4, 4, 64)}, p);
  CHECK(out.to_host()[0] == 1);
}

TEST_CASE("dynamic shared memory over 48 KiB needs the opt-in attribute", "[emu][diagnostics]") {
  emu_test::DeviceBuffer<int> ok(std::vector<int>{1});
  kernels::cuda::launch(dynamic_shared_kernel, {dim3(2), dim3(128), 48 * 1024}, 48 * 1024, ok.get());
  CHECK(ok.to_host()[0] == 1);
  expect_launch_error(
      [&] { kernels::cuda::launch(dynamic_shared_kernel, {dim3(1), dim3(128), 49 * 1024}, 49 * 1024, ok.get()); },
      {"cudaErrorInvalidValue", "50176 bytes of dynamic shared memory", "default limit of 49152",
       "cudaFuncAttributeMaxDynamicSharedMemorySize"});

  kernels::cuda::allow_dynamic_shared(opted_in_kernel, 100 * 1024);
  cudaFuncAttributes attributes;
  CHECK(cudaFuncGetAttributes(&attributes, reinterpret_cast<const void*>(opted_in_kernel)) == cudaSuccess);
  CHECK(attributes.maxDynamicSharedSizeBytes == 100 * 1024);
  kernels::cuda::launch(opted_in_kernel, {dim3(1), dim3(256), 100 * 1024}, 100 * 1024, ok.get());
  CHECK(ok.to_host()[0] == 1);
  expect_launch_error(
      [&] { kernels::cuda::launch(opted_in_kernel, {dim3(1), dim3(256), 100 * 1024 + 1}, 100 * 1024 + 1, ok.get()); },
      {"102401 bytes", "102400 bytes set with cudaFuncSetAttribute"});
  // 227 KiB is the most any device allows.
  const void* kernel_id = reinterpret_cast<const void*>(opted_in_kernel);
  CHECK(cudaFuncSetAttribute(kernel_id, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024 + 1) ==
        cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK_THROWS_WITH(kernels::cuda::allow_dynamic_shared(opted_in_kernel, 228 * 1024),
                    Contains("cudaErrorInvalidValue") && Contains("outside 0..232448"));
  kernels::cuda::allow_dynamic_shared(opted_in_kernel, 227 * 1024);
  kernels::cuda::launch(opted_in_kernel, {dim3(1), dim3(256), 227 * 1024}, 227 * 1024, ok.get());
  CHECK(ok.to_host()[0] == 1);
}

TEST_CASE("an early return before __syncthreads is reported, under every schedule", "[emu][diagnostics]") {
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<int> out(std::vector<int>(64, 0));
    expect_launch_error([&] { kernels::cuda::launch(early_return_kernel, {dim3(3), dim3(64)}, out.get()); },
                        {"cudaErrorLaunchFailure", "thread 5 (5,0,0)", "every thread of the block must reach every barrier",
                         "early return before a barrier"});
    expect_emulator_still_works();
  }
}

TEST_CASE("divergent barriers are reported with both call sites", "[emu][diagnostics]") {
  emu_test::DeviceBuffer<int> out(std::vector<int>(32, 0));
  expect_launch_error([&] { kernels::cuda::launch(divergent_barrier_kernel, {dim3(1), dim3(32)}, out.get()); },
                      {"divergent barriers", "__syncthreads at",
                       "diagnostics_test.cpp:" + std::to_string(divergent_first_line),
                       "diagnostics_test.cpp:" + std::to_string(divergent_first_line + 2)});
  expect_emulator_still_works();
}

TEST_CASE("warp collectives the lanes disagree on are reported", "[emu][diagnostics]") {
  emu_test::DeviceBuffer<int> out(std::vector<int>(32, 0));
  expect_launch_error([&] { kernels::cuda::launch(mismatched_collective_kernel, {dim3(1), dim3(32)}, out.get()); },
                      {"disagrees with the lanes waiting in", "__shfl_sync", "__shfl_xor_sync"});
  expect_launch_error([&] { kernels::cuda::launch(mask_without_own_lane_kernel, {dim3(1), dim3(32)}, out.get()); },
                      {"__ballot_sync", "mask 0x00000001", "does not name its own lane"});
  expect_launch_error([&] { kernels::cuda::launch(cross_wait_kernel, {dim3(1), dim3(32)}, out.get()); },
                      {"deadlock", "thread 0 waits in __shfl_sync", "threads 1-31 wait in __syncthreads"});
  expect_emulator_still_works();
}
