#pragma once
// Helpers shared by the emulator self-tests (test kernels live in the .cpp files, compiled
// like kernels/cuda/*.cu with kernels/emu/cuda_emu.h force-included).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "device_buffer.h"
#include "kernels/cuda_device.h"
#include "kernels/emu.h"
#include "launch.cuh"

namespace emu_test {

using kernel_test::DeviceBuffer;

// Emulator settings for one scope; restores the previous ones.
class ScopedSettings {
public:
  explicit ScopedSettings(const kernels::emu::Settings& s) : saved_(kernels::emu::settings()) { kernels::emu::set_settings(s); }
  ~ScopedSettings() { kernels::emu::set_settings(saved_); }
  ScopedSettings(const ScopedSettings&) = delete;
  ScopedSettings& operator=(const ScopedSettings&) = delete;

private:
  kernels::emu::Settings saved_;
};

inline kernels::emu::Settings make_settings(kernels::emu::Schedule schedule, std::uint64_t seed, int workers) {
  kernels::emu::Settings s;
  s.schedule = schedule;
  s.seed = seed;
  s.worker_threads = workers;
  return s;
}

// {forward, reverse, random:1, random:2} x {1, 2} workers.
inline std::vector<kernels::emu::Settings> schedule_matrix() {
  using kernels::emu::Schedule;
  std::vector<kernels::emu::Settings> all;
  for (int workers : {1, 2}) {
    all.push_back(make_settings(Schedule::forward, 0, workers));
    all.push_back(make_settings(Schedule::reverse, 0, workers));
    all.push_back(make_settings(Schedule::random, 1, workers));
    all.push_back(make_settings(Schedule::random, 2, workers));
  }
  return all;
}

inline std::string describe(const kernels::emu::Settings& s) {
  const char* name = s.schedule == kernels::emu::Schedule::forward   ? "forward"
                     : s.schedule == kernels::emu::Schedule::reverse ? "reverse"
                                                                     : "random";
  return std::string(name) + (s.schedule == kernels::emu::Schedule::random ? ":" + std::to_string(s.seed) : "") +
         ", " + std::to_string(s.worker_threads) + " worker(s)";
}

// Runs this test binary on the hidden test `tag`, with `environment` ("NAME=value ...")
// added, and returns its output (stdout and stderr); *status gets the exit code. For sanitizer
// reports and process-wide settings, which end or fix the process that meets them.
inline std::string run_self(const std::string& tag, int* status, const std::string& environment = "") {
  const std::string command =
      "env " + environment + " /proc/" + std::to_string(getpid()) + "/exe \"" + tag + "\" 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return output;
  }
  char chunk[4096];
  std::size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) output.append(chunk, got);
  const int raw = pclose(pipe);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

}  // namespace emu_test
