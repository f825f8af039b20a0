#pragma once
// Tells the emulator profiler (kernels/emu_profile.h, docs/perf.md) how many floating-point
// operations the kernel launches made while a FlopScope lives do in all: the emulator sees
// memory accesses, not arithmetic. The launches share the FLOPs in proportion to their memory
// requests; an inner scope's launches keep the inner count. Free outside ENGINE_CUDA=EMU builds.
namespace kernels {

#if defined(ENGINE_CUDA_EMULATED)
class FlopScope {
public:
  explicit FlopScope(double flops);
  ~FlopScope();
  FlopScope(const FlopScope&) = delete;
  FlopScope& operator=(const FlopScope&) = delete;

private:
  double flops_;
  unsigned long long first_;  // launches recorded before the scope began
};
#else
class FlopScope {
public:
  explicit FlopScope(double) {}
};
#endif

}  // namespace kernels
