/* Loader for tiny test guests: a static ELF executable.
 *
 * PT_LOAD segments are copied to their physical addresses (p_paddr) and the
 * rest of each segment (p_memsz > p_filesz) is zeroed. The entry state
 * depends on the class:
 *   ELF64 (EM_X86_64): 64-bit long mode, first 4 GiB identity mapped, the
 *     boot GDT (CS 0x10, data 0x18), interrupts off; see boot-cpu.h.
 *   ELF32 (EM_386): flat 32-bit protected mode, paging off (CS 0x08, data
 *     0x18), EAX = 0x2badb002 and EBX = 0 as a multiboot loader would leave
 *     them, so one multiboot-headed ELF32 boots here and under QEMU -kernel.
 * RSP/ESP is 0: the guest sets up its own stack. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/cpu-state.h"
#include "vmm-core/guest-ram.h"

bool elf_load (GuestRam *ram, const uint8_t *img, size_t len, CpuState *bsp, GError **error);
