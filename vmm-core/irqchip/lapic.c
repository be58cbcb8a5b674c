/* Local APIC registers, interrupt acceptance and priority (SDM vol. 3,
 * chapter 10 "Advanced Programmable Interrupt Controller"). The timer lives
 * in lapic-timer.c, state transfer in lapic-state.c. */
#include "vmm-core/irqchip/lapic.h"
#include "vmm-core/irqchip/lapic-internal.h"

#include "vmm-core/log.h"
#include "vmm-core/timer.h"

#define LVT_MASKED (1u << 16)
#define SVR_ENABLE (1u << 8)
#define VERSION_VALUE (0x14u | ((LAPIC_LVT_COUNT - 1u) << 16))

/* ESR bits. */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

/* Writable bits per LVT entry: timer (vector, mask, mode), thermal and perf
 * (vector, delivery mode, mask), LINT (also polarity and trigger), error. */
static const uint32_t lvt_write_mask[LAPIC_LVT_COUNT] = {
  0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff,
};

static int
highest_bit (const uint32_t reg[8])
{
  for (int i = 7; i >= 0; i--)
    if (reg[i])
      return i * 32 + 31 - __builtin_clz (reg[i]);
  return -1;
}

static inline void
set_bit256 (uint32_t reg[8], unsigned v)
{
  reg[v >> 5] |= 1u << (v & 31);
}

static inline void
clear_bit256 (uint32_t reg[8], unsigned v)
{
  reg[v >> 5] &= ~(1u << (v & 31));
}

static inline bool
test_bit256 (const uint32_t reg[8], unsigned v)
{
  return reg[v >> 5] & (1u << (v & 31));
}

bool
lapic_hw_enabled (const Lapic *l)
{
  return l->apic_base & LAPIC_BASE_ENABLE;
}

bool
lapic_x2apic_mode (const Lapic *l)
{
  return (l->apic_base & (LAPIC_BASE_ENABLE | LAPIC_BASE_X2APIC))
         == (LAPIC_BASE_ENABLE | LAPIC_BASE_X2APIC);
}

bool
lapic_sw_enabled (const Lapic *l)
{
  return l->svr & SVR_ENABLE;
}

