/* 82093AA I/O APIC (datasheet: IOREGSEL/IOWIN, IOAPICID/VER/ARB, redirection
 * table) with the EOI register of version 0x20 parts. */
#include "vmm-core/irqchip/ioapic.h"

#include "vmm-core/io-bus.h"
#include "vmm-core/log.h"
#include "vmm-core/snapshot-stream.h"

#include <gio/gio.h>

#define IOAPIC_SECTION_VERSION 1

#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARB 0x02
#define REG_REDTBL 0x10

#define MMIO_IOREGSEL 0x00
#define MMIO_IOWIN 0x10
#define MMIO_EOI 0x40

/* Guest-writable bits of an entry: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask; destination 63:56. */
#define RTE_WRITABLE (0x000000000001afffull | 0xff00000000000000ull)

/* Inputs are logical levels (IrqLine: true = asserted), so the polarity
 * bit is stored but not applied, as in QEMU: whatever polarity the firmware
 * tables declare, a device's assertion is an assertion. */
static bool
asserted (const Ioapic *io, unsigned pin)
{
  return (io->level >> pin) & 1;
}

/* NMI, SMI, INIT and ExtINT are always edge-triggered (82093AA); the
 * trigger bit only counts for fixed and lowest-priority entries. */
static bool
level_mode (uint64_t e)
{
  unsigned dm = (e >> 8) & 7;
  return (e & IOAPIC_RTE_LEVEL) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
}

