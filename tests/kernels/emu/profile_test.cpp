// The emulator profiler's counters (kernels/emu_profile.h, docs/perf.md) on kernels whose
// answers are known: a coalesced copy touches 4 sectors per warp request of floats, a stride-32
// gather 32; a 32x32 shared-memory transpose read down a column hits one bank 32 times (31
// extra wavefronts per request) unless its rows are padded to 33 words; occupancy follows
// CUDA's rules for sm_90 (tests/kernels/cuda/profile_ncu_test.cpp checks it against Nsight Compute);
// a workload's modelled time sums its launches, grouped per kernel under short names.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "emu_test_util.h"
#include "kernels/emu_profile.h"
#include "kernels/h200_prediction.h"

namespace {

using emu_test::DeviceBuffer;

__global__ void copy_kernel(const float* in, float* out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i];
}

enum class Twice { no, yes };

// A template argument that demangles with parentheses: "(anonymous namespace)::scale_kernel<((anonymous namespace)::Twice)1>".
template <Twice twice>
__global__ void scale_kernel(float* out) {
  out[blockIdx.x * blockDim.x + threadIdx.x] *= twice == Twice::yes ? 2.f : 1.f;
}

__global__ void gather_kernel(const float* in, float* out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * 32];
}

// One 32x32 tile per block of 32x32 threads: rows in, columns out.
template <int Pitch>
__global__ void transpose_kernel(const float* in, float* out) {
  __shared__ float tile[32][Pitch];
  const unsigned base = blockIdx.x * 1024;
  tile[threadIdx.y][threadIdx.x] = in[base + threadIdx.y * 32 + threadIdx.x];
  __syncthreads();
  out[base + threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

// Even threads run `steps` FMAs, odd threads twice as many (this file is built with
// ENGINE_EMU_COUNT_FFMA, so each fmaf counts).
__global__ void fma_kernel(float* out, int steps) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  float acc = 0.f;
  for (int s = 0; s < steps * (1 + int(threadIdx.x % 2)); ++s) acc = fmaf(acc, 0.5f, 1.f);
  out[i] = acc;
}

// Each warp runs `steps` mma.sync m16n8k8 of ones: every output gains 8 a step.
__global__ void mma_kernel(float* out, int steps) {
  const std::uint32_t one = 0x3f800000u, a[4] = {one, one, one, one}, b[2] = {one, one};
  float acc[4] = {};
  for (int s = 0; s < steps; ++s) kernels::cuda::ptx::mma_m16n8k8_tf32(acc, a, b, acc);
  out[blockIdx.x * blockDim.x + threadIdx.x] = acc[0];
}

// Runs `launch` with the profiler on (with every block, or with the sampled blocks only) and
// returns its one launch's counters.
template <class F>
kernels::emu::LaunchProfile profile_one(F launch, bool sampled_blocks_only = false) {
  kernels::emu::set_profiling(true, sampled_blocks_only);
  kernels::emu::take_launch_profiles();
  launch();
  kernels::emu::set_profiling(false);
  std::vector<kernels::emu::LaunchProfile> all = kernels::emu::take_launch_profiles();
  REQUIRE(all.size() == 1);
  return all[0];
}

}  // namespace

TEST_CASE("profiler: coalesced copy, 4 sectors per request; stride-32 gather, 32", "[emu][profile]") {
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  constexpr int blocks = 16, threads = 256, n = blocks * threads;
  DeviceBuffer<float> in(std::vector<float>(n * 32, 1.0f)), out(std::vector<float>(n, 0.0f));
  const kernels::emu::LaunchProfile copy = profile_one([&] {
    kernels::cuda::launch(copy_kernel, {dim3(blocks), dim3(threads)}, in.get(), out.get());
  });
  CHECK(copy.memory_counted);
  CHECK(copy.global_load_requests == n / 32);
  CHECK(copy.global_load_sectors == 4.0 * n / 32);
  CHECK(copy.global_store_requests == n / 32);
  CHECK(copy.global_store_sectors == 4.0 * n / 32);
  CHECK(copy.shared_load_requests == 0);
  CHECK(copy.global_footprint_bytes == 2.0 * n * 4);
  const kernels::emu::LaunchProfile gather = profile_one([&] {
    kernels::cuda::launch(gather_kernel, {dim3(blocks), dim3(threads)}, in.get(), out.get());
  });
  CHECK(gather.global_load_requests == n / 32);
  CHECK(gather.global_load_sectors == 32.0 * n / 32);
  CHECK(gather.global_store_sectors == 4.0 * n / 32);
  CHECK(gather.blocks == blocks);
  CHECK(gather.threads_per_block == threads);
}

