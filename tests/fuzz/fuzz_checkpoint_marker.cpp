// libFuzzer target: the training checkpoint marker (<model_save_dir>/checkpoint, read by
// models/sargan/trainer_checkpoint.cpp latest_checkpoint_step).
#include <filesystem>

#include "fuzz_util.h"
#include "models/sargan/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = "/tmp/fuzz_marker_" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string written = fuzz::write_input(data, size, "checkpoint");
  std::filesystem::rename(written, dir + "/checkpoint");
  fuzz::expect_clean_refusal([&] { models::sargan::latest_checkpoint_step(dir); });
  return 0;
}
