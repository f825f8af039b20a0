// The emulator's tensor-core instructions (kernels/cuda/ptx.cuh, kernels/emu/tensor_core.h):
// cvt.rna.tf32.f32 against hand-computed bit patterns and an independent rounding in double;
// mma.sync m16n8k8 .tf32 against hand-computed fragments and a plain matrix product, under
// every schedule; a warp that does not reach the MMA whole is reported. atom.acq_rel.gpu.add
// (split-K's tickets) returns the old value and hands one block's writes to the block that
// draws the last ticket, on 1 and 2 worker threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "emu_test_util.h"
#include "ptx.cuh"

namespace {

using Catch::Matchers::Contains;
using kernels::cuda::ptx::atom_add_acq_rel_gpu;
using kernels::cuda::ptx::cvt_rna_tf32;

std::uint32_t bits_of(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
float float_of(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

__global__ void cvt_kernel(int n, const float* in, std::uint32_t* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = cvt_rna_tf32(in[i]);
}

// Thread t's registers: regs[10 t ..]: a0-a3, b0-b1, then c0-c3 as fp32 bits; d[4 t ..] = d0-d3.
constexpr int regs_per_lane = 10;
__global__ void mma_kernel(const std::uint32_t* regs, float* d) {
  const std::uint32_t* r = regs + regs_per_lane * (blockIdx.x * blockDim.x + threadIdx.x);
  const std::uint32_t a[4] = {r[0], r[1], r[2], r[3]}, b[2] = {r[4], r[5]};
  const float c[4] = {__uint_as_float(r[6]), __uint_as_float(r[7]), __uint_as_float(r[8]), __uint_as_float(r[9])};
  float out[4];
  kernels::cuda::ptx::mma_m16n8k8_tf32(out, a, b, c);
  for (int i = 0; i < 4; ++i) d[4 * (blockIdx.x * blockDim.x + threadIdx.x) + i] = out[i];
}

// One warp's problem: A 16x8, B 8x8, C 16x8 (row-major).
struct Problem {
  float a[16][8] = {}, b[8][8] = {}, c[16][8] = {};
};

// The PTX ISA's "Matrix Fragments for mma.m16n8k8" (.tf32), transcribed for the test (the
// literal checks below pin this transcription to hand-read entries).
struct Entry {
  int row, col;
};
Entry a_entry(int lane, int r) { return {lane / 4 + 8 * (r % 2), lane % 4 + 4 * (r / 2)}; }
Entry b_entry(int lane, int r) { return {lane % 4 + 4 * r, lane / 4}; }
Entry cd_entry(int lane, int r) { return {lane / 4 + 8 * (r / 2), 2 * (lane % 4) + r % 2}; }

void append_registers(const Problem& p, std::vector<std::uint32_t>& regs) {
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < 4; ++r) regs.push_back(bits_of(p.a[a_entry(lane, r).row][a_entry(lane, r).col]));
    for (int r = 0; r < 2; ++r) regs.push_back(bits_of(p.b[b_entry(lane, r).row][b_entry(lane, r).col]));
    for (int r = 0; r < 4; ++r) regs.push_back(bits_of(p.c[cd_entry(lane, r).row][cd_entry(lane, r).col]));
  }
}

// d of every lane of every warp, the warps' problems in order, in blocks of `warps_per_block`.
std::vector<float> run_mma(const std::vector<Problem>& problems, int warps_per_block) {
  std::vector<std::uint32_t> regs;
  for (const Problem& p : problems) append_registers(p, regs);
  emu_test::DeviceBuffer<std::uint32_t> d_regs(regs);
  emu_test::DeviceBuffer<float> d_out(std::vector<float>(4 * 32 * problems.size(), -1.f));
  const int blocks = static_cast<int>(problems.size()) / warps_per_block;
  kernels::cuda::launch(mma_kernel, {dim3(blocks), dim3(32 * warps_per_block)}, d_regs.get(), d_out.get());
  return d_out.to_host();
}

// D = A B + C in double: exact for the small integers used with it.
double reference(const Problem& p, int i, int j) {
  double s = p.c[i][j];
  for (int k = 0; k < 8; ++k) s += static_cast<double>(p.a[i][k]) * p.b[k][j];
  return s;
}

// Round to nearest TF32, ties away from zero, computed in double with std::round (which rounds
// ties away): an independent route to what tf32_round does with bit arithmetic.
float tf32_reference(float x) {
  if (std::isnan(x) || std::isinf(x) || x == 0.f) return x;
  const int e = std::max(std::ilogb(x), -126);  // below 2^-126 the spacing stays 2^-136
  const double ulp = std::ldexp(1.0, e - 10);
  return static_cast<float>(std::round(static_cast<double>(x) / ulp) * ulp);  // overflow gives inf
}

}  // namespace

