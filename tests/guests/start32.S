/* Entry of 32-bit test guests: a multiboot (v1) header so QEMU -kernel boots
 * the same file; vireo-vmx's ELF32 loader and QEMU both enter here in flat
 * 32-bit protected mode with paging off. */
	.section .multiboot, "a"
	.balign 4
	.long	0x1badb002		/* magic */
	.long	0x00000000		/* flags: nothing requested */
	.long	-0x1badb002		/* checksum */

	.section .text.start, "ax"
	.globl _start
	.code32
_start:
	cli
	mov	$stack_top, %esp
	call	serial_init
	call	guest_main
	push	%eax
	call	guest_exit

	.section .bss
	.balign 16
	.space 16384
stack_top:
