// Stream capture and CUDA graphs in the emulated runtime (kernels/emu/capture.h): what a capture
// records, what a replay runs, and CUDA's rules that make uncapturable code fail loudly.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "emu_test_util.h"
#include "kernels/emu_profile.h"

namespace {

using Catch::Matchers::Contains;

__global__ void scale_kernel(float* x, float s, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) x[i] *= s;
}

__global__ void add_kernel(float* y, const float* x, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] += x[i];
}

struct Stream {
  Stream() { CUDA_CHECK(cudaStreamCreate(&s)); }
  ~Stream() { (void)cudaStreamDestroy(s); }
  cudaStream_t s = nullptr;
};

cudaStreamCaptureStatus capture_status(cudaStream_t s) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  CUDA_CHECK(cudaStreamIsCapturing(s, &status));
  return status;
}

// Ends the capture on `s` and expects it invalidated: no graph.
void expect_invalidated(cudaStream_t s) {
  CHECK(capture_status(s) == cudaStreamCaptureStatusInvalidated);
  cudaGraph_t graph = nullptr;
  CHECK(cudaStreamEndCapture(s, &graph) == cudaErrorStreamCaptureInvalidated);
  CHECK(graph == nullptr);
  (void)cudaGetLastError();
  CHECK(capture_status(s) == cudaStreamCaptureStatusNone);
}

}  // namespace

TEST_CASE("graphs: a capture records launches, copies and memsets; each replay runs them in order",
          "[emu][graph]") {
  const int n = 1000;
  std::vector<float> host(n);
  for (int i = 0; i < n; ++i) host[i] = float(i % 7) - 3.f;
  emu_test::DeviceBuffer<float> x(host), y(std::vector<float>(n, 1.f));
  Stream stream;

  float factor = 2.f;  // the launch keeps the value it had at capture time
  CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
  CHECK(capture_status(stream.s) == cudaStreamCaptureStatusActive);
  kernels::cuda::launch(scale_kernel, {dim3(2), dim3(128), 0, stream.s}, x.get(), factor, n);
  CUDA_CHECK(cudaMemsetAsync(y.get(), 0, n * sizeof(float), stream.s));
  kernels::cuda::launch(add_kernel, {dim3(3), dim3(64), 0, stream.s}, y.get(), x.get(), n);
  CUDA_CHECK(cudaMemcpyAsync(x.get(), y.get(), n * sizeof(float), cudaMemcpyDeviceToDevice, stream.s));
  factor = 100.f;
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
  REQUIRE(graph != nullptr);
  CHECK(capture_status(stream.s) == cudaStreamCaptureStatusNone);

  // Nothing ran while capturing.
  CHECK(x.to_host() == host);
  CHECK(y.to_host() == std::vector<float>(n, 1.f));

  std::size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  REQUIRE(count == 4);
  std::vector<cudaGraphNode_t> nodes(6, nullptr);
  count = nodes.size();
  CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &count));
  CHECK(count == 4);
  CHECK(nodes[4] == nullptr);
  const cudaGraphNodeType expected[] = {cudaGraphNodeTypeKernel, cudaGraphNodeTypeMemset, cudaGraphNodeTypeKernel,
                                        cudaGraphNodeTypeMemcpy};
  for (int i = 0; i < 4; ++i) {
    cudaGraphNodeType type = cudaGraphNodeTypeEmpty;
    CUDA_CHECK(cudaGraphNodeGetType(nodes[i], &type));
    CHECK(type == expected[i]);
  }

  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphDestroy(graph));  // the executable graph keeps its own nodes
  // One replay: x *= 2; y = 0 + x; x = y. Three replays: x = 8 x0.
  std::vector<float> want = host;
  for (int replay = 0; replay < 3; ++replay) {
    CUDA_CHECK(cudaGraphLaunch(exec, stream.s));
    for (float& v : want) v *= 2.f;
    CHECK(x.to_host() == want);
    CHECK(y.to_host() == want);
  }
  CUDA_CHECK(cudaGraphExecDestroy(exec));
}

