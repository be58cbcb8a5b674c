/* Guest RAM: one memfd, mapped once in this process and shared (by fd) with
 * the engine, the display export and snapshots.
 *
 * PC memory map: RAM fills guest-physical [0, low_size); a hole for PCI MMIO,
 * the IOAPIC, the local APIC and firmware sits in [GUEST_RAM_HOLE_START, 4 GiB);
 * whatever RAM does not fit below the hole continues at 4 GiB. The memfd holds
 * the low part at offset 0 and the high part right after it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define GUEST_RAM_HOLE_START 0xC0000000ull /* 3 GiB: 32-bit PCI MMIO window */
#define GUEST_RAM_HIGH_START 0x100000000ull

typedef struct GuestRam {
  int fd;
  uint8_t *host;      /* the whole memfd, MAP_SHARED */
  uint64_t size;      /* total bytes */
  uint64_t low_size;  /* bytes at guest-physical 0 */
  uint64_t high_size; /* bytes at guest-physical 4 GiB */
} GuestRam;

/* Creates and maps `size` bytes (a multiple of 4 KiB, at least 1 MiB). Fails
 * with a clear message when the host cannot hold that much. */
bool guest_ram_init (GuestRam *ram, uint64_t size, GError **error);
void guest_ram_destroy (GuestRam *ram);

/* Host pointer for guest-physical [gpa, gpa + len), or NULL unless the whole
 * range is RAM (not straddling the hole, not overflowing). len 0 is invalid. */
void *guest_ram_ptr (const GuestRam *ram, uint64_t gpa, uint64_t len);

/* Offset in the memfd of guest-physical gpa, or -1 if gpa is not RAM. */
int64_t guest_ram_offset (const GuestRam *ram, uint64_t gpa);

/* Copy helpers; false (and nothing copied) unless the range is all RAM. */
bool guest_ram_read (const GuestRam *ram, uint64_t gpa, void *buf, uint64_t len);
bool guest_ram_write (GuestRam *ram, uint64_t gpa, const void *buf, uint64_t len);

/* Parses "512M", "2G", "1048576" (bytes; K/M/G/T suffixes, binary). */
bool guest_ram_parse_size (const char *text, uint64_t *size, GError **error);
