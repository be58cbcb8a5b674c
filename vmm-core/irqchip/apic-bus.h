/* The APIC bus: interrupt messages between local APICs, the IOAPIC and MSI.
 *
 * Every interrupt that reaches a local APIC travels as an ApicMessage: IPIs
 * from a LAPIC's ICR, IOAPIC redirection entries and PCI MSI writes. The bus
 * resolves the destination (physical ID, logical flat/cluster, broadcast,
 * lowest priority = one of the matches) and hands the message to each target
 * LAPIC, then kicks that vCPU so a halted or running CPU notices.
 *
 * Level-triggered EOIs travel the other way: a LAPIC's EOI of a vector whose
 * TMR bit is set is broadcast to the IOAPIC through the bus.
 *
 * All functions run under the machine's device lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Lapic Lapic;
typedef struct ApicBus ApicBus;

/* Delivery modes (ICR / redirection entry / MSI data bits 10:8). */
typedef enum {
  APIC_DM_FIXED = 0,
  APIC_DM_LOWEST = 1,
  APIC_DM_SMI = 2,
  APIC_DM_NMI = 4,
  APIC_DM_INIT = 5,
  APIC_DM_SIPI = 6,
  APIC_DM_EXTINT = 7,
} ApicDeliveryMode;

/* ICR destination shorthand (bits 19:18). */
typedef enum {
  APIC_SH_NONE = 0,
  APIC_SH_SELF = 1,
  APIC_SH_ALL = 2,
  APIC_SH_ALL_BUT_SELF = 3,
} ApicShorthand;

typedef struct ApicMessage {
  uint32_t dest;         /* APIC ID or logical MDA (8 bits xAPIC, 32 bits x2APIC) */
  uint8_t vector;
  uint8_t delivery_mode; /* ApicDeliveryMode */
  uint8_t shorthand;     /* ApicShorthand */
  bool dest_logical;
  bool level_trigger;    /* trigger mode: sets the TMR bit on acceptance */
  bool level_assert;     /* false only for "INIT level de-assert" */
  bool x2apic_dest;      /* dest is a 32-bit x2APIC destination (0xffffffff = all) */
  int source;            /* sending vCPU index (for self / all-but-self), or -1 */
} ApicMessage;

typedef void (*ApicKickFn) (void *opaque, unsigned cpu);
/* A LAPIC EOI'd a level-triggered vector (IOAPIC clears remote IRR). */
typedef void (*ApicEoiFn) (void *opaque, uint8_t vector);

ApicBus *apic_bus_new (unsigned ncpus, ApicKickFn kick, void *kick_opaque);
void apic_bus_free (ApicBus *bus);
unsigned apic_bus_ncpus (const ApicBus *bus);
/* Plugs LAPIC `cpu` into slot cpu (lapic_new does this itself). */
void apic_bus_attach (ApicBus *bus, unsigned cpu, Lapic *lapic);
Lapic *apic_bus_lapic (ApicBus *bus, unsigned cpu);
void apic_bus_set_eoi_listener (ApicBus *bus, ApicEoiFn fn, void *opaque);

/* Deliver one message; returns how many LAPICs accepted it. */
unsigned apic_bus_deliver (ApicBus *bus, const ApicMessage *msg);
/* Level-triggered EOI broadcast (called by the LAPIC). */
void apic_bus_broadcast_eoi (ApicBus *bus, uint8_t vector);
/* Wake vCPU `cpu` (called by LAPICs when an event becomes pending). */
void apic_bus_kick (ApicBus *bus, unsigned cpu);

/* MSI: address 0xFEExxxxx (dest ID bits 19:12, RH bit 3, DM bit 2), data
 * (vector 7:0, delivery mode 10:8, level-assert 14, trigger 15). False (and
 * nothing delivered) for an address outside the interrupt window. */
bool apic_msi_decode (uint64_t address, uint32_t data, ApicMessage *msg);
bool apic_bus_send_msi (ApicBus *bus, uint64_t address, uint32_t data);