uint32_t
lapic_ppr (Lapic *l)
{
  int isrv = highest_bit (l->isr);
  uint32_t isr_class = isrv < 0 ? 0 : ((uint32_t) isrv & 0xf0);
  return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

int
lapic_has_interrupt (Lapic *l)
{
  if (!lapic_hw_enabled (l))
    return -1;
  int v = highest_bit (l->irr);
  if (v < 0 || ((uint32_t) v & 0xf0) <= (lapic_ppr (l) & 0xf0))
    return -1;
  return v;
}

bool
lapic_accepts_pic (Lapic *l)
{
  if (!lapic_hw_enabled (l))
    return true;
  uint32_t lint0 = l->lvt[LAPIC_LVT_LINT0];
  return !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == APIC_DM_EXTINT;
}

static unsigned
compute_events (Lapic *l)
{
  unsigned ev = 0;
  if (lapic_has_interrupt (l) >= 0)
    ev |= LAPIC_EVENT_INTR;
  if (l->nmi_pending)
    ev |= LAPIC_EVENT_NMI;
  if (l->init_pending)
    ev |= LAPIC_EVENT_INIT;
  if (l->sipi_pending)
    ev |= LAPIC_EVENT_SIPI;
  if (l->extint_msg || (l->lint_level[0] && lapic_accepts_pic (l)))
    ev |= LAPIC_EVENT_EXTINT;
  return ev;
}

void
lapic_update (Lapic *l)
{
  unsigned ev = compute_events (l);
  unsigned old = (unsigned) g_atomic_int_get (&l->events);
  g_atomic_int_set (&l->events, (int) ev);
  if (ev & ~old)
    apic_bus_kick (l->bus, l->index);
}

void
lapic_update_events (Lapic *l)
{
  lapic_update (l);
}

unsigned
lapic_pending_events (Lapic *l)
{
  return (unsigned) g_atomic_int_get (&l->events);
}

static void
signal_error (Lapic *l, uint32_t bits)
{
  l->esr_pending |= bits;
  uint32_t lvt = l->lvt[LAPIC_LVT_ERROR];
  if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
    {
      set_bit256 (l->irr, lvt & 0xff);
      clear_bit256 (l->tmr, lvt & 0xff);
    }
}

/* Accept a fixed interrupt into IRR (vectors 0-15 are illegal). */
static void
accept_fixed (Lapic *l, uint8_t vector, bool level)
{
  if (vector < 16)
    {
      signal_error (l, ESR_RECV_ILLEGAL_VECTOR);
      return;
    }
  set_bit256 (l->irr, vector);
  if (level)
    set_bit256 (l->tmr, vector);
  else
    clear_bit256 (l->tmr, vector);
}

void
lapic_local_deliver (Lapic *l, unsigned lvt_index)
{
  uint32_t lvt = l->lvt[lvt_index];
  if (lvt & LVT_MASKED)
    return;
  unsigned mode = lvt_index == LAPIC_LVT_TIMER || lvt_index == LAPIC_LVT_ERROR
                      ? APIC_DM_FIXED
                      : (lvt >> 8) & 7;
  switch (mode)
    {
    case APIC_DM_FIXED:
      accept_fixed (l, lvt & 0xff,
                    (lvt_index == LAPIC_LVT_LINT0 || lvt_index == LAPIC_LVT_LINT1)
                        && (lvt & (1u << 15)));
      break;
    case APIC_DM_NMI:
      l->nmi_pending = true;
      break;
    case APIC_DM_EXTINT:
      break; /* LINT0's level itself is the request (see compute_events) */
    default:
      break; /* SMI / INIT via LVT: not modelled */
    }
  lapic_update (l);
}

void
lapic_deliver (Lapic *l, const ApicMessage *msg)
{
  switch (msg->delivery_mode)
    {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
      /* A software-disabled APIC drops fixed interrupts (as KVM does). */
      if (lapic_sw_enabled (l))
        accept_fixed (l, msg->vector, msg->level_trigger);
      break;
    case APIC_DM_NMI:
      l->nmi_pending = true;
      break;
    case APIC_DM_INIT:
      if (msg->level_assert || !msg->level_trigger)
        {
          l->init_pending = true;
          l->sipi_pending = false;
        }
      break;
    case APIC_DM_SIPI:
      l->sipi_pending = true;
      l->sipi_vector = msg->vector;
      break;
    case APIC_DM_EXTINT:
      l->extint_msg = true;
      break;
    case APIC_DM_SMI:
      VMM_GUEST_ERROR ("lapic", "cpu %u: SMI ignored (no SMM)", l->index);
      break;
    default:
      VMM_GUEST_ERROR ("lapic", "cpu %u: reserved delivery mode %u", l->index,
                       msg->delivery_mode);
      break;
    }
  lapic_update (l);
}

static uint32_t
x2apic_ldr (uint32_t id)
{
  return ((id >> 4) << 16) | (1u << (id & 0xf));
}

bool
lapic_match_dest (Lapic *l, const ApicMessage *msg)
{
  bool x2 = lapic_x2apic_mode (l);
  uint32_t dest = msg->dest;
  if (!msg->dest_logical)
    {
      if (msg->x2apic_dest)
        return dest == 0xffffffffu || dest == l->id;
      dest &= 0xff;
      /* 0xff broadcasts to xAPICs; an x2APIC also takes it (IOAPIC/MSI). */
      return dest == 0xff || dest == l->id;
    }
  if (x2)
    {
      uint32_t ldr = x2apic_ldr (l->id);
      if (!msg->x2apic_dest)
        {
          /* 8-bit logical messages (IOAPIC, MSI) against an x2APIC: treat
           * like flat mode on the low cluster bits, as KVM does. */
          return (dest & 0xff) == 0xff || ((ldr >> 16) == 0 && (dest & ldr & 0xff));
        }
      if (dest == 0xffffffffu)
        return true;
      return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
    }
  dest &= 0xff;
  uint32_t logical = l->ldr >> 24;
  if (dest == 0xff)
    return true;
  if ((l->dfr >> 28) == 0xf) /* flat */
    return (dest & logical) != 0;
  /* cluster: high nibble = cluster, low nibble = members */
  return (dest >> 4) == (logical >> 4) && (dest & logical & 0xf);
}

int
lapic_accept_interrupt (Lapic *l)
{
  int v = lapic_has_interrupt (l);
  if (v < 0)
    return l->svr & 0xff; /* spurious */
  clear_bit256 (l->irr, (unsigned) v);
  set_bit256 (l->isr, (unsigned) v);
  lapic_update (l);
  return v;
}

bool
lapic_take_nmi (Lapic *l)
{
  bool n = l->nmi_pending;
  l->nmi_pending = false;
  if (n)
    lapic_update (l);
  return n;
}

bool
lapic_take_init (Lapic *l)
{
  if (!l->init_pending)
    return false;
  lapic_init_reset (l);
  l->init_pending = false;
  lapic_update (l);
  return true;
}

int
lapic_take_sipi (Lapic *l)
{
  if (!l->sipi_pending)
    return -1;
  l->sipi_pending = false;
  lapic_update (l);
  return l->sipi_vector;
}

void
lapic_set_lint (Lapic *l, unsigned pin, bool level)
{
  if (pin > 1)
    return;
  bool rising = level && !l->lint_level[pin];
  l->lint_level[pin] = level;
  if (rising && !(pin == 0 && lapic_accepts_pic (l)))
    lapic_local_deliver (l, LAPIC_LVT_LINT0 + pin);
  lapic_update (l);
}

static void
do_eoi (Lapic *l)
{
  int v = highest_bit (l->isr);
  if (v < 0)
    return;
  clear_bit256 (l->isr, (unsigned) v);
  if (test_bit256 (l->tmr, (unsigned) v))
    apic_bus_broadcast_eoi (l->bus, (uint8_t) v);
  lapic_update (l);
}

static void
send_ipi (Lapic *l, uint32_t lo, uint32_t dest, bool x2)
{
  ApicMessage msg = {
    .vector = lo & 0xff,
    .delivery_mode = (lo >> 8) & 7,
    .dest_logical = (lo >> 11) & 1,
    .level_assert = (lo >> 14) & 1,
    .level_trigger = (lo >> 15) & 1,
    .shorthand = (lo >> 18) & 3,
    .dest = dest,
    .x2apic_dest = x2,
    .source = (int) l->index,
  };
  if ((msg.delivery_mode == APIC_DM_FIXED || msg.delivery_mode == APIC_DM_LOWEST)
      && msg.vector < 16)
    {
      signal_error (l, ESR_SEND_ILLEGAL_VECTOR);
      lapic_update (l);
      return;
    }
  if (msg.delivery_mode == 3 || msg.delivery_mode == APIC_DM_EXTINT)
    {
      VMM_GUEST_ERROR ("lapic", "cpu %u: IPI with reserved delivery mode %u", l->index,
                       msg.delivery_mode);
      return;
    }
  /* Fixed IPIs are edge-triggered unless the guest asks otherwise; only INIT
   * uses the level bit (de-assert). */
  if (msg.delivery_mode != APIC_DM_INIT)
    msg.level_assert = true;
  apic_bus_deliver (l->bus, &msg);
}

static void
write_svr (Lapic *l, uint32_t value)
{
  l->svr = value & 0x3ff;
  if (!lapic_sw_enabled (l))
    for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
      l->lvt[i] |= LVT_MASKED;
}

static void
write_lvt (Lapic *l, unsigned i, uint32_t value)
{
  uint32_t v = value & lvt_write_mask[i];
  if (!lapic_sw_enabled (l))
    v |= LVT_MASKED;
  if (i == LAPIC_LVT_LINT0 || i == LAPIC_LVT_LINT1)
    v |= l->lvt[i] & (1u << 14); /* remote IRR is read-only */
  if (i == LAPIC_LVT_TIMER)
    {
      if (((v >> 17) & 3) == 3)
        v &= ~(1u << 18); /* reserved mode: treat as periodic */
      lapic_timer_lvt_written (l, v);
      return;
    }
  l->lvt[i] = v;
  lapic_update (l);
}

/* Registers common to both modes. Returns false for an unknown or
 * read-only register. */
static bool
read_reg (Lapic *l, uint32_t off, uint32_t *out)
{
  if (off >= LAPIC_REG_ISR && off < LAPIC_REG_ISR + 0x80)
    *out = l->isr[(off - LAPIC_REG_ISR) >> 4];
  else if (off >= LAPIC_REG_TMR && off < LAPIC_REG_TMR + 0x80)
    *out = l->tmr[(off - LAPIC_REG_TMR) >> 4];
  else if (off >= LAPIC_REG_IRR && off < LAPIC_REG_IRR + 0x80)
    *out = l->irr[(off - LAPIC_REG_IRR) >> 4];
  else if (off >= LAPIC_REG_LVT_TIMER && off <= LAPIC_REG_LVT_ERROR)
    *out = l->lvt[(off - LAPIC_REG_LVT_TIMER) >> 4];
  else
    switch (off)
      {
      case LAPIC_REG_ID:
        *out = lapic_x2apic_mode (l) ? l->id : l->id << 24;
        break;
      case LAPIC_REG_VERSION:
        *out = VERSION_VALUE;
        break;
      case LAPIC_REG_TPR:
        *out = l->tpr;
        break;
      case LAPIC_REG_APR:
        *out = 0;
        break;
      case LAPIC_REG_PPR:
        *out = lapic_ppr (l);
        break;
      case LAPIC_REG_LDR:
        *out = lapic_x2apic_mode (l) ? x2apic_ldr (l->id) : l->ldr;
        break;
      case LAPIC_REG_DFR:
        *out = l->dfr;
        break;
      case LAPIC_REG_SVR:
        *out = l->svr;
        break;
      case LAPIC_REG_ESR:
        *out = l->esr;
        break;
      case LAPIC_REG_ICR_LO:
        *out = l->icr_lo;
        break;
      case LAPIC_REG_ICR_HI:
        *out = l->icr_hi;
        break;
      case LAPIC_REG_TIMER_INITIAL:
        *out = l->timer_initial;
        break;
      case LAPIC_REG_TIMER_CURRENT:
        *out = lapic_timer_current (l);
        break;
      case LAPIC_REG_TIMER_DIVIDE:
        *out = l->timer_divide;
        break;
      case LAPIC_REG_EOI:
      case LAPIC_REG_RRD:
        *out = 0;
        break;
      default:
        return false;
      }
  return true;
}

uint32_t
lapic_read (Lapic *l, uint32_t offset)
{
  uint32_t v = 0;
  offset &= 0xff0;
  if (!read_reg (l, offset, &v))
    {
      VMM_GUEST_ERROR ("lapic", "cpu %u: read of reserved register 0x%x", l->index, offset);
      signal_error (l, ESR_ILLEGAL_REGISTER);
      lapic_update (l);
      return 0;
    }
  return v;
}

/* Register writes shared by xAPIC MMIO and x2APIC MSRs (ID, LDR, DFR, ICR
 * differ and are handled by the callers). */
static bool
write_common (Lapic *l, uint32_t off, uint32_t value)
{
  if (off >= LAPIC_REG_LVT_TIMER && off <= LAPIC_REG_LVT_ERROR)
    {
      write_lvt (l, (off - LAPIC_REG_LVT_TIMER) >> 4, value);
      return true;
    }
  switch (off)
    {
    case LAPIC_REG_TPR:
      l->tpr = value & 0xff;
      lapic_update (l);
      return true;
    case LAPIC_REG_EOI:
      do_eoi (l);
      return true;
    case LAPIC_REG_SVR:
      write_svr (l, value);
      lapic_update (l);
      return true;
    case LAPIC_REG_ESR:
      l->esr = l->esr_pending;
      l->esr_pending = 0;
      return true;
    case LAPIC_REG_TIMER_INITIAL:
      lapic_timer_initial_written (l, value);
      return true;
    case LAPIC_REG_TIMER_DIVIDE:
      lapic_timer_divide_written (l, value & 0xb);
      return true;
    default:
      return false;
    }
}

void
lapic_write (Lapic *l, uint32_t offset, uint32_t value)
{
  offset &= 0xff0;
  if (lapic_x2apic_mode (l))
    {
      /* In x2APIC mode the MMIO page is gone (SDM 10.12.2). */
      VMM_GUEST_ERROR ("lapic", "cpu %u: MMIO write in x2APIC mode", l->index);
      return;
    }
  switch (offset)
    {
    case LAPIC_REG_ID:
      l->id = value >> 24;
      return;
    case LAPIC_REG_LDR:
      l->ldr = value & 0xff000000u;
      return;
    case LAPIC_REG_DFR:
      l->dfr = value | 0x0fffffffu;
      return;
    case LAPIC_REG_ICR_HI:
      l->icr_hi = value & 0xff000000u;
      return;
    case LAPIC_REG_ICR_LO:
      l->icr_lo = value & 0x000ccfffu; /* delivery status reads idle */
      send_ipi (l, l->icr_lo, l->icr_hi >> 24, false);
      return;
    default:
      if (write_common (l, offset, value))
        return;
    }
  uint32_t dummy;
  if (read_reg (l, offset, &dummy))
    return; /* read-only register: writes are ignored */
  VMM_GUEST_ERROR ("lapic", "cpu %u: write 0x%x to reserved register 0x%x", l->index, value,
                   offset);
  signal_error (l, ESR_ILLEGAL_REGISTER);
  lapic_update (l);
}

uint64_t
lapic_mmio_read (void *opaque, uint64_t offset, unsigned size)
{
  Lapic *l = opaque;
  if (offset >= 0x1000 || size == 0 || size > 8)
    return 0;
  if (lapic_x2apic_mode (l) || !lapic_hw_enabled (l))
    return 0;
  if (size == 8)
    return lapic_mmio_read (l, offset, 4) | (lapic_mmio_read (l, offset + 4, 4) << 32);
  unsigned shift = (offset & 3) * 8;
  if ((offset & 0xf) >= 4)
    return 0; /* bytes 4-15 of each 16-byte slot are reserved */
  uint64_t v = lapic_read (l, (uint32_t) offset & 0xff0) >> shift;
  return size == 4 ? v & 0xffffffffu : v & ((1ull << (size * 8)) - 1);
}

void
lapic_mmio_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  Lapic *l = opaque;
  if (offset >= 0x1000 || !lapic_hw_enabled (l))
    return;
  if (size != 4 || (offset & 0xf) != 0)
    {
      /* The SDM requires aligned 32-bit accesses; others are undefined. */
      VMM_GUEST_ERROR ("lapic", "cpu %u: %u-byte write at 0x%x dropped", l->index, size,
                       (unsigned) offset);
      return;
    }
  lapic_write (l, (uint32_t) offset, (uint32_t) value);
}

