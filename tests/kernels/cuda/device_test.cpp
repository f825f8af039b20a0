// The cuda device in the engine: copies, the caching allocator, streams.
#include <catch2/catch.hpp>

#include "engine/allocator.h"
#include "engine/ops.h"
#include "engine/stream.h"
#include "test_util.h"

using engine::Device;
using engine::Tensor;

#define REQUIRE_CUDA()                                          \
  if (!engine::cuda_available()) {                              \
    WARN("skipped: this build has no usable cuda device");      \
    return;                                                     \
  }

TEST_CASE("tensors copy to the cuda device and back unchanged", "[cuda]") {
  REQUIRE_CUDA();
  Tensor host = test::random_tensor({3, 5, 7}, 1);
  Tensor device = host.to(Device::cuda());
  CHECK(device.device() == Device::cuda());
  CHECK(device.to_vector() == host.to_vector());
  CHECK(device.to(Device::cpu()).to_vector() == host.to_vector());
  CHECK(Tensor::zeros({4}, Device::cuda()).to_vector() == std::vector<float>(4, 0.f));
}

TEST_CASE("the caching allocator reuses blocks: no device allocation in steady state", "[cuda]") {
  REQUIRE_CUDA();
  auto& allocator = engine::cuda_caching_allocator();
  auto step = [] {
    Tensor x = Tensor::full({64, 33}, 2.f, Device::cuda());
    return engine::sum(x * x + 1.f).item();
  };
  CHECK(step() == 64 * 33 * 5.f);
  const size_t allocations = allocator.stats().device_allocations;
  for (int i = 0; i < 5; ++i) CHECK(step() == 64 * 33 * 5.f);
  CHECK(allocator.stats().device_allocations == allocations);
  allocator.reset_peak();
  const size_t before = allocator.stats().current_bytes;
  {
    Tensor big = Tensor::empty({1 << 20}, Device::cuda());
    CHECK(allocator.stats().current_bytes >= before + (size_t{4} << 20));
    CHECK(allocator.stats().peak_bytes >= before + (size_t{4} << 20));
  }
  CHECK(allocator.stats().current_bytes == before);
  CHECK(allocator.stats().cached_bytes >= (size_t{4} << 20));
}

TEST_CASE("ops run on a stream made current by a guard", "[cuda]") {
  REQUIRE_CUDA();
  engine::Stream stream;
  Tensor a = test::random_tensor({1000}, 2, -1.f, 1.f, Device::cuda());
  Tensor y;
  {
    engine::StreamGuard guard(stream);
    y = a * 3.f;
    stream.synchronize();
  }
  test::expect_close(y.to(Device::cpu()), a.to(Device::cpu()) * 3.f, 0, 0, "scaled on a stream");
}

TEST_CASE("mixing devices in one op is refused naming both", "[cuda]") {
  REQUIRE_CUDA();
  Tensor a = Tensor::ones({2}), b = Tensor::ones({2}, Device::cuda());
  REQUIRE_THROWS_WITH(a + b, Catch::Contains("add") && Catch::Contains("cpu") && Catch::Contains("cuda"));
}
