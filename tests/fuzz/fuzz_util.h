#pragma once
// Shared by the libFuzzer targets (docs/reliability.md): the readers under test take file
// paths, so each input is written to a scratch file first. Only engine::Error is an expected
// outcome; any other exception escapes, and libFuzzer reports it as a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/check.h"

namespace fuzz {

// The input as the file <scratch>/<name> (the same path for every input of one process).
inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = "/tmp/fuzz_" + std::to_string(::getpid()) + "_" + name;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file || std::fwrite(data, 1, size, file) != size) __builtin_trap();
  std::fclose(file);
  return path;
}

template <class F>
void expect_clean_refusal(F&& parse) {
  try {
    parse();
  } catch (const engine::Error&) {
  }
}

}  // namespace fuzz
