// The runtime shim the emulated build links instead of libcudart, and the device seam
// (kernels/cuda_device.h) on top of it: memory with exact bounds, copies, events, streams,
// errors, device queries and the emulator settings.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <numeric>

#include "emu_test_util.h"

namespace {

using Catch::Matchers::Contains;

__global__ void scale_kernel(float* x, float s, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] *= s;
}

}  // namespace

TEST_CASE("device seam: description, copies in all directions, memset, free memory", "[emu][runtime]") {
  CHECK(kernels::cuda::device_count() == 1);
  const std::string description = kernels::cuda::device_description();
  CHECK_THAT(description, Contains("CUDA emulator on CPU") && Contains("compute capability 8.0") &&
                              Contains("(emulated on the CPU)"));

  const std::size_t n = 1000;
  std::vector<float> host(n);
  std::iota(host.begin(), host.end(), 0.5f);
  const std::size_t free_before = kernels::cuda::memory_free();
  auto* a = static_cast<float*>(kernels::cuda::malloc_bytes(n * sizeof(float)));
  auto* b = static_cast<float*>(kernels::cuda::malloc_bytes(n * sizeof(float)));
  CHECK(kernels::cuda::memory_free() == free_before - 2 * n * sizeof(float));
  kernels::cuda::copy_host_to_device(a, host.data(), n * sizeof(float));
  kernels::cuda::copy_device_to_device(b, a, n * sizeof(float));
  kernels::cuda::launch(scale_kernel, {dim3(3), dim3(128)}, b, 2.0f, static_cast<int>(n));
  kernels::cuda::synchronize();
  std::vector<float> back(n, 0.f);
  kernels::cuda::copy_device_to_host(back.data(), b, n * sizeof(float));
  for (std::size_t i = 0; i < n; ++i) CHECK(back[i] == 2.0f * host[i]);
  kernels::cuda::memset_zero(a + 10, 20 * sizeof(float));  // an interior range
  kernels::cuda::copy_device_to_host(back.data(), a, n * sizeof(float));
  for (std::size_t i = 0; i < n; ++i) CHECK(back[i] == (i >= 10 && i < 30 ? 0.f : host[i]));
  kernels::cuda::free_bytes(a);
  kernels::cuda::free_bytes(b);
  CHECK(kernels::cuda::memory_free() == free_before);
  CHECK(kernels::cuda::malloc_bytes(0) == nullptr);
  kernels::cuda::free_bytes(nullptr);
}

TEST_CASE("device ranges are checked against the exact allocation size", "[emu][runtime]") {
  std::vector<char> host(65, 1);
  char* d = static_cast<char*>(kernels::cuda::malloc_bytes(64));
  CHECK_THROWS_WITH(kernels::cuda::copy_host_to_device(d, host.data(), 65),
                    Contains("cudaErrorInvalidValue") && Contains("65 bytes at offset 0 of the destination run past its allocation of 64 bytes"));
  CHECK_THROWS_WITH(kernels::cuda::copy_device_to_host(host.data(), d + 60, 5),
                    Contains("5 bytes at offset 60 of the source run past its allocation of 64 bytes"));
  CHECK_THROWS_WITH(kernels::cuda::memset_zero(d + 1, 64), Contains("run past its allocation"));
  CHECK_THROWS_WITH(kernels::cuda::copy_host_to_device(host.data(), d, 8),
                    Contains("not inside any cudaMalloc allocation"));
  CHECK_THROWS_WITH(kernels::cuda::free_bytes(d + 1), Contains("not the start of a live cudaMalloc allocation"));
  kernels::cuda::copy_host_to_device(d + 60, host.data(), 4);  // the last bytes are fine
  kernels::cuda::free_bytes(d);
  CHECK_THROWS_WITH(kernels::cuda::free_bytes(d), Contains("cudaFree"));  // double free
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("CUDA_CHECK names the call, file and line; errors follow CUDA's last-error rules", "[emu][runtime]") {
  const int line = __LINE__ + 2;
  try {
    CUDA_CHECK(cudaSetDevice(3));
    FAIL("no exception");
  } catch (const kernels::CudaError& e) {
    CHECK_THAT(std::string(e.what()), Contains("cudaErrorInvalidDevice") && Contains("cudaSetDevice(3)") &&
                                          Contains("runtime_test.cpp:" + std::to_string(line)));
  }
  CHECK(cudaSetDevice(1) == cudaErrorInvalidDevice);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidDevice);
  CHECK(cudaGetLastError() == cudaErrorInvalidDevice);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(std::string(cudaGetErrorString(cudaErrorInvalidConfiguration)) == "invalid configuration argument");
  CHECK(std::string(cudaGetErrorName(cudaErrorLaunchFailure)) == "cudaErrorLaunchFailure");
}