TEST_CASE("cvt.rna.tf32.f32 on hand-computed cases: ties away from zero, subnormals, inf, NaN", "[emu][tensor_core]") {
  struct Case {
    std::uint32_t in, out;
    const char* what;
  };
  const Case cases[] = {
      {0x3f800000u, 0x3f800000u, "1 is a TF32 value"},
      {0x3f801000u, 0x3f802000u, "1 + 2^-11: a tie, away from zero (to even would give 1)"},
      {0xbf801000u, 0xbf802000u, "-(1 + 2^-11): a tie, away from zero"},
      {0x3f800fffu, 0x3f800000u, "just below the tie: down"},
      {0x3f801001u, 0x3f802000u, "just above the tie: up"},
      {0x3f803000u, 0x3f804000u, "1 + 3 2^-11: a tie, away from zero"},
      {0x3fffffffu, 0x40000000u, "the carry moves into the exponent: 2"},
      {0x7f7fefffu, 0x7f7fe000u, "below the last tie: the largest TF32"},
      {0x7f7ff000u, 0x7f800000u, "the largest float's tie rounds past the largest TF32: inf"},
      {0x00001000u, 0x00002000u, "half the smallest TF32 subnormal: a tie, away from zero"},
      {0x00000fffu, 0x00000000u, "below it: +0"},
      {0x80000fffu, 0x80000000u, "a negative tiny subnormal: -0"},
      {0x807ff000u, 0x80800000u, "the largest subnormal's tie: the smallest normal, negative"},
      {0x00000000u, 0x00000000u, "+0"},
      {0x80000000u, 0x80000000u, "-0"},
      {0x7f800000u, 0x7f800000u, "+inf"},
      {0xff800000u, 0xff800000u, "-inf"},
  };
  std::vector<float> in;
  for (const Case& c : cases) in.push_back(float_of(c.in));
  const std::uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fffffffu};
  for (std::uint32_t n : nans) in.push_back(float_of(n));
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<float> d_in(in);
    emu_test::DeviceBuffer<std::uint32_t> d_out(std::vector<std::uint32_t>(in.size(), 0));
    kernels::cuda::launch(cvt_kernel, {dim3(1), dim3(32)}, static_cast<int>(in.size()), d_in.get(), d_out.get());
    const auto out = d_out.to_host();
    for (std::size_t i = 0; i < std::size(cases); ++i) {
      INFO(cases[i].what << std::hex << ": 0x" << cases[i].in << " -> 0x" << out[i]);
      CHECK(out[i] == cases[i].out);
    }
    for (std::size_t i = std::size(cases); i < in.size(); ++i) CHECK(out[i] == 0x7fffffffu);  // canonical NaN
  }
}

TEST_CASE("cvt.rna.tf32.f32 agrees with a rounding computed in double on random bit patterns", "[emu][tensor_core]") {
  std::mt19937 rng(12);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  for (int i = 0; i < 200000; ++i) {
    std::uint32_t b = any_bits(rng);
    if (i % 4 == 0) b &= 0x807fffffu;                          // subnormals too
    if (i % 4 == 1) b = (b & 0xffffe000u) | 0x1000u;           // exact ties
    const float x = float_of(b);
    if (std::isnan(x)) continue;
    INFO(std::hex << "0x" << b);
    CHECK(cvt_rna_tf32(x) == bits_of(tf32_reference(x)));
  }
}