TEST_CASE("profiler: shared-memory transpose, 32-way conflicts unpadded, none padded", "[emu][profile]") {
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  constexpr int blocks = 4, n = blocks * 1024;
  DeviceBuffer<float> in(std::vector<float>(n, 2.0f)), out(std::vector<float>(n, 0.0f));
  const double requests = blocks * 32.0;  // one per warp: 32 warps of a 1024-thread block
  const kernels::emu::LaunchProfile plain = profile_one([&] {
    kernels::cuda::launch(transpose_kernel<32>, {dim3(blocks), dim3(32, 32)}, in.get(), out.get());
  });
  CHECK(plain.shared_store_requests == requests);
  CHECK(plain.shared_store_conflicts == 0);
  CHECK(plain.shared_load_requests == requests);
  CHECK(plain.shared_load_conflicts == 31 * requests);
  const kernels::emu::LaunchProfile padded = profile_one([&] {
    kernels::cuda::launch(transpose_kernel<33>, {dim3(blocks), dim3(32, 32)}, in.get(), out.get());
  });
  CHECK(padded.shared_load_requests == requests);
  CHECK(padded.shared_load_conflicts == 0);
  CHECK(padded.shared_store_conflicts == 0);
  CHECK(padded.global_load_sectors == 4 * requests);
}

TEST_CASE("profiler: executed FMAs (FFMAs and MMAs), counted in sampled blocks and scaled, priced by the model", "[emu][profile]") {
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  // 100 blocks: about 32 sampled (every third, and the last), scaled back to 100.
  constexpr int blocks = 100, threads = 64, steps = 7;
  DeviceBuffer<float> out(std::vector<float>(blocks * threads, 0.0f));
  kernels::emu::LaunchProfile p = profile_one([&] {
    kernels::cuda::launch(fma_kernel, {dim3(blocks), dim3(threads)}, out.get(), steps);
  });
  CHECK(p.sampled_blocks < static_cast<std::uint64_t>(blocks));
  CHECK(p.executed_ffma == Approx(blocks * threads * 1.5 * steps).epsilon(1e-12));
  CHECK(out.to_host()[1] == Approx(2.f * (1.f - std::ldexp(1.f, -2 * steps))));  // the fmaf still computes
  // The model prices the larger of the attributed FLOPs and 2 x the executed FMAs.
  p.flops = 0;
  const double counted = kernels::emu::predict_h200_ms(p);
  p.executed_ffma = 0;
  CHECK(kernels::emu::predict_h200_ms(p) < counted);
  p.flops = 1e12;
  p.executed_ffma = 1e9;
  const double attributed = kernels::emu::predict_h200_ms(p);
  p.executed_ffma = 0;
  CHECK(kernels::emu::predict_h200_ms(p) == attributed);
  // A tensor-core mma.sync m16n8k8 counts its 16 x 8 x 8 multiply-adds, 1024 a warp.
  constexpr int mma_steps = 3;
  const kernels::emu::LaunchProfile mma = profile_one([&] {
    kernels::cuda::launch(mma_kernel, {dim3(blocks), dim3(threads)}, out.get(), mma_steps);
  });
  CHECK(mma.executed_ffma == Approx(blocks * (threads / 32) * mma_steps * 1024.0).epsilon(1e-12));
  CHECK(out.to_host()[threads + 5] == 8.f * mma_steps);  // the MMA still computes
}

TEST_CASE("profiler: ENGINE_EMU_PROFILE=sampled runs the sampled blocks only, with the same counters", "[emu][profile]") {
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  constexpr int blocks = 100, threads = 64, steps = 7;
  DeviceBuffer<float> in(std::vector<float>(blocks * threads * 32, 1.0f));
  DeviceBuffer<float> out(std::vector<float>(blocks * threads, -1.0f));
  const auto launch_fma = [&] { kernels::cuda::launch(fma_kernel, {dim3(blocks), dim3(threads)}, out.get(), steps); };
  const auto launch_gather = [&] { kernels::cuda::launch(gather_kernel, {dim3(blocks), dim3(threads)}, in.get(), out.get()); };
  for (const auto& launch : {std::function<void()>(launch_fma), std::function<void()>(launch_gather)}) {
    const kernels::emu::LaunchProfile all = profile_one(launch);
    const std::vector<float> unwritten(blocks * threads, -1.0f);
    kernels::cuda::copy_host_to_device(out.get(), unwritten.data(), unwritten.size() * sizeof(float));
    const kernels::emu::LaunchProfile sampled = profile_one(launch, true);
    CHECK(!kernels::emu::sampled_blocks_only());  // profiling is off again
    CHECK(sampled.kernel == all.kernel);
    CHECK(sampled.sampled_blocks == all.sampled_blocks);
    CHECK(sampled.global_load_requests == all.global_load_requests);
    CHECK(sampled.global_load_sectors == all.global_load_sectors);
    CHECK(sampled.global_store_requests == all.global_store_requests);
    CHECK(sampled.global_store_sectors == all.global_store_sectors);
    CHECK(sampled.global_footprint_bytes == all.global_footprint_bytes);
    CHECK(sampled.executed_ffma == all.executed_ffma);
    CHECK(sampled.predicted_h200_ms == all.predicted_h200_ms);
    // Blocks 0, 3, ..., 99 ran; the others left their outputs as they were.
    const std::vector<float> result = out.to_host();
    int ran = 0;
    for (int b = 0; b < blocks; ++b) {
      const bool expected = b % 3 == 0;
      ran += expected;
      for (int t = 0; t < threads; ++t) CHECK((result[b * threads + t] != -1.0f) == expected);
    }
    CHECK(static_cast<std::uint64_t>(ran) == sampled.sampled_blocks);
  }
}

