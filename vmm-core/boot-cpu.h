/* The CPU state a loader hands to the first instruction of a guest:
 * 64-bit long mode with identity-mapped page tables (Linux 64-bit boot
 * protocol, ELF64 test guests) or flat 32-bit protected mode without paging
 * (multiboot-style ELF32 test guests).
 *
 * Low memory the loaders use (all below 640K, all outside a kernel's way):
 *   0x0500  GDT: 0x08 flat 32-bit code, 0x10 64-bit code, 0x18 flat data
 *   0x7000  Linux boot_params (zero page)
 *   0x9000  PML4, 0xa000 PDPT, 0xb000-0xefff four page directories
 *           (identity map of the first 4 GiB with 2 MiB pages)
 *   0x20000 Linux command line (up to 64 KiB) */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/cpu-state.h"
#include "vmm-core/guest-ram.h"

#define BOOT_GDT_ADDR 0x500
#define BOOT_ZERO_PAGE_ADDR 0x7000
#define BOOT_PML4_ADDR 0x9000
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_CS32 0x08
#define BOOT_CS64 0x10
#define BOOT_DS 0x18

/* Writes the GDT and page tables into RAM and sets s (already reset) to
 * 64-bit mode at `entry`. False if RAM is too small for them. */
bool boot_cpu_long_mode (GuestRam *ram, CpuState *s, uint64_t entry);
/* Writes the GDT and sets s to flat 32-bit protected mode at `entry`. */
bool boot_cpu_protected_mode (GuestRam *ram, CpuState *s, uint32_t entry);
