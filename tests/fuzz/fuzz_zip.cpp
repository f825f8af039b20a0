// libFuzzer target: the zip reader (engine/io/zip.cpp), every entry read.
#include "engine/zip.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size, "in.zip");
  fuzz::expect_clean_refusal([&] {
    const engine::ZipReader zip(path);
    for (const std::string& name : zip.names())
      if (zip.size(name) <= (uint64_t(64) << 20)) zip.read(name);
  });
  return 0;
}
