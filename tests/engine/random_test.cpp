// Philox-4x32-10 against Random123's published known-answer vectors, and the generator's
// distributions against direct computation from those blocks and against their statistics.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "engine/random.h"
#include "test_util.h"

using engine::Philox;

TEST_CASE("philox4x32-10 matches Random123's known-answer vectors", "[cpu]") {
  // Random123 tests/kat_vectors: "philox4x32 10" counter[4] key[2] -> output[4].
  struct Case {
    uint32_t counter[4], key[2], expected[4];
  };
  const Case cases[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Case& c : cases) {
    uint32_t out[4];
    engine::philox4x32(c.key, c.counter, out);
    for (int i = 0; i < 4; ++i) CHECK(out[i] == c.expected[i]);
  }
  // The 64-bit form is key {lo, hi}, counter {lo, hi, 0, 0}.
  const uint32_t key[2] = {0x89abcdefu, 0x01234567u}, counter[4] = {0x9u, 0x5u, 0u, 0u};
  uint32_t full[4], packed[4];
  engine::philox4x32(key, counter, full);
  engine::philox4x32(0x0123456789abcdefull, 0x0000000500000009ull, packed);
  for (int i = 0; i < 4; ++i) CHECK(full[i] == packed[i]);
}

TEST_CASE("Philox::uniform is the 24 high bits of consecutive Philox blocks", "[cpu]") {
  Philox generator(42);
  const std::vector<float> values = generator.uniform(10);
  CHECK(generator.offset() == 3);  // ceil(10 / 4) blocks; the last two words are discarded
  for (int i = 0; i < 10; ++i) {
    uint32_t block[4];
    engine::philox4x32(42, uint64_t(i / 4), block);
    CHECK(values[i] == float(block[i % 4] >> 8) / 16777216.f);
  }
  const uint32_t next = generator.next_u32();
  uint32_t block[4];
  engine::philox4x32(42, 3, block);
  CHECK(next == block[0]);
  CHECK(generator.offset() == 4);
}

TEST_CASE("Philox: same seed same numbers, resumable from (seed, offset), any thread count", "[cpu]") {
  Philox a(7), b(7), c(8);
  const auto first = a.uniform(1000);
  CHECK(first == b.uniform(1000));
  CHECK(first != c.uniform(1000));
  const auto continued = a.uniform(500);
  Philox resumed;
  resumed.set_state(7, b.offset());
  CHECK(resumed.uniform(500) == continued);

  // Large draws are generated in parallel; every block depends only on its counter.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto serial = Philox(9).uniform(1 << 18);
  omp_set_num_threads(std::max(2, threads));
  const auto parallel = Philox(9).uniform(1 << 18);
  omp_set_num_threads(threads);
  CHECK(serial == parallel);
}

TEST_CASE("Philox::uniform: range and moments", "[cpu]") {
  const int64_t n = 200000;
  const auto values = Philox(1).uniform(n);
  double sum = 0, sum_sq = 0;
  for (float v : values) {
    REQUIRE(v >= 0.f);
    REQUIRE(v < 1.f);
    sum += v;
    sum_sq += double(v) * v;
  }
  const double mean = sum / n, variance = sum_sq / n - mean * mean;
  // Standard error of the mean: sqrt(1/12 / n) = 6.5e-4; 5 of them.
  CHECK(std::fabs(mean - 0.5) < 3.3e-3);
  CHECK(std::fabs(variance - 1.0 / 12.0) < 2e-3);
  CHECK(*std::min_element(values.begin(), values.end()) < 1e-4f);
  CHECK(*std::max_element(values.begin(), values.end()) > 1.f - 1e-4f);
}

TEST_CASE("Philox::uniform tensor: [lo, hi) on every device from the same stream", "[cpu]") {
  Philox a(3), b(3);
  const engine::Tensor t = a.uniform({4, 5, 6}, -0.25f, 0.75f);
  REQUIRE(t.shape() == engine::Shape{4, 5, 6});
  const auto raw = b.uniform(120);
  const auto values = t.to_vector();
  for (size_t i = 0; i < raw.size(); ++i) {
    CHECK(values[i] == -0.25f + 1.f * raw[i]);
    CHECK(values[i] >= -0.25f);
    CHECK(values[i] <= 0.75f);
  }
  if (engine::cuda_available()) {
    Philox c(3);
    CHECK(c.uniform({4, 5, 6}, -0.25f, 0.75f, engine::Device::cuda()).to_vector() == values);
  } else {
    WARN("no CUDA device in this build: the device half of this test did not run");
  }
}

TEST_CASE("Philox::normal: Box-Muller of uniform pairs, moments", "[cpu]") {
  Philox generator(5);
  const int64_t n = 200001;  // odd: the last pair's sine is discarded
  const auto values = generator.normal(n);
  REQUIRE(int64_t(values.size()) == n);
  CHECK(generator.offset() == uint64_t((n + 1) / 4 + ((n + 1) % 4 != 0)));
  uint32_t block[4];
  engine::philox4x32(5, 0, block);
  const double u1 = (double(block[0] >> 8) + 1.0) / 16777216.0, u2 = double(block[1] >> 8) / 16777216.0;
  CHECK(values[0] == float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2)));
  CHECK(values[1] == float(std::sqrt(-2.0 * std::log(u1)) * std::sin(2.0 * M_PI * u2)));

  double sum = 0, sum_sq = 0;
  int64_t within_one = 0;
  for (float v : values) {
    REQUIRE(std::isfinite(v));
    sum += v;
    sum_sq += double(v) * v;
    within_one += std::fabs(v) < 1.f;
  }
  const double mean = sum / n, variance = sum_sq / n - mean * mean;
  // Standard errors: mean 2.2e-3, variance 3.2e-3, share within one sigma 1.0e-3; 5 of each.
  CHECK(std::fabs(mean) < 1.1e-2);
  CHECK(std::fabs(variance - 1.0) < 1.6e-2);
  CHECK(std::fabs(double(within_one) / n - 0.682689) < 5e-3);
}

TEST_CASE("Philox::permutation: a permutation, every order equally likely", "[cpu]") {
  Philox generator(11);
  auto order = generator.permutation(1000);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) REQUIRE(sorted[i] == i);
  CHECK(order != Philox(12).permutation(1000));
  CHECK(order == Philox(11).permutation(1000));
  CHECK(generator.permutation(0).empty());
  CHECK(generator.permutation(1) == std::vector<int64_t>{0});

  // 6000 permutations of 3: each of the 6 orders about 1000 times (sigma 29; 5 sigma bound).
  std::map<std::vector<int64_t>, int> counts;
  for (int i = 0; i < 6000; ++i) ++counts[generator.permutation(3)];
  REQUIRE(counts.size() == 6);
  for (const auto& [perm, count] : counts) CHECK(std::abs(count - 1000) < 145);
}
