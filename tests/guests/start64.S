/* Entry of 64-bit test guests: the loader left us in long mode with the
 * first 4 GiB identity mapped. Set a stack, run guest_main, exit with its
 * result through the test device. */
	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	lea	stack_top(%rip), %rsp
	call	serial_init
	call	guest_main
	mov	%eax, %edi
	call	guest_exit

	.section .bss
	.balign 16
	.space 16384
stack_top:
