/* The guest's physical memory map as the BIOS E820 call would report it,
 * for boot_params and firmware tables. */
#pragma once

#include <stdint.h>

#include "vmm-core/guest-ram.h"

enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };

#define E820_MAX_ENTRIES 16
#define E820_LOW_RAM_END 0x9fc00ull     /* conventional memory (EBDA above) */
#define E820_HIGH_MEMORY 0x100000ull    /* 1 MiB */
/* KVM's identity map and TSS pages, reserved so a guest never puts a BAR there. */
#define E820_KVM_PRIVATE_BASE 0xfeffc000ull
#define E820_KVM_PRIVATE_SIZE 0x4000ull

typedef struct E820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
} E820Entry;

/* Fills `out` (sorted, non-overlapping) and returns the entry count:
 * RAM below 640K, reserved 640K-1M, RAM from 1M to the end of low RAM, the
 * KVM private pages, RAM above 4G. [acpi_base, acpi_base + acpi_size) (size
 * 0 for none) is typed ACPI: it must lie in 640K-1M or at the top of low RAM
 * (which it then takes from the RAM entry). */
unsigned e820_build (const GuestRam *ram, uint64_t acpi_base, uint64_t acpi_size,
                     E820Entry *out, unsigned max);
