/* 8254 PIT (Intel 82C54 datasheet: modes 0-5, read-back, counter latch,
 * LSB/MSB access) with the PC's port 0x61 for channel 2. */
#include "vmm-core/irqchip/pit-8254.h"

#include "vmm-core/io-bus.h"
#include "vmm-core/log.h"
#include "vmm-core/snapshot-stream.h"

#include <gio/gio.h>
#include "vmm-core/timer.h"

#define PIT_SECTION_VERSION 1
#define NS_PER_S 1000000000ll
#define REFRESH_PERIOD_NS 15085 /* port 0x61 bit 4 toggles at ~66 kHz */

enum { RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4 };

static int64_t
now (Pit8254 *pit)
{
  return timer_queue_now (pit->timers);
}

/* PIT ticks in ns of virtual time, and the time of a tick, both exact. */
static uint64_t
ns_to_ticks (int64_t ns)
{
  if (ns <= 0)
    return 0;
  return (uint64_t) (((unsigned __int128) ns * PIT_FREQ_HZ) / NS_PER_S);
}

static int64_t
ticks_to_ns (uint64_t ticks)
{
  /* ceil: the first ns at which ns_to_ticks reaches `ticks` */
  unsigned __int128 ns = ((unsigned __int128) ticks * NS_PER_S + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
  return ns > INT64_MAX / 4 ? INT64_MAX / 4 : (int64_t) ns;
}

static bool
gate_pauses (const PitChannel *c)
{
  /* Modes 0, 2, 3 and 4 stop counting while GATE is low. */
  return !c->gate && (c->mode == 0 || c->mode == 2 || c->mode == 3 || c->mode == 4);
}

/* Ticks counted since the count was loaded. */
static uint64_t
elapsed_ticks (Pit8254 *pit, const PitChannel *c)
{
  int64_t t = gate_pauses (c) ? c->gate_off_time : now (pit);
  return ns_to_ticks (t - c->count_load_time);
}

static uint32_t
counter_value (const PitChannel *c, uint64_t d)
{
  switch (c->mode)
    {
    case 2:
      return c->count - (uint32_t) (d % c->count);
    case 3:
      return c->count - (uint32_t) ((2 * d) % c->count);
    default: /* 0, 1, 4, 5 count down and wrap */
      return (uint32_t) ((c->count - d) & 0xffff);
    }
}

static bool
out_value (const PitChannel *c, uint64_t d)
{
  switch (c->mode)
    {
    case 0:
    case 1:
      return d >= c->count;
    case 2:
      return c->count == 1 || (d % c->count) != c->count - 1;
    case 3:
      return (d % c->count) < ((c->count + 1) >> 1);
    default: /* 4, 5: one-tick low strobe at terminal count */
      return d != c->count;
    }
}

static uint32_t
to_bcd (uint32_t v)
{
  v %= 10000;
  return (v / 1000) << 12 | ((v / 100) % 10) << 8 | ((v / 10) % 10) << 4 | (v % 10);
}

uint32_t
pit_get_count (Pit8254 *pit, unsigned channel)
{
  PitChannel *c = &pit->ch[channel % 3];
  uint32_t v = counter_value (c, elapsed_ticks (pit, c));
  return c->bcd ? to_bcd (v) : v & 0xffff;
}

bool
pit_get_out (Pit8254 *pit, unsigned channel)
{
  PitChannel *c = &pit->ch[channel % 3];
  if (c->null_count && c->mode == 0)
    return false; /* OUT is low from the control word until the count ends */
  return out_value (c, elapsed_ticks (pit, c));
}

static void
set_irq (Pit8254 *pit, bool level)
{
  pit->irq_level = level;
  if (pit->irq)
    pit->irq (pit->irq_opaque, level);
}

/* The next moment channel 0 raises IRQ0 after `after`, or -1 for never. */
static int64_t
next_irq_time (Pit8254 *pit, int64_t after)
{
  PitChannel *c = &pit->ch[0];
  if (c->null_count || gate_pauses (c))
    return -1;
  uint64_t d = ns_to_ticks (after - c->count_load_time);
  switch (c->mode)
    {
    case 0:
    case 1:
    case 4:
    case 5:
      {
        /* One shot: terminal count (the strobe for 4/5). */
        int64_t t = c->count_load_time + ticks_to_ns (c->count);
        return d >= c->count && t <= after ? -1 : t;
      }
    default:
      {
        /* Periodic: the next reload boundary, no closer than the floor. */
        uint64_t k = d / c->count + 1;
        int64_t t = c->count_load_time + ticks_to_ns (k * c->count);
        if (t <= after)
          t = c->count_load_time + ticks_to_ns ((k + 1) * c->count);
        int64_t period = ticks_to_ns (c->count);
        if (period < PIT_MIN_PERIOD_NS)
          {
            int64_t floor_t = c->next_irq + PIT_MIN_PERIOD_NS;
            if (t < floor_t && c->next_irq > 0)
              t = floor_t;
          }
        return t;
      }
    }
}

static void
rearm (Pit8254 *pit, int64_t after)
{
  PitChannel *c = &pit->ch[0];
  int64_t t = next_irq_time (pit, after);
  if (t < 0)
    {
      vmm_timer_del (pit->timer);
      c->next_irq = 0;
      return;
    }
  c->next_irq = t;
  vmm_timer_mod (pit->timer, t);
}

static void
timer_fire (void *opaque)
{
  Pit8254 *pit = opaque;
  PitChannel *c = &pit->ch[0];
  int64_t t = now (pit);
  switch (c->mode)
    {
    case 0:
    case 1:
      set_irq (pit, true); /* OUT stays high at terminal count */
      break;
    default:
      /* Modes 2-5: OUT rises after a short low phase; one edge. */
      set_irq (pit, true);
      set_irq (pit, false);
      break;
    }
  if (c->mode == 2 || c->mode == 3)
    rearm (pit, t);
  else
    c->next_irq = 0;
}

static void
load_count (Pit8254 *pit, unsigned idx, uint32_t val)
{
  PitChannel *c = &pit->ch[idx];
  if (c->bcd)
    val = ((val >> 12) & 0xf) * 1000 + ((val >> 8) & 0xf) * 100 + ((val >> 4) & 0xf) * 10
          + (val & 0xf);
  if (val == 0)
    val = c->bcd ? 10000 : 0x10000;
  c->count = val;
  c->count_load_time = now (pit);
  c->gate_off_time = c->count_load_time;
  c->null_count = 0;
  if (idx == 0)
    {
      if (c->mode == 0 || c->mode == 1)
        set_irq (pit, false);
      c->next_irq = 0;
      if (c->mode == 2 || c->mode == 3)
        {
          int64_t period = ticks_to_ns (c->count);
          if (period < PIT_MIN_PERIOD_NS)
            VMM_GUEST_ERROR ("pit", "channel 0 period of %" G_GINT64_FORMAT
                             " ns: interrupts clamped to one per %d ns", period,
                             PIT_MIN_PERIOD_NS);
        }
      rearm (pit, c->count_load_time);
    }
}

static void
latch_count (Pit8254 *pit, PitChannel *c)
{
  if (c->count_latched)
    return; /* a latched count stays until read */
  c->latched_count = (uint16_t) pit_get_count (pit, (unsigned) (c - pit->ch));
  c->count_latched = c->rw_mode;
}

static void
write_control (Pit8254 *pit, uint8_t val)
{
  unsigned idx = val >> 6;
  if (idx == 3)
    {
      /* Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status. */
      for (unsigned i = 0; i < 3; i++)
        {
          PitChannel *c = &pit->ch[i];
          if (!(val & (2u << i)))
            continue;
          if (!(val & 0x20))
            latch_count (pit, c);
          if (!(val & 0x10) && !c->status_latched)
            {
              c->status = (uint8_t) ((pit_get_out (pit, i) ? 0x80 : 0)
                                     | (c->null_count ? 0x40 : 0) | (c->rw_mode << 4)
                                     | (c->mode << 1) | c->bcd);
              c->status_latched = 1;
            }
        }
      return;
    }
  PitChannel *c = &pit->ch[idx];
  unsigned access = (val >> 4) & 3;
  if (access == 0)
    {
      latch_count (pit, c);
      return;
    }
  c->rw_mode = access;
  c->read_state = access;
  c->write_state = access;
  c->mode = (val >> 1) & 7;
  if (c->mode > 5)
    c->mode -= 4; /* 6, 7 are aliases of 2, 3 */
  c->bcd = val & 1;
  c->count_latched = 0;
  c->status_latched = 0;
  /* A control word stops the counter until a new count arrives; in mode 0
   * OUT goes low at once. */
  c->null_count = 1;
  if (idx == 0)
    {
      vmm_timer_del (pit->timer);
      c->next_irq = 0;
      if (c->mode == 0)
        set_irq (pit, false);
    }
}

static void
write_counter (Pit8254 *pit, unsigned idx, uint8_t val)
{
  PitChannel *c = &pit->ch[idx];
  switch (c->write_state)
    {
    case RW_MSB:
      load_count (pit, idx, (uint32_t) val << 8);
      break;
    case RW_WORD0:
      c->write_latch = val;
      c->write_state = RW_WORD1;
      /* Mode 0: writing the first byte stops the count (datasheet). */
      break;
    case RW_WORD1:
      load_count (pit, idx, c->write_latch | ((uint32_t) val << 8));
      c->write_state = RW_WORD0;
      break;
    default:
      load_count (pit, idx, val);
      break;
    }
}

static uint8_t
read_counter (Pit8254 *pit, unsigned idx)
{
  PitChannel *c = &pit->ch[idx];
  if (c->status_latched)
    {
      c->status_latched = 0;
      return c->status;
    }
  if (c->count_latched)
    {
      switch (c->count_latched)
        {
        case RW_MSB:
          c->count_latched = 0;
          return c->latched_count >> 8;
        case RW_WORD0:
          c->count_latched = RW_MSB;
          return c->latched_count & 0xff;
        default:
          c->count_latched = 0;
          return c->latched_count & 0xff;
        }
    }
  uint32_t count = pit_get_count (pit, idx);
  switch (c->read_state)
    {
    case RW_MSB:
      return (count >> 8) & 0xff;
    case RW_WORD0:
      c->read_state = RW_WORD1;
      return count & 0xff;
    case RW_WORD1:
      c->read_state = RW_WORD0;
      return (count >> 8) & 0xff;
    default:
      return count & 0xff;
    }
}

void
pit_set_gate (Pit8254 *pit, unsigned channel, bool gate)
{
  PitChannel *c = &pit->ch[channel % 3];
  bool old = c->gate;
  if (old == gate)
    return;
  int64_t t = now (pit);
  if (!gate)
    c->gate_off_time = t; /* freeze modes 0/2/3/4 */
  c->gate = gate;
  if (gate)
    {
      switch (c->mode)
        {
        case 0:
        case 4:
          /* Resume where the count stopped. */
          c->count_load_time += t - c->gate_off_time;
          break;
        default:
          /* 1, 5: trigger; 2, 3: reload and restart on the rising edge. */
          c->count_load_time = t;
          break;
        }
    }
  if (channel == 0)
    rearm (pit, t);
}

uint8_t
pit_ioport_read (Pit8254 *pit, uint16_t port)
{
  switch (port)
    {
    case 0x40:
    case 0x41:
    case 0x42:
      return read_counter (pit, port - 0x40);
    case 0x43:
      return 0xff; /* the control word register is write-only */
    case 0x61:
      return (uint8_t) ((pit->ch[2].gate ? 0x01 : 0) | (pit->speaker_data ? 0x02 : 0)
                        | ((now (pit) / REFRESH_PERIOD_NS) & 1 ? 0x10 : 0)
                        | (pit_get_out (pit, 2) ? 0x20 : 0));
    default:
      return 0xff;
    }
}

void
pit_ioport_write (Pit8254 *pit, uint16_t port, uint8_t value)
{
  switch (port)
    {
    case 0x40:
    case 0x41:
    case 0x42:
      write_counter (pit, port - 0x40, value);
      break;
    case 0x43:
      write_control (pit, value);
      break;
    case 0x61:
      pit_set_gate (pit, 2, value & 1);
      pit->speaker_data = (value >> 1) & 1;
      break;
    default:
      break;
    }
}

static uint64_t
pit_io_read (void *opaque, uint64_t offset, unsigned size)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < size && offset + i < 4; i++)
    v |= (uint64_t) pit_ioport_read (opaque, 0x40 + offset + i) << (8 * i);
  return v;
}

