#pragma once
// Stackful fibers for the emulator: mmap'd stacks with a guard page and the hand-written
// context switch of fiber_x86_64.S / fiber_aarch64.S (no system call, no signal mask, no
// setjmp). A fiber never migrates to another OS thread: compiled code caches TLS addresses
// and __shared__ is thread_local.
#include <cstddef>

extern "C" {
// Saves the callee-saved registers on the current stack, stores its stack pointer in
// *save_sp, and resumes the context whose stack pointer is next_sp.
void emu_fiber_switch(void** save_sp, void* next_sp);
void emu_fiber_trampoline();
}

namespace kernels::emu::detail {

// Stack of one fiber: `size` usable bytes above a PROT_NONE guard page, so an overflow
// faults instead of corrupting the neighbour's stack.
class FiberStack {
public:
  explicit FiberStack(std::size_t size);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;
  void* bottom() const { return usable_; }
  std::size_t size() const { return size_; }
  // A fresh context that calls entry(arg) when first switched to; entry must never return.
  // `skew` bytes are left unused at the top: stacks that all started at the same offset in
  // their mappings would put every fiber's hot frames in the same cache sets.
  void* make_context(void (*entry)(void*), void* arg, std::size_t skew) const;

private:
  void* mapping_ = nullptr;
  void* usable_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace kernels::emu::detail