TEST_CASE("profiler: a workload's modelled time, in total and per kernel", "[emu][profile]") {
  if (!kernels::emu::profile_available()) {
    WARN("SKIPPED: this build has no profiling instrumentation (a sanitizer build)");
    return;
  }
  constexpr int blocks = 16, threads = 256, n = blocks * threads;
  DeviceBuffer<float> in(std::vector<float>(n * 32, 1.0f)), out(std::vector<float>(n, 0.0f));
  kernels::emu::set_profiling(true);
  kernels::take_h200_workload();  // drops earlier launches
  for (int i = 0; i < 3; ++i) kernels::cuda::launch(copy_kernel, {dim3(blocks), dim3(threads)}, in.get(), out.get());
  kernels::cuda::launch(gather_kernel, {dim3(blocks), dim3(threads)}, in.get(), out.get());
  kernels::cuda::launch(scale_kernel<Twice::yes>, {dim3(blocks), dim3(threads)}, out.get());
  const kernels::H200Workload w = kernels::take_h200_workload();
  const kernels::H200Workload again = kernels::take_h200_workload();
  kernels::emu::set_profiling(false);
  CHECK(again.profiled);
  CHECK(again.launches == 0);  // taken: cleared
  REQUIRE(w.profiled);
  CHECK(w.launches == 5);
  REQUIRE(w.by_kernel.size() == 3);
  // Most time first; short names (no namespaces, no parameter list).
  CHECK(w.by_kernel[0].ms >= w.by_kernel[1].ms);
  double sum = 0;
  int launches = 0;
  for (const kernels::H200KernelTotal& k : w.by_kernel) {
    CHECK(k.kernel.find("::") == std::string::npos);
    CHECK(k.kernel.back() != ')');
    sum += k.ms;
    launches += k.launches;
    if (k.kernel == "copy_kernel") CHECK(k.launches == 3);
    if (k.kernel == "gather_kernel") CHECK(k.launches == 1);
  }
  CHECK(std::count_if(w.by_kernel.begin(), w.by_kernel.end(),
                      [](const kernels::H200KernelTotal& k) { return k.kernel == "scale_kernel<(Twice)1>"; }) == 1);
  CHECK(launches == 5);
  CHECK(sum == Approx(w.ms).epsilon(1e-12));
  CHECK(w.ms > 4 * kernels::emu::h200_model().launch_us * 1e-3);
}

TEST_CASE("profiler: sm_90 occupancy by CUDA's rules", "[emu][profile]") {
  using kernels::emu::sm90_occupancy;
  struct Case {
    int threads, registers;
    std::uint64_t shared;
    int blocks;
    std::string limiter;
  };
  // Worked by hand from the sm_90 limits: 64 warps, 32 blocks, 64K registers allocated per
  // warp in units of 256, 228 KiB shared with 1 KiB reserved per block.
  for (const Case& c : {Case{256, 95, 8192, 2, "registers"}, Case{1024, 32, 0, 2, "warps"},
                        Case{128, 64, 0, 8, "registers"}, Case{256, 32, 49152, 4, "shared"},
                        Case{32, 16, 0, 32, "blocks"}, Case{256, 255, 0, 1, "registers"},
                        Case{96, 40, 0, 16, "registers"}}) {
    INFO(c.threads << " threads, " << c.registers << " registers, " << c.shared << " bytes shared");
    const kernels::emu::Occupancy o = sm90_occupancy(c.threads, c.registers, c.shared);
    CHECK(o.blocks_per_sm == c.blocks);
    CHECK(std::string(o.limiter) == c.limiter);
  }
}

TEST_CASE("ENGINE_EMU_PROFILE takes 0 or 1 or sampled and refuses anything else by name", "[emu][profile]") {
  // The environment is read once per process, so each case runs in a child process.
  struct Case {
    const char* environment;
    const char* expected;  // the child's line, or nullptr: refused
  };
  for (const Case c : {Case{"ENGINE_EMU_PROFILE=0", "profiling: 0"}, Case{"ENGINE_EMU_PROFILE=1", "profiling: 1"},
                       Case{"ENGINE_EMU_PROFILE=sampled", "profiling: 1"}, Case{"ENGINE_EMU_PROFILE=yes", nullptr},
                       Case{"ENGINE_EMU_PROFILE=Sampled", nullptr}}) {
    INFO(c.environment);
    int status = 0;
    const std::string out = emu_test::run_self(std::string("[.profile_env_child]\" \"--use-colour\" \"no"), &status, c.environment);
    INFO(out);
    if (c.expected != nullptr) {
      CHECK(status == 0);
      CHECK_THAT(out, Catch::Matchers::Contains(c.expected));
    } else {
      CHECK(status != 0);
      CHECK_THAT(out, Catch::Matchers::Contains("is not one of 0, 1, sampled"));
    }
  }
}

TEST_CASE("profile env child: prints whether the environment switched profiling on", "[.profile_env_child]") {
  std::printf("profiling: %d\n", kernels::emu::profiling() ? 1 : 0);
}
