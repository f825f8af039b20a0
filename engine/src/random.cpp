// Philox-4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11)
// and the distributions built on it. Each block of four 32-bit draws is a pure function of
// (seed, counter), so blocks are generated in parallel and the result does not depend on the
// thread count; tensors on any device are generated on the host and copied, so every device
// sees the same values.
#include "engine/random.h"

#include <cmath>

#include "engine/check.h"

namespace engine {
namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;  // round multipliers
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // key schedule (golden ratio, sqrt(3) - 1)
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

// 24 high bits -> [0, 1): every value is exactly representable in float, and 1 is never reached.
inline float to_unit(uint32_t bits) { return float(bits >> 8) * (1.f / 16777216.f); }

// Blocks [first, first + blocks) of (seed, counter) into out, four words per block.
void fill_blocks(uint64_t seed, uint64_t first, int64_t blocks, uint32_t* out) {
#pragma omp parallel for schedule(static) if (blocks > 16384)
  for (int64_t b = 0; b < blocks; ++b) philox4x32(seed, first + uint64_t(b), out + 4 * b);
}

}  // namespace

void philox4x32(const uint32_t key[2], const uint32_t counter[4], uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const uint64_t p0 = uint64_t(kPhiloxM0) * c0;
    const uint64_t p1 = uint64_t(kPhiloxM1) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = uint32_t(p1);
    c2 = n2;
    c3 = uint32_t(p0);
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]) {
  const uint32_t k[2] = {uint32_t(key), uint32_t(key >> 32)};
  const uint32_t c[4] = {uint32_t(counter), uint32_t(counter >> 32), 0u, 0u};
  philox4x32(k, c, out);
}

std::vector<uint32_t> Philox::blocks(int64_t count) {
  ENGINE_CHECK(count >= 0, "Philox: negative count ", count);
  const int64_t blocks = (count + 3) / 4;
  std::vector<uint32_t> words(4 * blocks);
  fill_blocks(seed_, offset_, blocks, words.data());
  offset_ += uint64_t(blocks);
  words.resize(count);
  return words;
}

std::vector<float> Philox::uniform(int64_t count) {
  const std::vector<uint32_t> words = blocks(count);
  std::vector<float> values(count);
  for (int64_t i = 0; i < count; ++i) values[i] = to_unit(words[i]);
  return values;
}

Tensor Philox::uniform(const Shape& shape, float lo, float hi, Device device) {
  ENGINE_CHECK(lo <= hi, "Philox::uniform: lo ", lo, " > hi ", hi);
  std::vector<float> values = uniform(numel(shape));
  for (float& v : values) v = lo + (hi - lo) * v;
  return Tensor::from_vector(values, shape, device);
}

std::vector<float> Philox::normal(int64_t count) {
  // One pair of uniforms per pair of normals; the first is moved to (0, 1] so that log is finite.
  const std::vector<uint32_t> words = blocks(2 * ((count + 1) / 2));
  std::vector<float> values(count);
  constexpr double two_pi = 6.283185307179586476925;
  for (int64_t i = 0; i < count; i += 2) {
    const double u1 = (double(words[i] >> 8) + 1.0) / 16777216.0;
    const double u2 = double(words[i + 1] >> 8) / 16777216.0;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    values[i] = float(radius * std::cos(two_pi * u2));
    if (i + 1 < count) values[i + 1] = float(radius * std::sin(two_pi * u2));
  }
  return values;
}

uint32_t Philox::next_u32() { return blocks(1)[0]; }

std::vector<int64_t> Philox::permutation(int64_t n) {
  ENGINE_CHECK(n >= 0, "Philox::permutation: negative size ", n);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (n < 2) return order;
  // Fisher-Yates with a 64-bit draw per swap: the modulo bias, n / 2^64, is far below anything a
  // test could see, and no rejection loop makes the consumed counter range depend on the values.
  const std::vector<uint32_t> words = blocks(2 * (n - 1));
  for (int64_t i = n - 1; i > 0; --i) {
    const size_t w = 2 * size_t(n - 1 - i);
    const uint64_t draw = (uint64_t(words[w]) << 32) | words[w + 1];
    std::swap(order[i], order[int64_t(draw % uint64_t(i + 1))]);
  }
  return order;
}

}  // namespace engine