bool
lapic_msr_read (Lapic *l, uint32_t msr, uint64_t *value)
{
  *value = 0;
  if (!lapic_x2apic_mode (l) || msr < 0x800 || msr > 0x8ff)
    return false;
  uint32_t off = (msr - 0x800) << 4;
  if (off == LAPIC_REG_ICR_LO)
    {
      *value = l->icr_lo | ((uint64_t) l->icr_hi << 32);
      return true;
    }
  uint32_t v;
  if (off == LAPIC_REG_DFR || off == LAPIC_REG_ICR_HI || off == LAPIC_REG_EOI
      || off == LAPIC_REG_APR || off == LAPIC_REG_RRD || !read_reg (l, off, &v))
    return false;
  *value = v;
  return true;
}

bool
lapic_msr_write (Lapic *l, uint32_t msr, uint64_t value)
{
  if (!lapic_x2apic_mode (l) || msr < 0x800 || msr > 0x8ff)
    return false;
  uint32_t off = (msr - 0x800) << 4;
  if (off == LAPIC_REG_ICR_LO)
    {
      if (value & 0xfff33000ull) /* reserved bits of the low half */
        return false;
      l->icr_lo = (uint32_t) value & 0x000ccfffu;
      l->icr_hi = (uint32_t) (value >> 32);
      send_ipi (l, l->icr_lo, l->icr_hi, true);
      return true;
    }
  if (value >> 32)
    return false;
  uint32_t v = (uint32_t) value;
  switch (off)
    {
    case LAPIC_REG_SELF_IPI:
      if (v & ~0xffu)
        return false;
      send_ipi (l, v | (APIC_SH_SELF << 18), 0, true);
      return true;
    case LAPIC_REG_EOI:
    case LAPIC_REG_ESR:
      if (v != 0)
        return false;
      return write_common (l, off, v);
    case LAPIC_REG_TPR:
    case LAPIC_REG_SVR:
    case LAPIC_REG_TIMER_INITIAL:
    case LAPIC_REG_TIMER_DIVIDE:
      return write_common (l, off, v);
    default:
      if (off >= LAPIC_REG_LVT_TIMER && off <= LAPIC_REG_LVT_ERROR)
        return write_common (l, off, v);
      return false; /* read-only or reserved */
    }
}