TEST_CASE("mma m16n8k8 tf32: hand-computed fragments place every lane's registers as the PTX ISA says",
          "[emu][tensor_core]") {
  // Hand-read from the ISA's figures: lane 5 is g = 1, t = 1; lane 31 is g = 7, t = 3.
  CHECK((a_entry(5, 0).row == 1 && a_entry(5, 0).col == 1 && a_entry(5, 1).row == 9 && a_entry(5, 1).col == 1 &&
         a_entry(5, 2).row == 1 && a_entry(5, 2).col == 5 && a_entry(5, 3).row == 9 && a_entry(5, 3).col == 5));
  CHECK((b_entry(31, 0).row == 3 && b_entry(31, 0).col == 7 && b_entry(31, 1).row == 7 && b_entry(31, 1).col == 7));
  CHECK((cd_entry(31, 0).row == 7 && cd_entry(31, 0).col == 6 && cd_entry(31, 3).row == 15 && cd_entry(31, 3).col == 7));

  // Warp 0: A picks row i % 8 of B (times 2 in rows 8-15), so D shows B's layout.
  // Warp 1: B = identity, so D[i][j] = A[i][j] shows A's; C = 1000 i + j shows C's, in both.
  Problem pick_b, pick_a;
  for (int i = 0; i < 16; ++i)
    for (int k = 0; k < 8; ++k) {
      pick_b.a[i][k] = k == i % 8 ? (i < 8 ? 1.f : 2.f) : 0.f;
      pick_a.a[i][k] = static_cast<float>(8 * i + k + 1);
      pick_b.c[i][k] = pick_a.c[i][k] = static_cast<float>(1000 * i + k);
    }
  for (int k = 0; k < 8; ++k)
    for (int j = 0; j < 8; ++j) {
      pick_b.b[k][j] = static_cast<float>(8 * k + j + 1);
      pick_a.b[k][j] = k == j ? 1.f : 0.f;
    }
  const std::vector<Problem> problems{pick_b, pick_a};
  // d0-d3 of lanes 0, 5 and 31, by hand: D[g][2t], D[g][2t+1], D[g+8][2t], D[g+8][2t+1].
  const float hand[2][3][4] = {
      {{1, 3, 8002, 8005}, {1013, 1015, 9024, 9027}, {7069, 7071, 15132, 15135}},
      {{1, 3, 8065, 8067}, {1013, 1015, 9077, 9079}, {7069, 7071, 15133, 15135}},
  };
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    const std::vector<float> d = run_mma(problems, 2);
    for (int w = 0; w < 2; ++w) {
      const int lanes[3] = {0, 5, 31};
      for (int l = 0; l < 3; ++l)
        for (int r = 0; r < 4; ++r) {
          INFO("warp " << w << " lane " << lanes[l] << " d" << r);
          CHECK(d[4 * (32 * w + lanes[l]) + r] == hand[w][l][r]);
        }
      for (int lane = 0; lane < 32; ++lane)
        for (int r = 0; r < 4; ++r) {
          const Entry e = cd_entry(lane, r);
          INFO("warp " << w << " lane " << lane << " d" << r);
          CHECK(d[4 * (32 * w + lane) + r] == reference(problems[w], e.row, e.col));
        }
    }
  }
}

