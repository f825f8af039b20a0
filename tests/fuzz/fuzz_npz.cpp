// libFuzzer target: .npz archives (zip of .npy, engine/io/npy.cpp load_npz).
#include "engine/npy.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size, "in.npz");
  fuzz::expect_clean_refusal([&] { engine::load_npz(path); });
  return 0;
}