uint64_t
lapic_get_apic_base (Lapic *l)
{
  return l->apic_base;
}

bool
lapic_set_apic_base (Lapic *l, uint64_t value)
{
  const uint64_t reserved = 0xfff00000000002ffull; /* MAXPHYADDR 52 */
  if (value & reserved)
    return false;
  bool en = value & LAPIC_BASE_ENABLE, x2 = value & LAPIC_BASE_X2APIC;
  if (x2 && !en)
    return false; /* invalid state */
  if (lapic_x2apic_mode (l) && en && !x2)
    return false; /* x2APIC -> xAPIC needs a disable first */
  bool was_enabled = lapic_hw_enabled (l);
  bool bsp = value & LAPIC_BASE_BSP;
  if (was_enabled && !en)
    {
      /* Disabling returns the LAPIC to its reset state (SDM 10.4.3). */
      uint32_t id = l->id;
      lapic_reset (l, bsp);
      l->id = id;
    }
  if (x2 && !lapic_x2apic_mode (l))
    l->ldr = x2apic_ldr (l->id);
  l->apic_base = value;
  lapic_update (l);
  return true;
}

void
lapic_restore_apic_base (Lapic *l, uint64_t value)
{
  value &= ~0xfff00000000002ffull;
  if ((value & (LAPIC_BASE_ENABLE | LAPIC_BASE_X2APIC)) == LAPIC_BASE_X2APIC)
    value &= ~LAPIC_BASE_X2APIC;
  l->apic_base = value;
  lapic_update (l);
}

