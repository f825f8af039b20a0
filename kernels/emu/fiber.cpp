// Fiber stacks and initial contexts (see fiber.h).
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "kernels/emu needs a fiber switch for this architecture (x86-64 and AArch64 exist)"
#endif

namespace kernels::emu::detail {

FiberStack::FiberStack(std::size_t size) : size_(size) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  mapping_ = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping_ == MAP_FAILED) throw std::bad_alloc();
  mprotect(mapping_, page, PROT_NONE);
  usable_ = static_cast<char*>(mapping_) + page;
}

FiberStack::~FiberStack() {
  munmap(mapping_, size_ + static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
}

void* FiberStack::make_context(void (*entry)(void*), void* arg, std::size_t skew) const {
  auto top = reinterpret_cast<std::uintptr_t>(usable_) + size_ - skew;
  top &= ~static_cast<std::uintptr_t>(15);
  auto* sp = reinterpret_cast<std::uint64_t*>(top - 16);
#if defined(__x86_64__)
  // Popped by emu_fiber_switch: r15 r14 r13 r12 rbx rbp, then the address it jumps to. The
  // trampoline then sees rsp = top - 16, 16-aligned before its call, as the ABI wants.
  *--sp = reinterpret_cast<std::uint64_t>(&emu_fiber_trampoline);
  *--sp = 0;                                          // rbp
  *--sp = 0;                                          // rbx
  *--sp = reinterpret_cast<std::uint64_t>(arg);       // r12
  *--sp = reinterpret_cast<std::uint64_t>(entry);     // r13
  *--sp = 0;                                          // r14
  *--sp = 0;                                          // r15
#else
  // 176-byte frame: x19..x28, x29, x30, d8..d15 (fiber_aarch64.S).
  sp -= 22;
  for (int i = 0; i < 22; ++i) sp[i] = 0;
  sp[0] = reinterpret_cast<std::uint64_t>(arg);        // x19
  sp[1] = reinterpret_cast<std::uint64_t>(entry);      // x20
  sp[11] = reinterpret_cast<std::uint64_t>(&emu_fiber_trampoline);  // x30
#endif
  return sp;
}

}  // namespace kernels::emu::detail
