#include "engine/precision.h"

#include <atomic>
#include <cstdlib>

#include "engine/check.h"

namespace engine {
namespace {

// -1: not chosen yet; otherwise a Precision.
std::atomic<int> chosen{-1};

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  ENGINE_FAIL("unknown precision '", name, "': expected fp32 or tf32");
}

Precision precision() {
  const int c = chosen.load(std::memory_order_relaxed);
  if (c >= 0) return static_cast<Precision>(c);
  Precision p = Precision::fp32;
  if (const char* value = std::getenv("ENGINE_PRECISION")) {
    try {
      p = parse_precision(value);
    } catch (const Error& e) {
      ENGINE_FAIL("ENGINE_PRECISION: ", e.what());
    }
  }
  int expected = -1;  // a concurrent set_precision wins
  chosen.compare_exchange_strong(expected, static_cast<int>(p), std::memory_order_relaxed);
  return static_cast<Precision>(chosen.load(std::memory_order_relaxed));
}

void set_precision(Precision p) { chosen.store(static_cast<int>(p), std::memory_order_relaxed); }

}  // namespace engine
