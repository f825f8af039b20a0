// libFuzzer target: image decoding (engine/io/image.cpp: PNG, JPEG, BMP through stb_image).
#include "engine/image.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size, "in.img");
  fuzz::expect_clean_refusal([&] { engine::load_image(path, 3); });
  return 0;
}