TEST_CASE("streams and events: launches on a stream, elapsed time between records", "[emu][runtime]") {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr, never = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  CUDA_CHECK(cudaEventCreate(&never));
  std::vector<float> host(1 << 16, 1.0f);
  emu_test::DeviceBuffer<float> x(host);
  CUDA_CHECK(cudaEventRecord(start, stream));
  for (int i = 0; i < 4; ++i) {
    kernels::cuda::launch(scale_kernel, {dim3(16), dim3(256), 0, stream}, x.get(), 2.0f, static_cast<int>(host.size()));
  }
  CUDA_CHECK(cudaEventRecord(stop, stream));
  CUDA_CHECK(cudaEventSynchronize(stop));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  float ms = -1.f;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  CHECK(ms > 0.f);
  CHECK(ms < 60000.f);
  CHECK(cudaEventElapsedTime(&ms, start, never) == cudaErrorInvalidResourceHandle);
  CHECK(cudaGetLastError() == cudaErrorInvalidResourceHandle);
  for (float v : x.to_host()) CHECK(v == 16.0f);
  std::vector<float> async_back(host.size(), 0.f);
  CUDA_CHECK(cudaMemcpyAsync(async_back.data(), x.get(), host.size() * sizeof(float), cudaMemcpyDeviceToHost, stream));
  CUDA_CHECK(cudaMemsetAsync(x.get(), 0, sizeof(float), stream));
  CHECK(async_back[5] == 16.0f);
  CHECK(x.to_host()[0] == 0.0f);
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  CUDA_CHECK(cudaEventDestroy(never));
  CUDA_CHECK(cudaStreamDestroy(stream));
}

TEST_CASE("device properties and function attributes say sm_80-like limits", "[emu][runtime]") {
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  CHECK(std::string(prop.name) == "CUDA emulator on CPU");
  CHECK(prop.major == 8);
  CHECK(prop.warpSize == 32);
  CHECK(prop.maxThreadsPerBlock == 1024);
  CHECK(prop.maxThreadsDim[2] == 64);
  CHECK(prop.maxGridSize[1] == 65535);
  CHECK(prop.sharedMemPerBlock == 48u * 1024);
  CHECK(prop.sharedMemPerBlockOptin == 227u * 1024);
  CHECK(cudaGetDeviceProperties(&prop, 1) == cudaErrorInvalidDevice);
  CHECK(cudaGetLastError() == cudaErrorInvalidDevice);
  cudaFuncAttributes attributes;
  CUDA_CHECK(cudaFuncGetAttributes(&attributes, reinterpret_cast<const void*>(scale_kernel)));
  CHECK(attributes.maxThreadsPerBlock == 1024);
  CHECK(attributes.maxDynamicSharedSizeBytes == 48 * 1024);
}

TEST_CASE("emulator settings reject worker counts outside 1..64", "[emu][runtime]") {
  kernels::emu::Settings s = kernels::emu::settings();
  s.worker_threads = 0;
  CHECK_THROWS_AS(kernels::emu::set_settings(s), std::invalid_argument);
  s.worker_threads = 65;
  CHECK_THROWS_AS(kernels::emu::set_settings(s), std::invalid_argument);
  s.worker_threads = 3;
  emu_test::ScopedSettings scoped(s);
  CHECK(kernels::emu::settings().worker_threads == 3);
  emu_test::DeviceBuffer<float> x(std::vector<float>(4096, 1.0f));
  kernels::cuda::launch(scale_kernel, {dim3(16), dim3(64)}, x.get(), 3.0f, 4096);
  for (float v : x.to_host()) CHECK(v == 3.0f);
}

TEST_CASE("settings come from ENGINE_EMU_SCHEDULE and ENGINE_EMU_THREADS", "[emu][runtime]") {
  // The environment is read once per process, so each case runs in a child process.
  struct Case {
    const char* environment;
    bool accepted;
  };
  for (const Case c : {Case{"ENGINE_EMU_SCHEDULE=random:42 ENGINE_EMU_THREADS=3", true},
                       Case{"ENGINE_EMU_SCHEDULE=reverse ENGINE_EMU_THREADS=1", true},
                       Case{"ENGINE_EMU_SCHEDULE=sideways", false}, Case{"ENGINE_EMU_THREADS=0", false}}) {
    INFO(c.environment);
    int status = 0;
    const std::string out = emu_test::run_self(std::string("[.env_child]\" \"--use-colour\" \"no"), &status, c.environment);
    INFO(out);
    if (c.accepted) {
      CHECK(status == 0);
      CHECK_THAT(out, Contains(std::string("settings: ") + c.environment));
    } else {
      CHECK(status != 0);
      CHECK_THAT(out, Contains("is not"));
    }
  }
}

TEST_CASE("env child: prints the settings read from the environment", "[.env_child]") {
  const kernels::emu::Settings s = kernels::emu::settings();
  const char* names[] = {"forward", "reverse", "random"};
  std::string schedule = names[static_cast<int>(s.schedule)];
  if (s.schedule == kernels::emu::Schedule::random) schedule += ":" + std::to_string(s.seed);
  std::printf("settings: ENGINE_EMU_SCHEDULE=%s ENGINE_EMU_THREADS=%d\n", schedule.c_str(), s.worker_threads);
}
