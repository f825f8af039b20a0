#pragma once
// Helpers of the kernel-level tests (tests/kernels/cuda/*_kernel_test.cpp), which call kernels::cuda::
// directly against kernels::cpu:: on a table of cases: device buffers, and a rerun of a kernel
// under several emulator schedules that must give bit-identical output.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "device_buffer.h"
#include "engine/device.h"
#include "kernels/cuda_device.h"
#if defined(ENGINE_CUDA_EMULATED)
#include "kernels/emu.h"
#endif

#define REQUIRE_CUDA_DEVICE()                                   \
  if (!engine::cuda_available()) {                              \
    WARN("skipped: this build has no usable cuda device");      \
    return;                                                     \
  }

namespace kernel_test {

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs `run` (which launches kernels and returns their outputs, concatenated) under the forward
// schedule with one worker, the reverse schedule with two and two random schedules with three,
// and requires every rerun to reproduce the first bit for bit: a kernel without float atomics
// must not depend on the order in which threads and blocks run (a missing barrier shows up
// here). Only the emulator has schedules; on a GPU this runs `run` once.
// Under a sanitizer (5-10x the emulator's cost), one rerun: three workers, a random order, for
// the sanitizer to watch. Its check is its own report (a data race, a bad access), which needs
// the kernels run on several workers, not bit-identity across orders: that is the emulated
// build's, whose tests run this whole matrix (tools/test.sh).
inline void require_schedule_independent(const std::function<std::vector<float>()>& run, const std::string& what) {
#if defined(ENGINE_CUDA_EMULATED)
  using kernels::emu::Schedule;
  const kernels::emu::Settings saved = kernels::emu::settings();
  struct Restore {
    kernels::emu::Settings s;
    ~Restore() { kernels::emu::set_settings(s); }
  } restore{saved};
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  kernels::emu::set_settings({Schedule::random, 11, 3});
  INFO(what << ": schedule random:11, 3 workers, under a sanitizer");
  CHECK_FALSE(run().empty());
#else
  const kernels::emu::Settings matrix[] = {
      {Schedule::forward, 0, 1}, {Schedule::reverse, 0, 2}, {Schedule::random, 11, 3}, {Schedule::random, 12, 2}};
  const char* names[] = {"forward, 1 worker", "reverse, 2 workers", "random:11, 3 workers", "random:12, 2 workers"};
  std::vector<float> first;
  for (int i = 0; i < 4; ++i) {
    kernels::emu::set_settings(matrix[i]);
    const std::vector<float> out = run();
    if (i == 0) {
      first = out;
      continue;
    }
    INFO(what << ": schedule " << names[i] << " against " << names[0]);
    CHECK(same_bits(out, first));
  }
#endif
#else
  INFO(what);
  CHECK_FALSE(run().empty());
#endif
}

}  // namespace kernel_test