/* Send pin's interrupt if the entry allows it. */
static void
service (Ioapic *io, unsigned pin)
{
  uint64_t e = io->redirtbl[pin];
  if (e & IOAPIC_RTE_MASKED)
    return;
  bool level = e & IOAPIC_RTE_LEVEL;
  if (level && (e & IOAPIC_RTE_REMOTE_IRR))
    return;
  ApicMessage msg = {
    .dest = (uint32_t) (e >> 56),
    .vector = e & 0xff,
    .delivery_mode = (e >> 8) & 7,
    .dest_logical = (e & IOAPIC_RTE_DEST_LOGICAL) != 0,
    .level_trigger = level,
    .level_assert = true,
    .shorthand = APIC_SH_NONE,
    .source = -1,
  };
  if (msg.delivery_mode == 3 || msg.delivery_mode == APIC_DM_SIPI)
    {
      VMM_GUEST_ERROR ("ioapic", "pin %u: reserved delivery mode %u", pin, msg.delivery_mode);
      return;
    }
  if (!level_mode (e))
    msg.level_trigger = level = false;
  unsigned n = apic_bus_deliver (io->bus, &msg);
  if (n && level)
    io->redirtbl[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

void
ioapic_set_irq (Ioapic *io, unsigned pin, bool level)
{
  if (pin >= IOAPIC_NUM_PINS)
    return;
  uint32_t bit = 1u << pin;
  bool was = asserted (io, pin);
  if (level)
    io->level |= bit;
  else
    io->level &= ~bit;
  bool now = asserted (io, pin);
  if (now)
    io->irr |= bit;
  else
    io->irr &= ~bit;
  if (level_mode (io->redirtbl[pin]))
    {
      if (now)
        service (io, pin);
    }
  else if (now && !was)
    service (io, pin); /* edge: a masked edge is lost, as on the 82093AA */
}

void
ioapic_eoi (Ioapic *io, uint8_t vector)
{
  for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
    {
      uint64_t *e = &io->redirtbl[pin];
      if ((*e & 0xff) != vector || !level_mode (*e) || !(*e & IOAPIC_RTE_REMOTE_IRR))
        continue;
      *e &= ~IOAPIC_RTE_REMOTE_IRR;
      /* Still asserted: the device wants service again. */
      if (asserted (io, pin))
        service (io, pin);
    }
}

static void
bus_eoi (void *opaque, uint8_t vector)
{
  ioapic_eoi (opaque, vector);
}

static uint32_t
read_reg (Ioapic *io)
{
  uint32_t sel = io->ioregsel;
  switch (sel)
    {
    case REG_ID:
    case REG_ARB:
      return (io->id & 0xf) << 24;
    case REG_VERSION:
      return ((IOAPIC_NUM_PINS - 1u) << 16) | IOAPIC_VERSION;
    default:
      if (sel >= REG_REDTBL && sel < REG_REDTBL + 2 * IOAPIC_NUM_PINS)
        {
          uint64_t e = io->redirtbl[(sel - REG_REDTBL) >> 1];
          return (sel & 1) ? (uint32_t) (e >> 32) : (uint32_t) e;
        }
      VMM_GUEST_ERROR ("ioapic", "read of reserved register 0x%x", sel);
      return 0;
    }
}

static void
write_reg (Ioapic *io, uint32_t value)
{
  uint32_t sel = io->ioregsel;
  if (sel == REG_ID)
    {
      io->id = (value >> 24) & 0xf;
      return;
    }
  if (sel < REG_REDTBL || sel >= REG_REDTBL + 2 * IOAPIC_NUM_PINS)
    {
      if (sel != REG_VERSION && sel != REG_ARB)
        VMM_GUEST_ERROR ("ioapic", "write 0x%x to reserved register 0x%x", value, sel);
      return;
    }
  unsigned pin = (sel - REG_REDTBL) >> 1;
  uint64_t *e = &io->redirtbl[pin];
  uint64_t old = *e;
  uint64_t v = (sel & 1) ? ((uint64_t) value << 32) | (old & 0xffffffffu)
                         : (old & 0xffffffff00000000ull) | value;
  *e = (v & RTE_WRITABLE) | (old & ~RTE_WRITABLE & (IOAPIC_RTE_REMOTE_IRR));
  if (!level_mode (*e))
    *e &= ~IOAPIC_RTE_REMOTE_IRR; /* edge entries have no remote IRR */
  /* Unmasking a still-asserted level interrupt delivers it now. */
  if (level_mode (*e) && asserted (io, pin))
    service (io, pin);
}

uint64_t
ioapic_mmio_read (void *opaque, uint64_t offset, unsigned size)
{
  Ioapic *io = opaque;
  uint64_t v;
  switch (offset & ~3ull)
    {
    case MMIO_IOREGSEL:
      v = io->ioregsel;
      break;
    case MMIO_IOWIN:
      v = read_reg (io);
      break;
    default:
      return 0;
    }
  v >>= (offset & 3) * 8;
  return size >= 4 ? v & 0xffffffffu : v & ((1ull << (size * 8)) - 1);
}

void
ioapic_mmio_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  Ioapic *io = opaque;
  if (offset & 3)
    {
      VMM_GUEST_ERROR ("ioapic", "unaligned write at 0x%x", (unsigned) offset);
      return;
    }
  switch (offset)
    {
    case MMIO_IOREGSEL:
      io->ioregsel = value & 0xff;
      break;
    case MMIO_IOWIN:
      if (size != 4)
        {
          VMM_GUEST_ERROR ("ioapic", "%u-byte IOWIN write dropped", size);
          return;
        }
      write_reg (io, (uint32_t) value);
      break;
    case MMIO_EOI:
      ioapic_eoi (io, value & 0xff);
      break;
    default:
      break;
    }
}

static const IoOps ioapic_ops = { ioapic_mmio_read, ioapic_mmio_write };

void
ioapic_reset (Ioapic *io)
{
  io->ioregsel = 0;
  io->id = 0;
  io->irr = 0;
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    io->redirtbl[i] = IOAPIC_RTE_MASKED;
  /* Inputs keep their levels; they only count once entries are set up. */
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    if (asserted (io, i))
      io->irr |= 1u << i;
}

Ioapic *
ioapic_new (IoBus *mmio, ApicBus *bus)
{
  Ioapic *io = g_new0 (Ioapic, 1);
  io->bus = bus;
  io->base_address = IOAPIC_DEFAULT_BASE;
  ioapic_reset (io);
  apic_bus_set_eoi_listener (bus, bus_eoi, io);
  if (mmio)
    if (!io_bus_register (mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, &ioapic_ops, io, "ioapic"))
      g_warning ("irqchip: I/O range already claimed (%s)", G_STRLOC);
  return io;
}

void
ioapic_unregister (Ioapic *io, IoBus *mmio)
{
  io_bus_unregister (mmio, IOAPIC_DEFAULT_BASE, io);
}

void
ioapic_free (Ioapic *io)
{
  g_free (io);
}

void
ioapic_save (Ioapic *io, SnapWriter *w)
{
  snap_section_begin (w, "ioapic", IOAPIC_SECTION_VERSION);
  snap_put_u64 (w, io->base_address);
  snap_put_u32 (w, io->ioregsel);
  snap_put_u32 (w, io->id);
  snap_put_u32 (w, io->irr);
  snap_put_u32 (w, io->level);
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    snap_put_u64 (w, io->redirtbl[i]);
  snap_section_end (w);
}

bool
ioapic_load (Ioapic *io, SnapReader *r, GError **error)
{
  uint32_t version;
  if (!snap_reader_open (r, "ioapic", IOAPIC_SECTION_VERSION, &version, error))
    return false;
  uint64_t base = snap_get_u64 (r);
  uint32_t sel = snap_get_u32 (r), id = snap_get_u32 (r);
  uint32_t irr = snap_get_u32 (r), level = snap_get_u32 (r);
  uint64_t tbl[IOAPIC_NUM_PINS];
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    tbl[i] = snap_get_u64 (r);
  if (!snap_reader_check (r, error))
    return false;
  const uint32_t pins = (1u << IOAPIC_NUM_PINS) - 1;
  bool bad = base != IOAPIC_DEFAULT_BASE || sel > 0xff || id > 0xf || (irr & ~pins)
             || (level & ~pins);
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    if (tbl[i] & ~(RTE_WRITABLE | IOAPIC_RTE_REMOTE_IRR))
      bad = true;
  if (bad)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "section ioapic: invalid register values");
      return false;
    }
  io->ioregsel = sel;
  io->id = id;
  io->irr = irr;
  io->level = level;
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    io->redirtbl[i] = tbl[i];
  return true;
}
