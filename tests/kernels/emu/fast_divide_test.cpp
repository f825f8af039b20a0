// kernels/cuda/fast_divide.cuh: the multiply-high quotient against the plain `/`, inside a kernel
// (the divisors built on the host, as the conv launchers do, and on the device, as a block of the
// data gradient does for its phase), over every divisor up to 4096, divisors near powers of two
// up to 2^31 - 1, and the dividends where a rounding error would show first: multiples of the
// divisor and their neighbours, and the top of the range.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "emu_test_util.h"
#include "fast_divide.cuh"

namespace {

using kernels::cuda::FastDivisor;

__global__ void quotients_kernel(const int* n, const int* d, const FastDivisor* host_built, int count, int* by_host,
                                 int* by_device) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x) {
    by_host[i] = host_built[i].quotient(n[i]);
    by_device[i] = FastDivisor(d[i]).quotient(n[i]);
  }
}

void add_cases(int d, std::mt19937& rng, std::vector<int>& ns, std::vector<int>& ds) {
  constexpr std::int64_t top = INT32_MAX;
  auto add = [&](std::int64_t n) {
    if (n >= 0 && n <= top) ns.push_back(static_cast<int>(n)), ds.push_back(d);
  };
  for (std::int64_t q : {std::int64_t(0), std::int64_t(1), std::int64_t(2), std::int64_t(7), top / d - 1, top / d})
    for (int delta : {-1, 0, 1}) add(q * d + delta);
  add(top);
  add(top - 1);
  std::uniform_int_distribution<int> any(0, INT32_MAX);
  for (int i = 0; i < 8; ++i) add(any(rng));
}

}  // namespace

TEST_CASE("fast divisor: quotients equal n / d on the whole contract", "[emu][fast_divide]") {
  std::mt19937 rng(11);
  std::vector<int> ns, ds;
  for (int d = 1; d <= 4096; ++d) add_cases(d, rng, ns, ds);
  for (int bit = 12; bit <= 31; ++bit)
    for (std::int64_t d : {(std::int64_t(1) << bit) - 1, std::int64_t(1) << bit, (std::int64_t(1) << bit) + 1})
      if (d <= INT32_MAX) add_cases(static_cast<int>(d), rng, ns, ds);
  std::uniform_int_distribution<int> any_divisor(1, INT32_MAX);
  for (int i = 0; i < 2000; ++i) add_cases(any_divisor(rng), rng, ns, ds);

  const int count = static_cast<int>(ns.size());
  std::vector<FastDivisor> host_built;
  for (int d : ds) host_built.emplace_back(d);
  emu_test::DeviceBuffer<int> n(ns), d(ds), by_host(count), by_device(count);
  emu_test::DeviceBuffer<FastDivisor> divisors(host_built);
  kernels::cuda::launch(quotients_kernel, {dim3(64), dim3(256)}, n.get(), d.get(), divisors.get(), count, by_host.get(),
                        by_device.get());
  const std::vector<int> from_host = by_host.to_host(), from_device = by_device.to_host();
  int wrong = 0;
  for (int i = 0; i < count; ++i) {
    const int expected = ns[i] / ds[i];
    if (from_host[i] != expected || from_device[i] != expected) {
      if (++wrong <= 5)
        FAIL_CHECK(ns[i] << " / " << ds[i] << " = " << expected << ", fast " << from_host[i] << " (host-built), "
                          << from_device[i] << " (device-built)");
    }
  }
  CHECK(wrong == 0);
  CHECK(count > 60000);
}