TEST_CASE("graphs: unsafe calls during a capture fail and invalidate it", "[emu][graph]") {
  emu_test::DeviceBuffer<float> x(std::vector<float>(64, 1.f));
  std::vector<float> host(64, 0.f);
  Stream stream;
  void* p = nullptr;

  SECTION("cudaMalloc and cudaFree") {
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK(cudaMalloc(&p, 256) == cudaErrorStreamCaptureUnsupported);
    CHECK(p == nullptr);
    CHECK_THAT(kernels::emu::last_error_message(), Contains("cudaMalloc while a stream capture prohibits it"));
    expect_invalidated(stream.s);
    CUDA_CHECK(cudaMalloc(&p, 256));  // allowed again once the capture has ended
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeThreadLocal));
    CHECK(cudaFree(p) == cudaErrorStreamCaptureUnsupported);
    expect_invalidated(stream.s);
    CUDA_CHECK(cudaFree(p));
  }
  SECTION("synchronous copies and memsets, device and stream synchronisation") {
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK(cudaMemcpy(host.data(), x.get(), 64 * sizeof(float), cudaMemcpyDeviceToHost) == cudaErrorStreamCaptureUnsupported);
    CHECK(host[0] == 0.f);
    expect_invalidated(stream.s);
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK(cudaMemset(x.get(), 0, 4) == cudaErrorStreamCaptureUnsupported);
    expect_invalidated(stream.s);
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK(cudaDeviceSynchronize() == cudaErrorStreamCaptureUnsupported);
    expect_invalidated(stream.s);
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeRelaxed));  // conflicting even when relaxed
    CHECK(cudaStreamSynchronize(stream.s) == cudaErrorStreamCaptureUnsupported);
    expect_invalidated(stream.s);
    CHECK(x.to_host() == std::vector<float>(64, 1.f));
  }
  SECTION("host memory copies on the capturing stream, and events") {
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeRelaxed));
    CHECK(cudaMemcpyAsync(x.get(), host.data(), 64 * sizeof(float), cudaMemcpyHostToDevice, stream.s) ==
          cudaErrorStreamCaptureUnsupported);
    CHECK_THAT(kernels::emu::last_error_message(), Contains("captures device-to-device copies only"));
    expect_invalidated(stream.s);
    cudaEvent_t event = nullptr;
    CUDA_CHECK(cudaEventCreate(&event));
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK(cudaEventRecord(event, stream.s) == cudaErrorStreamCaptureUnsupported);
    cudaGraph_t graph = nullptr;
    CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
    CUDA_CHECK(cudaGraphDestroy(graph));
    CUDA_CHECK(cudaEventDestroy(event));
  }
  SECTION("work on the legacy stream") {
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK_THROWS_WITH(kernels::cuda::launch(scale_kernel, {dim3(1), dim3(64)}, x.get(), 3.f, 64),
                      Contains("cudaErrorStreamCaptureImplicit") && Contains("kernel launch on the legacy stream"));
    CHECK(cudaMemsetAsync(x.get(), 0, 4, nullptr) == cudaErrorStreamCaptureImplicit);
    expect_invalidated(stream.s);
    CHECK(x.to_host() == std::vector<float>(64, 1.f));
  }
  SECTION("a later call on an invalidated capture fails too") {
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    CHECK(cudaDeviceSynchronize() == cudaErrorStreamCaptureUnsupported);
    CHECK_THROWS_WITH(kernels::cuda::launch(scale_kernel, {dim3(1), dim3(64), 0, stream.s}, x.get(), 3.f, 64),
                      Contains("cudaErrorStreamCaptureInvalidated"));
    expect_invalidated(stream.s);
  }
}

