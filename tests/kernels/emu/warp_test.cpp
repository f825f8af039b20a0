// Warp collectives, block-barrier predicates and atomics against CUDA's documented results,
// computed here by plain loops over the lanes.
#include <catch2/catch.hpp>

#include "emu_test_util.h"

namespace {

constexpr int warp = 32;

struct ShuffleArgs {
  int width;
  int delta;      // for up/down
  int lane_mask;  // for xor
};

// Per thread: the value it shuffles, then idx (per-lane source), up, down and xor results.
__global__ void shuffle_kernel(ShuffleArgs a, int* out) {
  const int tid = threadIdx.x;
  const int lane = tid % warpSize;
  const int v = tid * 7 + 3;
  out[5 * tid + 0] = v;
  out[5 * tid + 1] = __shfl_sync(0xffffffffu, v, (lane * 5 + 1) % 37, a.width);
  out[5 * tid + 2] = __shfl_up_sync(0xffffffffu, v, a.delta, a.width);
  out[5 * tid + 3] = __shfl_down_sync(0xffffffffu, v, a.delta, a.width);
  out[5 * tid + 4] = __shfl_xor_sync(0xffffffffu, v, a.lane_mask, a.width);
}

// CUDA programming guide, "Warp Shuffle Functions": lanes form groups of `width`; idx reads
// lane srcLane modulo width of its group; up/down read lane -/+ delta unless that leaves the
// group, when the lane keeps its own value; xor reads lane ^ laneMask unless that lies in a
// later group.
void expect_shuffles(const std::vector<int>& out, int threads, const ShuffleArgs& a) {
  for (int tid = 0; tid < threads; ++tid) {
    const int lane = tid % warp;
    const int warp_base = tid - lane;
    const int group = lane / a.width;
    const auto value = [&](int l) { return out[5 * (warp_base + l)]; };
    INFO("thread " << tid << " width " << a.width << " delta " << a.delta << " xor " << a.lane_mask);
    CHECK(out[5 * tid + 1] == value(group * a.width + ((lane * 5 + 1) % 37) % a.width));
    CHECK(out[5 * tid + 2] == (lane - a.delta >= group * a.width ? value(lane - a.delta) : value(lane)));
    CHECK(out[5 * tid + 3] == (lane + a.delta < (group + 1) * a.width ? value(lane + a.delta) : value(lane)));
    const int x = lane ^ a.lane_mask;
    CHECK(out[5 * tid + 4] == (x < (group + 1) * a.width ? value(x) : value(lane)));
  }
}

__global__ void float_double_shuffle_kernel(float* f, double* d) {
  const int tid = threadIdx.x;
  f[tid] = __shfl_down_sync(0xffffffffu, 0.5f + static_cast<float>(tid), 1);
  d[tid] = __shfl_xor_sync(0xffffffffu, 1e300 * (tid + 1), 1);
}

// Only the lanes of the low half-warp take part, with a mask naming exactly them.
__global__ void half_warp_shuffle_kernel(int* out) {
  const int lane = threadIdx.x % warpSize;
  out[threadIdx.x] = -1;
  if (lane < 16) out[threadIdx.x] = __shfl_sync(0x0000ffffu, lane * 10, 15 - lane);
}

__global__ void vote_kernel(unsigned* ballots, int* any, int* all) {
  const int tid = threadIdx.x;
  const int pred = (tid % 3 == 0) || (tid / warpSize == 2);  // warp 2: true everywhere
  ballots[tid] = __ballot_sync(0xffffffffu, pred);
  any[tid] = __any_sync(0xffffffffu, tid % 64 == 40);  // true in warp 1 only
  all[tid] = __all_sync(0xffffffffu, pred);
  // Even lanes only, with the mask of even lanes.
  if (tid % 2 == 0) ballots[blockDim.x + tid] = __ballot_sync(0x55555555u, tid % 4 == 0);
}

__global__ void block_predicate_kernel(int* out) {
  const int t = threadIdx.x;
  out[3 * t + 0] = __syncthreads_count(t % 5 == 0);
  out[3 * t + 1] = __syncthreads_and(t < 1000);
  out[3 * t + 2] = __syncthreads_or(t == 77);
}

__global__ void warp_sum_kernel(const float* in, float* out) {
  float v = in[threadIdx.x];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % warpSize == 0) out[threadIdx.x / warpSize] = v;
  __syncwarp();
}

