// The tests' main: Catch2's session plus `--requires WHAT[,WHAT]`, which ctest passes to the
// entries that need something a machine may lack (tests tagged [shared] need ../shared; the cuda
// suites need a CUDA device, real or emulated). When one is absent the run prints why and exits
// with skip_exit_code, which ctest (SKIP_RETURN_CODE) counts and shows as Skipped: a test that
// cannot run is never reported as passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#if defined(ENGINE_WITH_CUDA)
#include "kernels/cuda_device.h"
#endif

namespace {

constexpr int skip_exit_code = 77;  // the automake convention; CMakeLists.txt's SKIP_RETURN_CODE

// Why `what` is missing on this machine, or "" when it is present.
std::string missing(const std::string& what) {
  if (what == "shared") {
    if (std::filesystem::is_directory(ENGINE_SHARED_DIR)) return "";
    return std::string("the test data folder ") + ENGINE_SHARED_DIR + " (../shared beside the checkout) is absent";
  }
  if (what == "cuda_device") {
#if defined(ENGINE_WITH_CUDA)
    if (kernels::cuda::device_count() > 0) return "";
    return "this build has the CUDA device but this machine has no usable GPU or driver";
#else
    return "this build has no CUDA device (configured with ENGINE_CUDA=OFF)";
#endif
  }
  throw std::invalid_argument("--requires: unknown requirement '" + what + "' (known: shared, cuda_device)");
}

}  // namespace

int main(int argc, char** argv) {
  Catch::Session session;
  std::string requirements;
  session.cli(session.cli() | Catch::clara::Opt(requirements, "what[,what]")["--requires"](
                                  "skip (exit 77) unless each is present: shared, cuda_device"));
  if (const int status = session.applyCommandLine(argc, argv)) return status;
  std::istringstream list(requirements);
  for (std::string what; std::getline(list, what, ',');) {
    std::string why;
    try {
      why = missing(what);
    } catch (const std::invalid_argument& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    if (!why.empty()) {
      std::cout << "SKIPPED: " << why << "\n";
      return skip_exit_code;
    }
  }
  return session.run();
}
