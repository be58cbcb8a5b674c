/* Local APIC (xAPIC MMIO page and x2APIC MSRs), one per vCPU.
 *
 * The soft CPU intercepts accesses to its own APIC base page and calls
 * lapic_mmio_read/write (or lapic_read/write per 32-bit register), and routes
 * RDMSR/WRMSR 0x800-0x8ff to lapic_msr_read/write, IA32_APIC_BASE (0x1b) to
 * lapic_get/set_apic_base and IA32_TSC_DEADLINE (0x6e0) to
 * lapic_get/set_tsc_deadline. CR8 maps to lapic_get/set_cr8.
 *
 * Locking: every function runs under the machine's device lock, except
 * lapic_pending_events(), which a vCPU may poll without it between
 * instructions (it reads one atomic word) and take the lock only when it
 * is non-zero.
 *
 * The timer counts the APIC bus clock, 1 GHz (1 ns per tick before the
 * divider, like KVM), on the virtual clock; the TSC-deadline timer converts
 * TSC ticks at the rate given by lapic_set_tsc_hz(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/irqchip/apic-bus.h"

typedef struct TimerQueue TimerQueue;
typedef struct VmmTimer VmmTimer;
typedef struct SnapWriter SnapWriter;
typedef struct SnapReader SnapReader;

#define LAPIC_DEFAULT_BASE 0xfee00000u
#define LAPIC_PAGE_SIZE 1024 /* saved register page, as kvm_lapic_state */
/* Periodic timers never re-arm faster than this (as KVM's floor keeps a
 * hostile guest from flooding the timer thread). */
#define LAPIC_MIN_PERIOD_NS 100000

/* Register offsets in the xAPIC page. */
enum {
  LAPIC_REG_ID = 0x20, LAPIC_REG_VERSION = 0x30, LAPIC_REG_TPR = 0x80,
  LAPIC_REG_APR = 0x90, LAPIC_REG_PPR = 0xa0, LAPIC_REG_EOI = 0xb0,
  LAPIC_REG_RRD = 0xc0, LAPIC_REG_LDR = 0xd0, LAPIC_REG_DFR = 0xe0,
  LAPIC_REG_SVR = 0xf0, LAPIC_REG_ISR = 0x100, LAPIC_REG_TMR = 0x180,
  LAPIC_REG_IRR = 0x200, LAPIC_REG_ESR = 0x280, LAPIC_REG_ICR_LO = 0x300,
  LAPIC_REG_ICR_HI = 0x310, LAPIC_REG_LVT_TIMER = 0x320,
  LAPIC_REG_LVT_THERMAL = 0x330, LAPIC_REG_LVT_PERF = 0x340,
  LAPIC_REG_LVT_LINT0 = 0x350, LAPIC_REG_LVT_LINT1 = 0x360,
  LAPIC_REG_LVT_ERROR = 0x370, LAPIC_REG_TIMER_INITIAL = 0x380,
  LAPIC_REG_TIMER_CURRENT = 0x390, LAPIC_REG_TIMER_DIVIDE = 0x3e0,
  LAPIC_REG_SELF_IPI = 0x3f0, /* x2APIC only */
};

enum { LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF, LAPIC_LVT_LINT0,
       LAPIC_LVT_LINT1, LAPIC_LVT_ERROR, LAPIC_LVT_COUNT };

/* IA32_APIC_BASE bits. */
#define LAPIC_BASE_BSP (1ull << 8)
#define LAPIC_BASE_X2APIC (1ull << 10)
#define LAPIC_BASE_ENABLE (1ull << 11)

/* lapic_pending_events() bits. */
enum {
  LAPIC_EVENT_INTR = 1u << 0,   /* a fixed interrupt beats the PPR */
  LAPIC_EVENT_NMI = 1u << 1,
  LAPIC_EVENT_INIT = 1u << 2,
  LAPIC_EVENT_SIPI = 1u << 3,
  LAPIC_EVENT_EXTINT = 1u << 4, /* the PIC's INTR reaches this CPU (LINT0 ExtINT
                                   or LAPIC hardware-disabled): see user-irqchip */
};

typedef enum {
  LAPIC_TIMER_ONESHOT = 0,
  LAPIC_TIMER_PERIODIC = 1,
  LAPIC_TIMER_TSC_DEADLINE = 2,
} LapicTimerMode;

struct Lapic {
  unsigned index; /* vCPU index (slot on the bus) */
  ApicBus *bus;
  TimerQueue *timers;
  VmmTimer *timer;

  uint64_t apic_base;
  uint32_t id; /* APIC ID (8 bits in xAPIC mode) */
  uint32_t tpr, ldr, dfr, svr;
  uint32_t esr;         /* readable ESR (latched at the last ESR write) */
  uint32_t esr_pending; /* errors since */
  uint32_t icr_lo, icr_hi;
  uint32_t isr[8], tmr[8], irr[8];
  uint32_t lvt[LAPIC_LVT_COUNT];
  uint32_t timer_initial;
  uint32_t timer_divide; /* raw divide configuration register */
  int64_t timer_start;   /* vclock when the count was (re)loaded */
  int64_t deadline_ns;   /* TSC-deadline mode: vclock the deadline maps to */
  uint64_t tsc_deadline; /* IA32_TSC_DEADLINE; 0 = disarmed */
  uint64_t tsc_hz;