__global__ void atomics_kernel(int* counter, unsigned* ucounter, float* fsum, int* imax, unsigned* umax, int* cas_slots,
                               int* winners) {
  const int g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(counter, 1);
  atomicAdd(ucounter, 2u);
  atomicAdd(fsum, 1.0f);
  atomicMax(imax, (g * 7919) % 10007 - 5000);
  atomicMax(umax, static_cast<unsigned>((g * 104729) % 65521));
  const int slot = g % 8;
  if (atomicCAS(&cas_slots[slot], -1, g) == -1) atomicAdd(&winners[slot], 1);
}

}  // namespace

TEST_CASE("shuffles follow CUDA's rules for every width, delta and lane mask", "[emu][warp]") {
  const int threads = 96;
  for (int width : {32, 16, 8, 4, 2, 1}) {
    for (ShuffleArgs a : {ShuffleArgs{width, 1, 1}, ShuffleArgs{width, 3, 5}, ShuffleArgs{width, 8, 16},
                          ShuffleArgs{width, 0, 31}}) {
      emu_test::DeviceBuffer<int> d_out(std::vector<int>(5 * threads, 0));
      kernels::cuda::launch(shuffle_kernel, {dim3(1), dim3(threads)}, a, d_out.get());
      expect_shuffles(d_out.to_host(), threads, a);
    }
  }
}

TEST_CASE("shuffles move floats and doubles bit-exactly", "[emu][warp]") {
  emu_test::DeviceBuffer<float> f(std::vector<float>(32, 0.f));
  emu_test::DeviceBuffer<double> d(std::vector<double>(32, 0.0));
  kernels::cuda::launch(float_double_shuffle_kernel, {dim3(1), dim3(32)}, f.get(), d.get());
  const auto fs = f.to_host();
  const auto ds = d.to_host();
  for (int t = 0; t < 32; ++t) {
    CHECK(fs[t] == 0.5f + static_cast<float>(t < 31 ? t + 1 : t));
    CHECK(ds[t] == 1e300 * ((t ^ 1) + 1));
  }
}

TEST_CASE("a shuffle with a partial mask involves only the named lanes", "[emu][warp]") {
  emu_test::DeviceBuffer<int> d_out(std::vector<int>(64, 0));
  kernels::cuda::launch(half_warp_shuffle_kernel, {dim3(1), dim3(64)}, d_out.get());
  const auto out = d_out.to_host();
  for (int t = 0; t < 64; ++t) CHECK(out[t] == (t % 32 < 16 ? (15 - t % 32) * 10 : -1));
}

TEST_CASE("ballot, any and all, with full and partial masks and a partial last warp", "[emu][warp]") {
  const int threads = 112;  // warp 3 has 16 lanes
  emu_test::DeviceBuffer<unsigned> ballots(std::vector<unsigned>(2 * threads, 0));
  emu_test::DeviceBuffer<int> any(std::vector<int>(threads, -1));
  emu_test::DeviceBuffer<int> all(std::vector<int>(threads, -1));
  kernels::cuda::launch(vote_kernel, {dim3(1), dim3(threads)}, ballots.get(), any.get(), all.get());
  const auto b = ballots.to_host();
  const auto an = any.to_host();
  const auto al = all.to_host();
  for (int w = 0; w * warp < threads; ++w) {
    unsigned expected_ballot = 0, expected_even = 0;
    bool expected_any = false, expected_all = true;
    for (int lane = 0; lane < warp && w * warp + lane < threads; ++lane) {
      const int t = w * warp + lane;
      const bool pred = (t % 3 == 0) || w == 2;
      if (pred) expected_ballot |= 1u << lane;
      expected_all = expected_all && pred;
      expected_any = expected_any || t % 64 == 40;
      if (t % 2 == 0 && t % 4 == 0) expected_even |= 1u << lane;
    }
    for (int lane = 0; lane < warp && w * warp + lane < threads; ++lane) {
      const int t = w * warp + lane;
      INFO("thread " << t);
      CHECK(b[t] == expected_ballot);
      CHECK(an[t] == static_cast<int>(expected_any));
      CHECK(al[t] == static_cast<int>(expected_all));
      if (t % 2 == 0) CHECK(b[threads + t] == expected_even);
    }
  }
}