TEST_CASE("graphs: the capture mode decides who may allocate, as cudaThreadExchangeStreamCaptureMode says",
          "[emu][graph]") {
  Stream stream;
  void* p = nullptr;
  SECTION("a relaxed thread may allocate during its own capture; the capture stays valid") {
    CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    CHECK(mode == cudaStreamCaptureModeGlobal);
    CUDA_CHECK(cudaMalloc(&p, 128));
    CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    CHECK(mode == cudaStreamCaptureModeRelaxed);
    CHECK(capture_status(stream.s) == cudaStreamCaptureStatusActive);
    cudaGraph_t graph = nullptr;
    CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
    CUDA_CHECK(cudaGraphDestroy(graph));
    CUDA_CHECK(cudaFree(p));
  }
  SECTION("another thread: prohibited by a global capture, not by a thread-local one") {
    for (const auto mode : {cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal}) {
      CUDA_CHECK(cudaStreamBeginCapture(stream.s, mode));
      cudaError_t other = cudaSuccess;
      std::thread([&] {
        other = cudaMalloc(&p, 64);
        if (other == cudaSuccess) other = cudaFree(p);
      }).join();
      if (mode == cudaStreamCaptureModeGlobal) {
        CHECK(other == cudaErrorStreamCaptureUnsupported);
        expect_invalidated(stream.s);
      } else {
        CHECK(other == cudaSuccess);
        cudaGraph_t graph = nullptr;
        CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
        CUDA_CHECK(cudaGraphDestroy(graph));
      }
    }
  }
}

TEST_CASE("graphs: refused captures, and replays that fail", "[emu][graph]") {
  Stream stream;
  cudaGraph_t graph = nullptr;
  CHECK(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal) == cudaErrorStreamCaptureUnsupported);
  CHECK(cudaStreamEndCapture(stream.s, &graph) == cudaErrorIllegalState);
  CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
  CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal) == cudaErrorIllegalState);
  // A launch the driver refuses is refused at capture time and recorded nowhere.
  CHECK_THROWS_WITH(kernels::cuda::launch(scale_kernel, {dim3(1), dim3(2048), 0, stream.s}, nullptr, 1.f, 0),
                    Contains("cudaErrorInvalidConfiguration"));
  CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
  std::size_t count = 99;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  CHECK(count == 0);
  CUDA_CHECK(cudaGraphDestroy(graph));
  (void)cudaGetLastError();

  // A replay into a capturing stream would nest graphs, which the emulator does not.
  CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
  CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  Stream other;
  CUDA_CHECK(cudaStreamBeginCapture(other.s, cudaStreamCaptureModeGlobal));
  CHECK(cudaGraphLaunch(exec, other.s) == cudaErrorStreamCaptureUnsupported);
  expect_invalidated(other.s);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));
}

TEST_CASE("graphs: the profiler marks replayed launches as graph nodes, which the model charges less",
          "[emu][graph]") {
  emu_test::DeviceBuffer<float> x(std::vector<float>(4096, 1.f));
  Stream stream;
  kernels::emu::set_profiling(true);
  (void)kernels::emu::take_launch_profiles();
  kernels::cuda::launch(scale_kernel, {dim3(4), dim3(256), 0, stream.s}, x.get(), 2.f, 4096);
  CUDA_CHECK(cudaStreamBeginCapture(stream.s, cudaStreamCaptureModeGlobal));
  kernels::cuda::launch(scale_kernel, {dim3(4), dim3(256), 0, stream.s}, x.get(), 2.f, 4096);
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(stream.s, &graph));
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream.s));
  const std::vector<kernels::emu::LaunchProfile> launches = kernels::emu::take_launch_profiles();
  kernels::emu::set_profiling(false);
  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaGraphDestroy(graph));
  REQUIRE(launches.size() == 2);  // the captured launch did not run
  CHECK_FALSE(launches[0].graph_node);
  CHECK(launches[1].graph_node);
  kernels::emu::LaunchProfile as_launch = launches[1];
  as_launch.graph_node = false;
  const kernels::emu::H200Model& m = kernels::emu::h200_model();
  CHECK(kernels::emu::predict_h200_ms(as_launch) - launches[1].predicted_h200_ms ==
        Approx((m.launch_us - m.graph_node_us) * 1e-3).epsilon(1e-9));
  for (float v : x.to_host()) CHECK(v == 4.f);
}
