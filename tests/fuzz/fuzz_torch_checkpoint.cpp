// libFuzzer target: PyTorch checkpoints (zip + pickle + storages, engine/io/torch_checkpoint.cpp).
#include "engine/torch_checkpoint.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size, "in.ckpt");
  fuzz::expect_clean_refusal([&] { engine::load_torch_checkpoint(path); });
  return 0;
}