static void
pit_io_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  for (unsigned i = 0; i < size && offset + i < 4; i++)
    pit_ioport_write (opaque, 0x40 + offset + i, (uint8_t) (value >> (8 * i)));
}

static uint64_t
port61_read (void *opaque, uint64_t offset, unsigned size)
{
  return pit_ioport_read (opaque, 0x61);
}

static void
port61_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  pit_ioport_write (opaque, 0x61, (uint8_t) value);
}

static const IoOps pit_ops = { pit_io_read, pit_io_write };
static const IoOps port61_ops = { port61_read, port61_write };

void
pit_reset (Pit8254 *pit)
{
  int64_t t = now (pit);
  vmm_timer_del (pit->timer);
  for (unsigned i = 0; i < 3; i++)
    {
      PitChannel *c = &pit->ch[i];
      *c = (PitChannel){ .count = 0x10000, .mode = 3, .rw_mode = RW_WORD0,
                         .read_state = RW_WORD0, .write_state = RW_WORD0,
                         .gate = i != 2, .count_load_time = t, .gate_off_time = t,
                         .null_count = 1 };
    }
  pit->speaker_data = 0;
  if (pit->irq_level)
    set_irq (pit, false);
}

Pit8254 *
pit_new (IoBus *io, TimerQueue *timers, PitIrqFn irq, void *opaque)
{
  Pit8254 *pit = g_new0 (Pit8254, 1);
  pit->timers = timers;
  pit->timer = vmm_timer_new (timers, timer_fire, pit);
  pit->irq = irq;
  pit->irq_opaque = opaque;
  pit_reset (pit);
  if (io)
    {
      if (!io_bus_register (io, 0x40, 4, &pit_ops, pit, "pit"))
        g_warning ("irqchip: I/O range already claimed (%s)", G_STRLOC);
      if (!io_bus_register (io, 0x61, 1, &port61_ops, pit, "port61"))
        g_warning ("irqchip: I/O range already claimed (%s)", G_STRLOC);
    }
  return pit;
}

