#pragma once
// Helpers of the kernel-level tests (tests/kernels/cuda/*_kernel_test.cpp), which call kernels::cuda::
// directly against kernels::cpu:: on a table of cases: device buffers, and a rerun of a kernel
// under several emulator schedules that must give bit-identical output.
#include <catch2/catch.hpp>

#include <cstdlib>
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
// The quick runs (ENGINE_TEST_SMALL: the sanitizers', and the emulated build's under the other
// schedules, tools/test.sh) rerun under the reverse schedule with two workers and one random
// schedule with three only: the sanitizers look for memory errors and data races, which a run
// on several workers exposes, at 5-10x the emulator's cost. The full matrix is the emulated
// build's forward run, on every case.
inline void require_schedule_independent(const std::function<std::vector<float>()>& run, const std::string& what) {
#if defined(ENGINE_CUDA_EMULATED)
  using kernels::emu::Schedule;
  const kernels::emu::Settings saved = kernels::emu::settings();
  struct Restore {
    kernels::emu::Settings s;
    ~Restore() { kernels::emu::set_settings(s); }
  } restore{saved};
  struct Entry {
    kernels::emu::Settings settings;
    const char* name;
  };
  const Entry full[] = {{{Schedule::forward, 0, 1}, "forward, 1 worker"},
                        {{Schedule::reverse, 0, 2}, "reverse, 2 workers"},
                        {{Schedule::random, 11, 3}, "random:11, 3 workers"},
                        {{Schedule::random, 12, 2}, "random:12, 2 workers"}};
  const bool sanitized = std::getenv("ENGINE_TEST_SMALL") != nullptr;
  const Entry* const first = sanitized ? full + 1 : full;
  const Entry* const end = sanitized ? full + 3 : full + 4;
  std::vector<float> reference;
  for (const Entry* e = first; e != end; ++e) {
    kernels::emu::set_settings(e->settings);
    const std::vector<float> out = run();
    if (e == first) {
      reference = out;
      continue;
    }
    INFO(what << ": schedule " << e->name << " against " << first->name);
    CHECK(same_bits(out, reference));
  }
#else
  INFO(what);
  CHECK_FALSE(run().empty());
#endif
}

}  // namespace kernel_test
