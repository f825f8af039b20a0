#pragma once
// Counter-based random numbers (Philox-4x32-10, Salmon et al. 2011): the value of draw i depends
// only on (seed, counter), so a seed gives the same numbers on every device and thread count.
// A Philox generator hands out counter ranges; its state (seed, offset) is two integers, saved in
// checkpoints so that a resumed run continues the same sequence.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace engine {

class Philox {
 public:
  explicit Philox(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }

  // count uniform floats in [0, 1), 24-bit resolution.
  std::vector<float> uniform(int64_t count);
  Tensor uniform(const Shape& shape, float lo, float hi, Device device = Device::cpu());
  std::vector<float> normal(int64_t count);  // Box-Muller on pairs of uniforms
  uint32_t next_u32();  // consumes a whole block, so the state stays (seed, offset)
  // A uniformly random permutation of 0..n-1 (Fisher-Yates on this generator).
  std::vector<int64_t> permutation(int64_t n);

 private:
  // The next `count` 32-bit words: ceil(count / 4) blocks, the unused tail of the last discarded.
  std::vector<uint32_t> blocks(int64_t count);
  uint64_t seed_;
  uint64_t offset_ = 0;  // in blocks of four 32-bit draws
};

// One Philox-4x32-10 block: four 32-bit values for (key, counter). The 64-bit form is the one the
// generator uses: key {lo, hi} and counter {lo, hi, 0, 0}; the full form matches Random123's
// philox4x32_R(10, counter, key) word for word (its known-answer vectors are the test).
void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]);
void philox4x32(const uint32_t key[2], const uint32_t counter[4], uint32_t out[4]);

}  // namespace engine
