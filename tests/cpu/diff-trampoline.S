/* diff_trampoline (DiffRegs *regs, void *code): load every register from
 * regs, call code (the instruction followed by RET), store them back. */
        .text
        .globl diff_trampoline
        .type diff_trampoline, @function
diff_trampoline:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        push %rdi
        mov %rsi, diff_code_ptr(%rip)
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu 208+16*\n(%rdi), %xmm\n
        .endr
        .irp n, 0,1,2,3,4,5,6,7
        movq 144+8*\n(%rdi), %mm\n
        .endr
        ldmxcsr 136(%rdi)
        pushq 128(%rdi)
        popfq
        mov 0(%rdi), %rax
        mov 8(%rdi), %rcx
        mov 16(%rdi), %rdx
        mov 24(%rdi), %rbx
        mov 40(%rdi), %rbp
        mov 48(%rdi), %rsi
        mov 64(%rdi), %r8
        mov 72(%rdi), %r9
        mov 80(%rdi), %r10
        mov 88(%rdi), %r11
        mov 96(%rdi), %r12
        mov 104(%rdi), %r13
        mov 112(%rdi), %r14
        mov 120(%rdi), %r15
        mov 56(%rdi), %rdi
        call *diff_code_ptr(%rip)
        push %rdi
        mov 8(%rsp), %rdi
        mov %rax, 0(%rdi)
        mov %rcx, 8(%rdi)
        mov %rdx, 16(%rdi)
        mov %rbx, 24(%rdi)
        mov %rbp, 40(%rdi)
        mov %rsi, 48(%rdi)
        mov %r8, 64(%rdi)
        mov %r9, 72(%rdi)
        mov %r10, 80(%rdi)
        mov %r11, 88(%rdi)
        mov %r12, 96(%rdi)
        mov %r13, 104(%rdi)
        mov %r14, 112(%rdi)
        mov %r15, 120(%rdi)
        pushfq
        pop %rax
        mov %rax, 128(%rdi)
        pop %rax
        mov %rax, 56(%rdi)
        cld
        stmxcsr 136(%rdi)
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu %xmm\n, 208+16*\n(%rdi)
        .endr
        .irp n, 0,1,2,3,4,5,6,7
        movq %mm\n, 144+8*\n(%rdi)
        .endr
        emms
        movl $0x1f80, -4(%rsp)
        ldmxcsr -4(%rsp)
        pop %rdi
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret
        .size diff_trampoline, .-diff_trampoline

/* diff_fx_trampoline (void *fximg, void *code, uint64_t io[3]): FXRSTOR the
 * 512-byte image, load RAX, RBX and RFLAGS from io, call code, store them
 * back, FXSAVE the image and leave the host FPU initialised. */
        .globl diff_fx_trampoline
        .type diff_fx_trampoline, @function
diff_fx_trampoline:
        push %rbx
        push %r12
        push %r13
        mov %rdx, %r12
        mov %rdi, %r13
        fxrstor64 (%r13)
        mov 0(%r12), %rax
        mov 8(%r12), %rbx
        pushq 16(%r12)
        popfq
        call *%rsi
        pushfq
        popq 16(%r12)
        mov %rax, 0(%r12)
        mov %rbx, 8(%r12)
        cld
        fxsave64 (%r13)
        fninit
        movl $0x1f80, -4(%rsp)
        ldmxcsr -4(%rsp)
        pop %r13
        pop %r12
        pop %rbx
        ret
        .size diff_fx_trampoline, .-diff_fx_trampoline

        .data
        .align 8
diff_code_ptr:
        .quad 0
        .section .note.GNU-stack,"",@progbits
