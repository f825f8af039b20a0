// Stackful fiber switch for x86-64 System V (see kernels/emu/fiber.h).
// Saves the six callee-saved integer registers on the old stack, swaps stack pointers and
// returns with `pop rcx; jmp *rcx`: an indirect jump the branch-target buffer predicts, where
// `ret` would mispredict on every switch because it returns to a call site on another stack
// (3 ns against 10 ns per switch, docs/emulator.md). MXCSR and the x87 control word are not
// saved: kernels never change rounding modes.
#if defined(__x86_64__)
        .text
        .globl  emu_fiber_switch
        .type   emu_fiber_switch, @function
        .p2align 4
// void emu_fiber_switch(void** save_sp, void* next_sp)
emu_fiber_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        popq    %rcx
        jmp     *%rcx
        .cfi_endproc
        .size   emu_fiber_switch, .-emu_fiber_switch

// First code a new fiber runs: r12 holds the argument, r13 the entry function, which never
// returns (ud2 traps if it does).
        .globl  emu_fiber_trampoline
        .type   emu_fiber_trampoline, @function
        .p2align 4
emu_fiber_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %r12, %rdi
        callq   *%r13
        ud2
        .cfi_endproc
        .size   emu_fiber_trampoline, .-emu_fiber_trampoline
#endif
        .section .note.GNU-stack,"",@progbits
