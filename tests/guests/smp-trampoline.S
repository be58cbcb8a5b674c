/* AP start-up code: a SIPI with vector 0x08 starts each AP here in real
 * mode at 0800:0000. It counts itself and halts for good. */
	.section .trampoline, "ax"
	.code16
	.globl ap_trampoline
ap_trampoline:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	lock incw ap_count
1:	hlt
	jmp	1b

	.balign 4
	.globl ap_count
ap_count:
	.word	0