  bool nmi_pending;
  bool init_pending;
  bool sipi_pending;
  uint8_t sipi_vector;
  bool lint_level[2];
  bool extint_msg; /* an ExtINT message (IOAPIC) awaits the PIC's INTA */

  int events; /* LAPIC_EVENT_* bits, atomic */
};

Lapic *lapic_new (ApicBus *bus, unsigned index, TimerQueue *timers, bool bsp);
void lapic_free (Lapic *l);
/* Power-on / RESET state (ID = index, BSP's LINT0 = ExtINT as firmware
 * leaves it, like KVM and QEMU). */
void lapic_reset (Lapic *l, bool bsp);

/* xAPIC page: offset 0..0xfff; size 1/2/4/8 (sub-register accesses see the
 * bytes of the 32-bit register; 8-byte accesses split in two). */
uint64_t lapic_mmio_read (void *lapic, uint64_t offset, unsigned size);
void lapic_mmio_write (void *lapic, uint64_t offset, uint64_t value, unsigned size);
/* One 32-bit register at a 16-byte aligned offset. */
uint32_t lapic_read (Lapic *l, uint32_t offset);
void lapic_write (Lapic *l, uint32_t offset, uint32_t value);

/* x2APIC MSRs 0x800-0x8ff. False = the CPU raises #GP (not in x2APIC mode,
 * reserved register, write to read-only, reserved bits). */
bool lapic_msr_read (Lapic *l, uint32_t msr, uint64_t *value);
bool lapic_msr_write (Lapic *l, uint32_t msr, uint64_t value);

uint64_t lapic_get_apic_base (Lapic *l);
/* False = #GP (reserved bits, illegal xAPIC/x2APIC transition). */
bool lapic_set_apic_base (Lapic *l, uint64_t value);
/* State restore (vcpu_set_state, before lapic_set_page): takes the value
 * as is, without the guest's transition rules (reserved bits dropped). */
void lapic_restore_apic_base (Lapic *l, uint64_t value);
bool lapic_hw_enabled (const Lapic *l);
bool lapic_x2apic_mode (const Lapic *l);
bool lapic_sw_enabled (const Lapic *l);

/* CR8 = TPR[7:4]. */
uint64_t lapic_get_cr8 (Lapic *l);
void lapic_set_cr8 (Lapic *l, uint64_t cr8);

/* TSC-deadline timer. tsc_now: the vCPU's TSC at this moment. Writing 0
 * disarms; a deadline in the past fires at once. Ignored unless the LVT
 * timer is in TSC-deadline mode. */
void lapic_set_tsc_hz (Lapic *l, uint64_t tsc_hz);
uint64_t lapic_get_tsc_deadline (Lapic *l);
void lapic_set_tsc_deadline (Lapic *l, uint64_t deadline, uint64_t tsc_now);

/* The CPU side. */
unsigned lapic_pending_events (Lapic *l); /* lock-free hint, LAPIC_EVENT_* */
/* Highest deliverable fixed vector (IRR above PPR), or -1. */
int lapic_has_interrupt (Lapic *l);
/* INTA: moves the vector IRR -> ISR and returns it; the spurious vector if
 * nothing is deliverable any more. */
int lapic_accept_interrupt (Lapic *l);
bool lapic_take_nmi (Lapic *l);
/* An INIT arrived: the LAPIC resets itself (keeping ID and base) and the
 * vCPU must enter wait-for-SIPI (CPU_MP_INIT_RECEIVED). */
bool lapic_take_init (Lapic *l);
/* A SIPI arrived: start vector (CS = vector << 8, IP = 0), or -1. The CPU
 * ignores it unless it is waiting for SIPI. */
int lapic_take_sipi (Lapic *l);

/* Local interrupt pins (LINT0 = 0, LINT1 = 1), level-sensitive. */
void lapic_set_lint (Lapic *l, unsigned pin, bool level);
/* Does LVT LINT0 pass the PIC's INTR (ExtINT, unmasked) or is the LAPIC
 * hardware-disabled (INTR wired straight to the CPU)? */
bool lapic_accepts_pic (Lapic *l);

/* Recompute the lock-free event word after changing fields directly. */
void lapic_update_events (Lapic *l);

/* Called by the bus: accept one message addressed to this LAPIC. */
void lapic_deliver (Lapic *l, const ApicMessage *msg);
/* Destination matching for the bus. */
bool lapic_match_dest (Lapic *l, const ApicMessage *msg);
/* Processor priority (for lowest-priority arbitration). */
uint32_t lapic_ppr (Lapic *l);

/* State: the 1 KiB xAPIC register page (CpuState.lapic), read in the mode
 * IA32_APIC_BASE selects (set the base first; x2APIC pages hold a 32-bit
 * ID). The timer restarts from the page's current count (0x390) ... */
void lapic_get_page (Lapic *l, uint8_t page[LAPIC_PAGE_SIZE]);
void lapic_set_page (Lapic *l, const uint8_t page[LAPIC_PAGE_SIZE]);
/* ... and the section "lapic.N": page + base + timer + pending events. */
void lapic_save (Lapic *l, SnapWriter *w);
bool lapic_load (Lapic *l, SnapReader *r, GError **error);
