// Stackful fiber switch for AArch64 (AAPCS64), the counterpart of fiber_x86_64.S.
// Frame of 176 bytes: x19-x28, x29 (fp), x30 (lr), d8-d15; sp stays 16-byte aligned.
// Returns with `br x30` rather than `ret` for the same branch-predictor reason as on x86-64.
#if defined(__aarch64__)
        .text
        .globl  emu_fiber_switch
        .type   emu_fiber_switch, %function
        .p2align 4
// void emu_fiber_switch(void** save_sp, void* next_sp)
emu_fiber_switch:
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        br      x30
        .size   emu_fiber_switch, .-emu_fiber_switch

// First code a new fiber runs: x19 holds the argument, x20 the entry function.
        .globl  emu_fiber_trampoline
        .type   emu_fiber_trampoline, %function
        .p2align 4
emu_fiber_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x0, x19
        blr     x20
        brk     #0
        .cfi_endproc
        .size   emu_fiber_trampoline, .-emu_fiber_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