TEST_CASE("mma m16n8k8 tf32: random small-integer fragments give the exact product, under every schedule",
          "[emu][tensor_core]") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> small(-8, 8), wide(-100, 100);
  std::vector<Problem> problems(8);  // 4 blocks of 2 warps
  for (Problem& p : problems) {
    for (auto& row : p.a) for (float& v : row) v = static_cast<float>(small(rng));
    for (auto& row : p.b) for (float& v : row) v = static_cast<float>(small(rng));
    for (auto& row : p.c) for (float& v : row) v = static_cast<float>(wide(rng));
  }
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    const std::vector<float> d = run_mma(problems, 2);
    for (std::size_t w = 0; w < problems.size(); ++w)
      for (int lane = 0; lane < 32; ++lane)
        for (int r = 0; r < 4; ++r) {
          const Entry e = cd_entry(lane, r);
          CHECK(d[4 * (32 * w + lane) + r] == reference(problems[w], e.row, e.col));
        }
  }
}

TEST_CASE("mma m16n8k8 tf32: products exact, operands read as TF32, sums in the documented order",
          "[emu][tensor_core]") {
  Problem p;
  const float one_plus = 1.f + std::ldexp(1.f, -10);  // a TF32 value
  p.a[0][0] = one_plus;
  p.b[0][0] = one_plus;
  // Row 1: A[1][0] is 1 plus bits below TF32's precision, which the instruction ignores.
  p.a[1][0] = float_of(0x3f800000u | 0x1fffu);
  p.b[0][1] = 3.f;
  // Row 2: C = 2^24 plus eight products of 1. Added one by one in fp32 (round to nearest even)
  // each 2^24 + 1 rounds back to 2^24; the exact sum would be 2^24 + 8. The hardware's order and
  // internal precision are unspecified, so this pins the emulator's documented choice only.
  for (int k = 0; k < 8; ++k) p.a[2][k] = 1.f;
  for (int k = 0; k < 8; ++k) p.b[k][2] = 1.f;
  p.c[2][2] = 16777216.f;
  const std::vector<float> d = run_mma({p}, 1);
  const auto at = [&](int i, int j) {
    for (int lane = 0; lane < 32; ++lane)
      for (int r = 0; r < 4; ++r)
        if (cd_entry(lane, r).row == i && cd_entry(lane, r).col == j) return d[4 * lane + r];
    return -1.f;
  };
  CHECK(at(0, 0) == 1.f + std::ldexp(1.f, -9) + std::ldexp(1.f, -20));  // (1 + 2^-10)^2, exact in fp32
  CHECK(at(1, 1) == 3.f);
  CHECK(at(1, 0) == one_plus);
  CHECK(at(2, 2) == 16777216.f);
}

namespace {

__global__ void mma_after_early_return_kernel(float* out) {
  if (threadIdx.x % warpSize == 3) return;
  const std::uint32_t a[4] = {}, b[2] = {};
  const float c[4] = {};
  float d[4];
  kernels::cuda::ptx::mma_m16n8k8_tf32(d, a, b, c);
  out[threadIdx.x] = d[0];
}

constexpr int divergent_mma_line = __LINE__ + 6;
__global__ void divergent_mma_kernel(float* out) {
  const std::uint32_t a[4] = {}, b[2] = {};
  const float c[4] = {};
  float d[4];
  if (threadIdx.x < 16) {
    kernels::cuda::ptx::mma_m16n8k8_tf32(d, a, b, c);
  } else {
    kernels::cuda::ptx::mma_m16n8k8_tf32(d, a, b, c);
  }
  out[threadIdx.x] = d[0];
}

__global__ void mma_against_barrier_kernel(float* out) {
  const std::uint32_t a[4] = {}, b[2] = {};
  const float c[4] = {};
  float d[4] = {};
  if (threadIdx.x != 7) kernels::cuda::ptx::mma_m16n8k8_tf32(d, a, b, c);
  __syncthreads();
  out[threadIdx.x] = d[0];
}

void expect_mma_error(void (*kernel)(float*), int threads, const std::vector<std::string>& parts) {
  emu_test::DeviceBuffer<float> out(std::vector<float>(threads, 0.f));
  try {
    kernels::cuda::launch(kernel, {dim3(2), dim3(threads)}, out.get());
    FAIL("the launch was not refused");
  } catch (const kernels::CudaError& e) {
    const std::string message = e.what();
    INFO(message);
    for (const auto& p : parts) CHECK_THAT(message, Contains(p));
  }
  CHECK(cudaGetLastError() == cudaSuccess);
}

}  // namespace