uint64_t
lapic_get_cr8 (Lapic *l)
{
  return (l->tpr >> 4) & 0xf;
}

void
lapic_set_cr8 (Lapic *l, uint64_t cr8)
{
  l->tpr = (uint32_t) (cr8 & 0xf) << 4;
  lapic_update (l);
}

/* Reset the registers an INIT or reset clears (ID and base survive). */
void
lapic_init_reset (Lapic *l)
{
  l->tpr = 0;
  l->ldr = 0;
  l->dfr = 0xffffffffu;
  l->svr = 0xff;
  l->esr = l->esr_pending = 0;
  l->icr_lo = l->icr_hi = 0;
  for (unsigned i = 0; i < 8; i++)
    l->isr[i] = l->tmr[i] = l->irr[i] = 0;
  for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
    l->lvt[i] = LVT_MASKED;
  /* Firmware leaves the BSP's LINT0 in virtual-wire mode (ExtINT); a direct
   * kernel boot relies on that, as under KVM and QEMU. */
  if (l->apic_base & LAPIC_BASE_BSP)
    l->lvt[LAPIC_LVT_LINT0] = APIC_DM_EXTINT << 8;
  l->timer_initial = 0;
  l->timer_divide = 0;
  l->timer_start = 0;
  l->tsc_deadline = 0;
  l->deadline_ns = 0;
  if (l->timer)
    vmm_timer_del (l->timer);
  l->nmi_pending = l->sipi_pending = l->extint_msg = false;
  l->sipi_vector = 0;
}

void
lapic_reset (Lapic *l, bool bsp)
{
  l->apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE | (bsp ? LAPIC_BASE_BSP : 0);
  l->id = l->index;
  lapic_init_reset (l);
  l->init_pending = false;
  /* lint_level stays: it is the wire's state, not the APIC's. */
  lapic_update (l);
}

Lapic *
lapic_new (ApicBus *bus, unsigned index, TimerQueue *timers, bool bsp)
{
  Lapic *l = g_new0 (Lapic, 1);
  l->index = index;
  l->bus = bus;
  l->timers = timers;
  l->tsc_hz = 1000000000ull;
  l->timer = vmm_timer_new (timers, lapic_timer_fire, l);
  lapic_reset (l, bsp);
  apic_bus_attach (bus, index, l);
  return l;
}

void
lapic_free (Lapic *l)
{
  if (!l)
    return;
  if (apic_bus_lapic (l->bus, l->index) == l)
    apic_bus_attach (l->bus, l->index, NULL);
  vmm_timer_free (l->timer);
  g_free (l);
}
