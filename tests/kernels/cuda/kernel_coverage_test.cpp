// The kernel coverage line, "kernels exercised: N of M": M counts the __global__ functions defined
// in kernels/cuda/*.cu (read from the sources, a template counting once), N those among them that
// the emulator ran during the cuda suite. Two ctest entries (CMakeLists.txt): `cuda` runs the
// suite, and this file's listener writes the names of the kernels launched to the file named by
// ENGINE_KERNEL_LAUNCH_LOG; `cuda_kernel_coverage` then runs the hidden test below on that file
// (ENGINE_KERNEL_COVERAGE_FROM) and fails below 100%. The emulator reports kernels by address
// (kernels::emu::launched_kernels); the names come from this executable's ELF symbol table.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#if defined(ENGINE_CUDA_EMULATED)
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/emu.h"
#include "test_util.h"

namespace {

// The kernel's own name from a mangled symbol: no namespaces, template arguments or parameters.
std::string kernel_name(const char* mangled) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  for (size_t at; (at = name.find("(anonymous namespace)")) != std::string::npos;) name.erase(at, 21);
  name = name.substr(0, name.find('('));
  name = name.substr(0, name.find('<'));
  if (const size_t colon = name.rfind(':'); colon != std::string::npos) name = name.substr(colon + 1);
  if (const size_t space = name.rfind(' '); space != std::string::npos) name = name.substr(space + 1);
  return name;
}

// Names of the kernels the emulator has launched in this process.
std::set<std::string> launched_kernel_names() {
  const std::multimap<uintptr_t, std::string> symbols = kernels::emu::function_symbols();
  std::set<std::string> names;
  for (const kernels::emu::KernelLaunches& k : kernels::emu::launched_kernels()) {
    const auto [first, last] = symbols.equal_range(reinterpret_cast<uintptr_t>(k.kernel));
    for (auto it = first; it != last; ++it) names.insert(kernel_name(it->second.c_str()));
  }
  return names;
}

// The __global__ functions defined in kernels/cuda/*.cu.
std::set<std::string> defined_kernel_names() {
  const std::regex global_function(R"(__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\()");
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir("kernels/cuda"))) {
    if (entry.path().extension() != ".cu") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator it(text.begin(), text.end(), global_function), end; it != end; ++it)
      names.insert((*it)[1].str());
  }
  return names;
}

// Writes the names of the launched kernels at the end of a run of the suite, when asked to.
class LaunchLogWriter : public Catch::TestEventListenerBase {
public:
  using TestEventListenerBase::TestEventListenerBase;
  void testRunStarting(const Catch::TestRunInfo&) override {
    if (const char* path = std::getenv("ENGINE_KERNEL_LAUNCH_LOG")) std::remove(path);  // never a stale log
  }
  void testRunEnded(const Catch::TestRunStats&) override {
    const char* path = std::getenv("ENGINE_KERNEL_LAUNCH_LOG");
    if (path == nullptr) return;
    const std::string temporary = std::string(path) + ".tmp";
    {
      std::ofstream out(temporary);
      for (const std::string& name : launched_kernel_names()) out << name << "\n";
    }
    std::rename(temporary.c_str(), path);
  }
};
CATCH_REGISTER_LISTENER(LaunchLogWriter)

}  // namespace

TEST_CASE("kernel coverage: every kernel of kernels/cuda ran in the cuda suite", "[.][kernel_coverage]") {
  const char* path = std::getenv("ENGINE_KERNEL_COVERAGE_FROM");
  INFO("run through ctest (entry cuda_kernel_coverage), which first runs the cuda suite with "
       "ENGINE_KERNEL_LAUNCH_LOG set and passes its log here in ENGINE_KERNEL_COVERAGE_FROM");
  REQUIRE(path != nullptr);
  std::ifstream in(path);
  INFO("the launch log " << path << " is missing: did the cuda suite run to its end?");
  REQUIRE(in.good());
  std::set<std::string> launched;
  for (std::string line; std::getline(in, line);) launched.insert(line);
  const std::set<std::string> defined = defined_kernel_names();
  REQUIRE_FALSE(defined.empty());
  std::vector<std::string> missing;
  for (const std::string& name : defined)
    if (launched.count(name) == 0) missing.push_back(name);
  std::cout << "kernels exercised: " << defined.size() - missing.size() << " of " << defined.size() << "\n";
  for (const std::string& name : missing) std::cout << "  never launched: " << name << "\n";
  CHECK(missing.empty());
}

#endif  // ENGINE_CUDA_EMULATED
