// libFuzzer target: .npy arrays (header dict, dtype, shape; engine/io/npy.cpp) and their
// conversions, as the LSRF loader uses them.
#include "engine/npy.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  fuzz::expect_clean_refusal([&] {
    const engine::NpyArray array = engine::parse_npy(bytes, "fuzz.npy");
    fuzz::expect_clean_refusal([&] { array.to_f64(); });
    fuzz::expect_clean_refusal([&] { array.to_i64(); });
    fuzz::expect_clean_refusal([&] { array.to_string(); });
  });
  return 0;
}
