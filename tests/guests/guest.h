/* Tiny freestanding test guests: port I/O, COM1 output, the test device.
 * Built with -ffreestanding -nostdlib; no libc, no interrupts. */
#pragma once

#include <stdint.h>

#define TESTDEV_PIO 0x5f0
#define TESTDEV_MMIO 0xfeb00000u
#define COM1 0x3f8

static inline void outb (uint16_t port, uint8_t v) { __asm__ volatile ("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw (uint16_t port, uint16_t v) { __asm__ volatile ("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl (uint16_t port, uint32_t v) { __asm__ volatile ("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb (uint16_t port) { uint8_t v; __asm__ volatile ("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw (uint16_t port) { uint16_t v; __asm__ volatile ("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl (uint16_t port) { uint32_t v; __asm__ volatile ("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rdtsc (void) { uint32_t lo, hi; __asm__ volatile ("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t) hi << 32 | lo; }
static inline void pause (void) { __asm__ volatile ("pause"); }

static inline uint32_t mmio_read32 (uintptr_t a) { return *(volatile uint32_t *) a; }
static inline void mmio_write32 (uintptr_t a, uint32_t v) { *(volatile uint32_t *) a = v; }

void serial_init (void);
void putc_ (char c);
void puts_ (const char *s);
void puthex (uint64_t v);
void putdec (uint64_t v);
/* Stops the machine through the test device: vireo-vmx exits 16 + code. */
__attribute__ ((noreturn)) void guest_exit (uint32_t code);
/* Prints "FAIL: what" and exits with code. */
__attribute__ ((noreturn)) void fail (const char *what, uint32_t code);

int guest_main (void);
