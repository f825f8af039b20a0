// libFuzzer target: the restricted unpickler (engine/io/pickle.cpp) on raw pickle bytes.
#include "../../engine/io/pickle.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  fuzz::expect_clean_refusal([&] { engine::io::unpickle_state_dict(bytes, "fuzz.pkl"); });
  return 0;
}