TEST_CASE("a warp that does not reach the mma whole is reported, under every schedule", "[emu][tensor_core]") {
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    expect_mma_error(mma_after_early_return_kernel, 64, {"mma.sync.aligned.m16n8k8", "all 32 lanes must execute it"});
    expect_mma_error(divergent_mma_kernel, 32,
                     {"disagrees with the lanes waiting in", "tensor_core_test.cpp:" + std::to_string(divergent_mma_line),
                      "tensor_core_test.cpp:" + std::to_string(divergent_mma_line + 2)});
    expect_mma_error(mma_against_barrier_kernel, 32, {"deadlock", "mma.sync.aligned.m16n8k8", "__syncthreads"});
    // A block of 48 threads: warp 1 has 16 lanes, which cannot form the instruction's warp.
    expect_mma_error(mma_after_early_return_kernel, 48, {"all 32 lanes must execute it", "not a multiple of 32"});
  }
  CHECK(run_mma({Problem{}}, 1) == std::vector<float>(4 * 32, 0.f));  // the emulator stays usable
}

// Every block writes its 32 values, then thread 0 draws a ticket; the block that draws the last
// sums every block's values (the pattern of conv2d.cu's split-K).
constexpr int ticket_blocks = 64;
__global__ void ticket_kernel(unsigned* counter, float* values, unsigned* tickets, float* total) {
  __shared__ bool last;
  values[blockIdx.x * blockDim.x + threadIdx.x] = float(blockIdx.x * blockDim.x + threadIdx.x + 1);
  __syncthreads();
  if (threadIdx.x == 0) {
    tickets[blockIdx.x] = atom_add_acq_rel_gpu(counter, 1);
    last = tickets[blockIdx.x] == ticket_blocks - 1;
  }
  __syncthreads();
  if (last && threadIdx.x == 0) {
    float sum = 0.f;
    for (int i = 0; i < ticket_blocks * 32; ++i) sum += values[i];
    *total = sum;
  }
}

__global__ void atom_add_kernel(unsigned* counter, unsigned add, unsigned* old) { *old = atom_add_acq_rel_gpu(counter, add); }

TEST_CASE("atom.acq_rel.gpu.add: returns the old value; the last ticket sees every block's writes, under every schedule",
          "[emu][tensor_core]") {
  {
    emu_test::DeviceBuffer<unsigned> counter(std::vector<unsigned>{5u}), old(std::vector<unsigned>{0u});
    kernels::cuda::launch(atom_add_kernel, {dim3(1), dim3(1)}, counter.get(), 3u, old.get());
    CHECK(old.to_host()[0] == 5u);
    CHECK(counter.to_host()[0] == 8u);
  }
  for (const auto& s : emu_test::schedule_matrix()) {
    INFO(emu_test::describe(s));
    emu_test::ScopedSettings scoped(s);
    emu_test::DeviceBuffer<unsigned> counter(std::vector<unsigned>{0u}), tickets(std::vector<unsigned>(ticket_blocks, 0u));
    emu_test::DeviceBuffer<float> values(std::vector<float>(ticket_blocks * 32, 0.f)), total(std::vector<float>{0.f});
    kernels::cuda::launch(ticket_kernel, {dim3(ticket_blocks), dim3(32)}, counter.get(), values.get(), tickets.get(),
                          total.get());
    CHECK(counter.to_host()[0] == unsigned(ticket_blocks));
    std::vector<unsigned> drawn = tickets.to_host();
    std::sort(drawn.begin(), drawn.end());
    for (int b = 0; b < ticket_blocks; ++b) CHECK(drawn[b] == unsigned(b));  // each ticket once
    const int n = ticket_blocks * 32;
    CHECK(total.to_host()[0] == float(n) * float(n + 1) / 2);  // 2,098,176: exact in fp32
  }
}