void
pit_unregister (Pit8254 *pit, IoBus *io)
{
  io_bus_unregister (io, 0x40, pit);
  io_bus_unregister (io, 0x61, pit);
}

void
pit_free (Pit8254 *pit)
{
  if (!pit)
    return;
  vmm_timer_free (pit->timer);
  g_free (pit);
}

void
pit_save (Pit8254 *pit, SnapWriter *w)
{
  snap_section_begin (w, "pit", PIT_SECTION_VERSION);
  for (unsigned i = 0; i < 3; i++)
    {
      const PitChannel *c = &pit->ch[i];
      snap_put_u32 (w, c->count);
      snap_put_u16 (w, c->latched_count);
      snap_put_u8 (w, c->count_latched);
      snap_put_u8 (w, c->status_latched);
      snap_put_u8 (w, c->status);
      snap_put_u8 (w, c->read_state);
      snap_put_u8 (w, c->write_state);
      snap_put_u8 (w, c->write_latch);
      snap_put_u8 (w, c->rw_mode);
      snap_put_u8 (w, c->mode);
      snap_put_u8 (w, c->bcd);
      snap_put_u8 (w, c->gate);
      snap_put_u8 (w, c->null_count);
      snap_put_i64 (w, c->count_load_time);
      snap_put_i64 (w, c->gate_off_time);
      snap_put_i64 (w, c->next_irq);
    }
  snap_put_u8 (w, pit->speaker_data);
  snap_put_bool (w, pit->irq_level);
  snap_section_end (w);
}

