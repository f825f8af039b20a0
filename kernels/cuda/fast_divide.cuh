#pragma once
// Division by a divisor fixed for a launch, as a multiply-high and a shift (Granlund & Montgomery,
// "Division by invariant integers using multiplication", 1994). A GPU has no integer divider: a
// 32-bit `n / d` is a ~20-instruction sequence, and the conv operand fetches divide for every
// element they load, which made their k loops issue more integer instructions than FMAs
// (docs/kernels.md, "Instruction mix"). With the divisor's multiplier formed once, a quotient
// costs 2 instructions and a remainder 1 more.
//
// Contract: 1 <= d < 2^31 and 0 <= n < 2^31; then quotient(n) == n / d exactly. With
// l = ceil(log2 d) and M = ceil(2^(32+l) / d) = (2^(32+l) + e) / d, 0 <= e < d, a 33-bit number
// (2^32 <= M < 2^33, as 2^(l-1) < d <= 2^l), quotient(n) = floor(n M / 2^(32+l)), formed as
// (umulhi(n, M - 2^32) + n) >> l (no overflow: n < 2^31). Exact because n M / 2^(32+l) =
// n / d + n e / (d 2^(32+l)) and the second term is below 2^-(l+1) < 1/d, too little to reach
// the next integer. d = 1 needs no special case (M - 2^32 = 0, l = 0): no branch in the fetches.
#include <cstdint>

namespace kernels::cuda {

struct FastDivisor {
  unsigned multiplier = 0, shift = 0;  // M - 2^32, l
  int divisor = 1;

  FastDivisor() = default;
  // Once per launch on the host, or once per block on the device (a loop and a 64-bit division:
  // tens of instructions, outside the k loop).
  __host__ __device__ explicit FastDivisor(int d) : divisor(d) {
    while ((1u << shift) < static_cast<unsigned>(d)) ++shift;
    const std::uint64_t m = ((std::uint64_t(1) << (32 + shift)) + unsigned(d) - 1) / unsigned(d);
    multiplier = static_cast<unsigned>(m - (std::uint64_t(1) << 32));
  }
  __device__ __forceinline__ int quotient(int n) const {
    return static_cast<int>((__umulhi(static_cast<unsigned>(n), multiplier) + static_cast<unsigned>(n)) >> shift);
  }
};

}  // namespace kernels::cuda
