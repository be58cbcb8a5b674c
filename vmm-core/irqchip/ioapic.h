/* 82093AA-style I/O APIC at 0xfec00000: IOREGSEL (0x00) / IOWIN (0x10) and
 * the EOI register (0x40, version 0x20 parts), 24 redirection entries that
 * become messages on the APIC bus. State follows kvm_ioapic_state.
 * Runs under the machine's device lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/irqchip/apic-bus.h"

typedef struct IoBus IoBus;
typedef struct SnapWriter SnapWriter;
typedef struct SnapReader SnapReader;

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_MMIO_SIZE 0x1000
#define IOAPIC_NUM_PINS 24
#define IOAPIC_VERSION 0x20

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR 0xffull
#define IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define IOAPIC_RTE_DELIVERY_STATUS (1ull << 12)
#define IOAPIC_RTE_POLARITY_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)

typedef struct Ioapic {
  ApicBus *bus;
  uint64_t base_address;
  uint32_t ioregsel;
  uint32_t id;  /* bits 27:24 of the ID register */
  uint32_t irr;   /* pins asserted */
  uint32_t level; /* input levels: logical (true = asserted), so the
                     polarity bit is kept for the guest but not applied */
  uint64_t redirtbl[IOAPIC_NUM_PINS];
} Ioapic;

/* mmio NULL: not registered (tests call ioapic_mmio_read/write). */
Ioapic *ioapic_new (IoBus *mmio, ApicBus *bus);
void ioapic_free (Ioapic *io);
void ioapic_unregister (Ioapic *io, IoBus *mmio);
void ioapic_reset (Ioapic *io);

void ioapic_set_irq (Ioapic *io, unsigned pin, bool level);
/* A LAPIC EOI'd `vector` for a level-triggered interrupt. */
void ioapic_eoi (Ioapic *io, uint8_t vector);

uint64_t ioapic_mmio_read (void *io, uint64_t offset, unsigned size);
void ioapic_mmio_write (void *io, uint64_t offset, uint64_t value, unsigned size);

void ioapic_save (Ioapic *io, SnapWriter *w); /* section "ioapic" */
bool ioapic_load (Ioapic *io, SnapReader *r, GError **error);