TEST_CASE("__syncthreads_count, _and and _or", "[emu][warp]") {
  const int threads = 200;
  emu_test::DeviceBuffer<int> d_out(std::vector<int>(3 * threads, -1));
  kernels::cuda::launch(block_predicate_kernel, {dim3(1), dim3(threads)}, d_out.get());
  const auto out = d_out.to_host();
  int count = 0;
  for (int t = 0; t < threads; ++t) count += t % 5 == 0;
  for (int t = 0; t < threads; ++t) {
    CHECK(out[3 * t + 0] == count);
    CHECK(out[3 * t + 1] == 1);
    CHECK(out[3 * t + 2] == 1);
  }
}

TEST_CASE("a warp shuffle-down sum matches a plain loop under every schedule", "[emu][warp]") {
  std::vector<float> in(256);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<float>((i * 13) % 17);  // small integers: exact sums
  std::vector<float> expected(8, 0.f);
  for (int i = 0; i < 256; ++i) expected[i / 32] += in[i];
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<float> d_in(in);
    emu_test::DeviceBuffer<float> d_out(std::vector<float>(8, 0.f));
    kernels::cuda::launch(warp_sum_kernel, {dim3(1), dim3(256)}, d_in.get(), d_out.get());
    CHECK(d_out.to_host() == expected);
  }
}

TEST_CASE("atomics with two workers give exact counts", "[emu][warp]") {
  emu_test::ScopedSettings scoped(emu_test::make_settings(kernels::emu::Schedule::random, 7, 2));
  const int blocks = 48, threads = 128, total = blocks * threads;
  emu_test::DeviceBuffer<int> counter(std::vector<int>{0});
  emu_test::DeviceBuffer<unsigned> ucounter(std::vector<unsigned>{0});
  emu_test::DeviceBuffer<float> fsum(std::vector<float>{0.f});
  emu_test::DeviceBuffer<int> imax(std::vector<int>{-100000});
  emu_test::DeviceBuffer<unsigned> umax(std::vector<unsigned>{0});
  emu_test::DeviceBuffer<int> slots(std::vector<int>(8, -1));
  emu_test::DeviceBuffer<int> winners(std::vector<int>(8, 0));
  kernels::cuda::launch(atomics_kernel, {dim3(blocks), dim3(threads)}, counter.get(), ucounter.get(), fsum.get(),
                        imax.get(), umax.get(), slots.get(), winners.get());
  int expected_imax = -100000;
  unsigned expected_umax = 0;
  for (int g = 0; g < total; ++g) {
    expected_imax = std::max(expected_imax, (g * 7919) % 10007 - 5000);
    expected_umax = std::max(expected_umax, static_cast<unsigned>((g * 104729) % 65521));
  }
  CHECK(counter.to_host()[0] == total);
  CHECK(ucounter.to_host()[0] == 2u * total);
  CHECK(fsum.to_host()[0] == static_cast<float>(total));  // exact: integers below 2^24
  CHECK(imax.to_host()[0] == expected_imax);
  CHECK(umax.to_host()[0] == expected_umax);
  const auto s = slots.to_host();
  const auto w = winners.to_host();
  for (int slot = 0; slot < 8; ++slot) {
    CHECK(w[slot] == 1);  // exactly one thread saw the slot empty
    CHECK(s[slot] % 8 == slot);
  }
}
