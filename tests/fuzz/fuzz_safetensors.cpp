// libFuzzer target: safetensors, its JSON header and metadata (engine/io/safetensors.cpp); the
// SARGAN training-state files are safetensors with metadata, so this covers their framing too.
#include "engine/safetensors.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size, "in.safetensors");
  fuzz::expect_clean_refusal([&] { engine::load_safetensors(path); });
  return 0;
}
