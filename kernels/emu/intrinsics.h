#pragma once
// Device functions the CUDA toolkit leaves device-only, for the emulator (included by
// cuda_emu.h). Fast intrinsics are computed at full precision: the GPU's approximations differ
// in the last bits, so kernel tests compare with tolerances (docs/emulator.md).
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>

// ---- float math ----
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fdiv_rn(float x, float y) { return x / y; }
#if defined(ENGINE_EMU_COUNT_FFMA)
inline float __fmaf_rn(float x, float y, float z) { return kernels_emu_counted_fmaf(x, y, z); }
#else
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
#endif
// Separate rounding of the product, as CUDA promises for __fadd_rn/__fmul_rn: volatile stops
// the compiler contracting the caller's a*b+c through them.
inline float __fmul_rn(float x, float y) { volatile float p = x * y; return p; }
inline float __fadd_rn(float x, float y) { volatile float s = x + y; return s; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN -> 0, as CUDA
inline float exp10f(float x) { return std::pow(10.0f, x); }
// The classification functions CUDA's math headers put in the global namespace for device code.
using std::isfinite;
using std::isinf;
using std::isnan;

// ---- integer min/max with CUDA's overload set ----
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline unsigned min(int a, unsigned b) { return min(static_cast<unsigned>(a), b); }
inline unsigned max(int a, unsigned b) { return max(static_cast<unsigned>(a), b); }
inline unsigned min(unsigned a, int b) { return min(a, static_cast<unsigned>(b)); }
inline unsigned max(unsigned a, int b) { return max(a, static_cast<unsigned>(b)); }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline double min(float a, double b) { return std::fmin(static_cast<double>(a), b); }
inline double max(float a, double b) { return std::fmax(static_cast<double>(a), b); }
inline double min(double a, float b) { return std::fmin(a, static_cast<double>(b)); }
inline double max(double a, float b) { return std::fmax(a, static_cast<double>(b)); }

// ---- reinterpretation and bits ----
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline float __uint_as_float(unsigned i) { float x; std::memcpy(&x, &i, 4); return x; }
inline unsigned __umulhi(unsigned x, unsigned y) {
  return static_cast<unsigned>((static_cast<std::uint64_t>(x) * y) >> 32);
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}

// ---- loads through the read-only cache: plain loads here ----
template <class T>
T __ldg(const T* p) { return *p; }

// ---- fences: device memory is host memory ----
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wtsan"  // TSan does not model fences; the emulator's HB comes from barriers
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
#pragma GCC diagnostic pop

// ---- atomics: relaxed, as CUDA's; return the old value ----
namespace kernels::emu::detail {
template <class T, class F>
T atomic_update(T* address, F f) {  // compare-and-swap loop for what has no fetch-op builtin
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(address, &old, f(old), true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
inline float atomic_add_float(float* address, float val) {
  static_assert(sizeof(float) == sizeof(unsigned));
  unsigned* bits = reinterpret_cast<unsigned*>(address);
  const unsigned old = atomic_update(bits, [val](unsigned b) { return __float_as_uint(__uint_as_float(b) + val); });
  return __uint_as_float(old);
}
template <class T>
T atomic_cas(T* a, T compare, T v) {
  __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;  // holds the old value whether or not the swap happened
}
}  // namespace kernels::emu::detail

inline int atomicAdd(int* a, int v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }
inline float atomicAdd(float* a, float v) { return kernels::emu::detail::atomic_add_float(a, v); }
inline int atomicSub(int* a, int v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }
inline unsigned atomicSub(unsigned* a, unsigned v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }
inline int atomicExch(int* a, int v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }
inline unsigned atomicExch(unsigned* a, unsigned v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }
inline float atomicExch(float* a, float v) {
  return __uint_as_float(__atomic_exchange_n(reinterpret_cast<unsigned*>(a), __float_as_uint(v), __ATOMIC_RELAXED));
}
inline int atomicMax(int* a, int v) { return kernels::emu::detail::atomic_update(a, [v](int o) { return o > v ? o : v; }); }
inline unsigned atomicMax(unsigned* a, unsigned v) { return kernels::emu::detail::atomic_update(a, [v](unsigned o) { return o > v ? o : v; }); }
inline int atomicMin(int* a, int v) { return kernels::emu::detail::atomic_update(a, [v](int o) { return o < v ? o : v; }); }
inline unsigned atomicMin(unsigned* a, unsigned v) { return kernels::emu::detail::atomic_update(a, [v](unsigned o) { return o < v ? o : v; }); }
inline int atomicCAS(int* a, int compare, int v) { return kernels::emu::detail::atomic_cas(a, compare, v); }
inline unsigned atomicCAS(unsigned* a, unsigned compare, unsigned v) { return kernels::emu::detail::atomic_cas(a, compare, v); }
inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long compare, unsigned long long v) {
  return kernels::emu::detail::atomic_cas(a, compare, v);
}