/* Virtual times in a snapshot: far from overflow when subtracted. */
static bool
time_valid (int64_t t)
{
  return t >= -(INT64_MAX / 4) && t <= INT64_MAX / 4;
}

static bool
channel_valid (const PitChannel *c)
{
  bool count_ok = c->count >= 1 && c->count <= 0x10000 && time_valid (c->count_load_time)
                  && time_valid (c->gate_off_time) && time_valid (c->next_irq);
  return count_ok && c->count_latched <= RW_WORD0 && c->status_latched <= 1
         && c->read_state >= RW_LSB && c->read_state <= RW_WORD1
         && c->write_state >= RW_LSB && c->write_state <= RW_WORD1 && c->rw_mode >= RW_LSB
         && c->rw_mode <= RW_WORD0 && c->mode <= 5 && c->bcd <= 1 && c->gate <= 1
         && c->null_count <= 1;
}

bool
pit_load (Pit8254 *pit, SnapReader *r, GError **error)
{
  uint32_t version;
  PitChannel ch[3];
  if (!snap_reader_open (r, "pit", PIT_SECTION_VERSION, &version, error))
    return false;
  for (unsigned i = 0; i < 3; i++)
    {
      PitChannel *c = &ch[i];
      c->count = snap_get_u32 (r);
      c->latched_count = snap_get_u16 (r);
      c->count_latched = snap_get_u8 (r);
      c->status_latched = snap_get_u8 (r);
      c->status = snap_get_u8 (r);
      c->read_state = snap_get_u8 (r);
      c->write_state = snap_get_u8 (r);
      c->write_latch = snap_get_u8 (r);
      c->rw_mode = snap_get_u8 (r);
      c->mode = snap_get_u8 (r);
      c->bcd = snap_get_u8 (r);
      c->gate = snap_get_u8 (r);
      c->null_count = snap_get_u8 (r);
      c->count_load_time = snap_get_i64 (r);
      c->gate_off_time = snap_get_i64 (r);
      c->next_irq = snap_get_i64 (r);
    }
  uint8_t speaker = snap_get_u8 (r);
  bool irq_level = snap_get_bool (r);
  if (!snap_reader_check (r, error))
    return false;
  for (unsigned i = 0; i < 3; i++)
    if (!channel_valid (&ch[i]) || speaker > 1)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "section pit: invalid state of channel %u", i);
        return false;
      }
  for (unsigned i = 0; i < 3; i++)
    pit->ch[i] = ch[i];
  pit->speaker_data = speaker;
  set_irq (pit, irq_level);
  /* Re-arm from the saved next interrupt (the clock is restored with the
   * snapshot, so absolute times stay valid); a state without one (fired
   * one-shot, or converted from KVM) recomputes it. */
  PitChannel *c0 = &pit->ch[0];
  vmm_timer_del (pit->timer);
  if (c0->next_irq > 0)
    vmm_timer_mod (pit->timer, c0->next_irq);
  else
    rearm (pit, now (pit));
  return true;
}
