/* i8042 keyboard controller: ports, commands, output buffer, IRQs. */
#include "input/i8042.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/log.h"

#define I8042_SNAP_VERSION 1

static void
drive_irqs (I8042 *kbc, bool force)
{
  bool kbd = kbc->obf && !kbc->obf_aux && (kbc->ram[0] & I8042_CTR_KBDINT);
  bool aux = kbc->obf && kbc->obf_aux && (kbc->ram[0] & I8042_CTR_AUXINT);
  if (force || kbd != kbc->kbd_level)
    {
      kbc->kbd_level = kbd;
      irq_line_set (&kbc->kbd_irq, kbd);
    }
  if (force || aux != kbc->aux_level)
    {
      kbc->aux_level = aux;
      irq_line_set (&kbc->aux_irq, aux);
    }
}

static void
update_irqs (I8042 *kbc)
{
  drive_irqs (kbc, false);
}

/* Moves the next byte into an empty output buffer: controller reply first,
 * then the keyboard, then the mouse (each only while its port is enabled). */
static void
refill (I8042 *kbc)
{
  if (kbc->obf)
    return;
  if (kbc->reply_full)
    {
      kbc->out = kbc->reply;
      kbc->obf_aux = kbc->reply_aux;
      kbc->obf = true;
      kbc->reply_full = false;
      return;
    }
  uint8_t b;
  if (!(kbc->ram[0] & I8042_CTR_KBDDIS))
    {
      while (ps2_kbd_read (&kbc->kbd, &b))
        {
          if (kbc->ram[0] & I8042_CTR_XLATE)
            {
              if (b == 0xf0)
                {
                  kbc->xlat_break = true;
                  continue;
                }
              b = keymap_i8042_translate (b) | (kbc->xlat_break ? 0x80 : 0);
              kbc->xlat_break = false;
            }
          kbc->out = b;
          kbc->obf = true;
          kbc->obf_aux = false;
          return;
        }
    }
  if (!(kbc->ram[0] & I8042_CTR_AUXDIS) && ps2_mouse_read (&kbc->mouse, &b))
    {
      kbc->out = b;
      kbc->obf = true;
      kbc->obf_aux = true;
    }
}

static void
kbc_sync (I8042 *kbc)
{
  refill (kbc);
  update_irqs (kbc);
}

static void
reply (I8042 *kbc, uint8_t byte, bool aux)
{
  kbc->reply = byte;
  kbc->reply_aux = aux;
  kbc->reply_full = true;
}

static void
request_reset (I8042 *kbc)
{
  if (kbc->hooks.system_reset)
    kbc->hooks.system_reset (kbc->hooks.opaque);
}

static void
set_a20 (I8042 *kbc, bool on)
{
  bool was = kbc->outport & 2;
  kbc->outport = (uint8_t)((kbc->outport & ~2) | (on ? 2 : 0));
  if (was != on && kbc->hooks.set_a20)
    kbc->hooks.set_a20 (kbc->hooks.opaque, on);
}

static void
write_outport (I8042 *kbc, uint8_t v)
{
  set_a20 (kbc, v & 2);
  /* OBF bits (4, 5) are read-only mirrors of the status; keep the rest. */
  kbc->outport = (uint8_t)((v & ~0x30) | 1);
  if (!(v & 1))
    request_reset (kbc);
}

static void
controller_command (I8042 *kbc, uint8_t cmd)
{
  if (cmd >= 0x20 && cmd <= 0x3f)
    {
      reply (kbc, kbc->ram[cmd & 0x1f], false);
      return;
    }
  if (cmd >= 0x60 && cmd <= 0x7f)
    {
      kbc->pending = cmd;
      return;
    }
  if (cmd >= 0xf0)
    {
      /* Pulse output lines whose mask bit is 0; line 0 is the CPU reset. */
      if (!(cmd & 1))
        request_reset (kbc);
      return;
    }
  switch (cmd)
    {
    case 0xa4: /* password installed? no */
      reply (kbc, 0xf1, false);
      break;
    case 0xa7:
      kbc->ram[0] |= I8042_CTR_AUXDIS;
      break;
    case 0xa8:
      kbc->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
      break;
    case 0xa9: /* aux interface test: no error */
    case 0xab: /* keyboard interface test */
    case 0xe0: /* test inputs */
      reply (kbc, 0x00, false);
      break;
    case 0xaa:
      kbc->status |= I8042_STR_SYSFLAG;
      reply (kbc, 0x55, false);
      break;
    case 0xad:
      kbc->ram[0] |= I8042_CTR_KBDDIS;
      break;
    case 0xae:
      kbc->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
      break;
    case 0xc0: /* input port: keyboard not inhibited */
      reply (kbc, 0x80, false);
      break;
    case 0xd0:
      reply (kbc,
             (uint8_t)(kbc->outport | (kbc->obf && !kbc->obf_aux ? 0x10 : 0)
                       | (kbc->obf && kbc->obf_aux ? 0x20 : 0)),
             false);
      break;
    case 0xd1:
    case 0xd2:
    case 0xd3:
    case 0xd4:
      kbc->pending = cmd;
      break;
    case 0xdd:
      set_a20 (kbc, false);
      break;
    case 0xdf:
      set_a20 (kbc, true);
      break;
    default:
      VMM_GUEST_ERROR ("i8042", "unknown controller command 0x%02x", cmd);
      break;
    }
}

static void
data_write (I8042 *kbc, uint8_t v)
{
  uint8_t cmd = kbc->pending;
  kbc->pending = 0;
  if (cmd >= 0x60 && cmd <= 0x7f)
    {
      kbc->ram[cmd & 0x1f] = v;
      if (cmd == 0x60)
        kbc->status = (uint8_t)((kbc->status & ~I8042_STR_SYSFLAG) | (v & I8042_CTR_SYSFLAG));
      return;
    }
  switch (cmd)
    {
    case 0xd1:
      write_outport (kbc, v);
      break;
    case 0xd2:
      reply (kbc, v, false);
      break;
    case 0xd3:
      reply (kbc, v, true);
      break;
    case 0xd4:
      ps2_mouse_write (&kbc->mouse, v);
      break;
    default:
      ps2_kbd_write (&kbc->kbd, v);
      break;
    }
}

uint8_t
i8042_read (I8042 *kbc, unsigned port)
{
  if (port == 4)
    {
      uint8_t s = (uint8_t)(kbc->status | I8042_STR_KEYLOCK);
      if (kbc->obf)
        s |= I8042_STR_OBF | (kbc->obf_aux ? I8042_STR_AUXDATA : 0);
      return s;
    }
  if (port != 0)
    return 0xff;
  uint8_t v = kbc->out;
  if (kbc->obf)
    {
      kbc->obf = false;
      /* Drop the line so the next byte makes a fresh edge. */
      update_irqs (kbc);
      kbc_sync (kbc);
    }
  return v;
}

void
i8042_write (I8042 *kbc, unsigned port, uint8_t value)
{
  if (port == 4)
    {
      kbc->status |= I8042_STR_CMDDAT;
      kbc->pending = 0;
      controller_command (kbc, value);
    }
  else if (port == 0)
    {
      kbc->status &= (uint8_t)~I8042_STR_CMDDAT;
      data_write (kbc, value);
    }
  kbc_sync (kbc);
}

static uint64_t
pio_read (void *opaque, uint64_t offset, unsigned size)
{
  return i8042_read (opaque, (unsigned)offset);
}

static void
pio_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  i8042_write (opaque, (unsigned)offset, (uint8_t)value);
}

static const IoOps i8042_data_ops = { pio_read, pio_write };

static uint64_t
pio_read_cmd (void *opaque, uint64_t offset, unsigned size)
{
  return i8042_read (opaque, 4);
}

static void
pio_write_cmd (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  i8042_write (opaque, 4, (uint8_t)value);
}

static const IoOps i8042_cmd_ops = { pio_read_cmd, pio_write_cmd };

void
i8042_reset (I8042 *kbc)
{
  memset (kbc->ram, 0, sizeof kbc->ram);
  kbc->ram[0] = I8042_CTR_XLATE | I8042_CTR_SYSFLAG | I8042_CTR_KBDINT | I8042_CTR_AUXDIS;
  kbc->status = I8042_STR_SYSFLAG;
  kbc->outport = 0x03; /* running, A20 on (as firmware leaves it) */
  kbc->pending = 0;
  kbc->obf = kbc->obf_aux = false;
  kbc->out = 0;
  kbc->xlat_break = false;
  kbc->reply_full = false;
  ps2_kbd_reset (&kbc->kbd);
  ps2_mouse_reset (&kbc->mouse);
  update_irqs (kbc);
}

bool
i8042_init (I8042 *kbc, IoBus *pio, IrqLine kbd_irq, IrqLine aux_irq, const I8042Hooks *hooks)
{
  memset (kbc, 0, sizeof *kbc);
  kbc->kbd_irq = kbd_irq;
  kbc->aux_irq = aux_irq;
  if (hooks)
    kbc->hooks = *hooks;
  i8042_reset (kbc);
  if (pio)
    {
      if (!io_bus_register (pio, I8042_DATA_PORT, 1, &i8042_data_ops, kbc, "i8042-data"))
        return false;
      if (!io_bus_register (pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, kbc, "i8042-cmd"))
        {
          io_bus_unregister (pio, I8042_DATA_PORT, kbc);
          return false;
        }
      kbc->pio = pio;
    }
  return true;
}

void
i8042_destroy (I8042 *kbc)
{
  if (kbc->pio)
    {
      io_bus_unregister (kbc->pio, I8042_DATA_PORT, kbc);
      io_bus_unregister (kbc->pio, I8042_CMD_PORT, kbc);
      kbc->pio = NULL;
    }
}

void
i8042_key_event (I8042 *kbc, PcKeycode key, bool down)
{
  ps2_kbd_key (&kbc->kbd, key, down);
  kbc_sync (kbc);
}

void
i8042_mouse_event (I8042 *kbc, int dx, int dy, int dz, unsigned buttons)
{
  ps2_mouse_event (&kbc->mouse, dx, dy, dz, buttons);
  kbc_sync (kbc);
}

unsigned
i8042_kbd_leds (const I8042 *kbc)
{
  return kbc->kbd.leds;
}

void
i8042_save (const I8042 *kbc, SnapWriter *w)
{
  const Ps2Keyboard *k = &kbc->kbd;
  const Ps2Mouse *m = &kbc->mouse;

  snap_section_begin (w, "i8042", I8042_SNAP_VERSION);
  snap_put_bytes (w, kbc->ram, sizeof kbc->ram);
  snap_put_u8 (w, kbc->status);
  snap_put_u8 (w, kbc->outport);
  snap_put_u8 (w, kbc->pending);
  snap_put_bool (w, kbc->obf);
  snap_put_bool (w, kbc->obf_aux);
  snap_put_u8 (w, kbc->out);
  snap_put_bool (w, kbc->xlat_break);
  snap_put_bool (w, kbc->reply_full);
  snap_put_bool (w, kbc->reply_aux);
  snap_put_u8 (w, kbc->reply);

  ps2_queue_save (&k->queue, w);
  snap_put_bool (w, k->scanning);
  snap_put_u8 (w, k->scancode_set);
  snap_put_u8 (w, k->leds);
  snap_put_u8 (w, k->typematic);
  snap_put_u8 (w, k->pending_cmd);
  snap_put_u8 (w, k->last_sent);
  snap_put_bool (w, k->overrun);

  ps2_queue_save (&m->queue, w);
  snap_put_bool (w, m->streaming);
  snap_put_bool (w, m->remote);
  snap_put_bool (w, m->wrap);
  snap_put_bool (w, m->scale21);
  snap_put_u8 (w, m->resolution);
  snap_put_u8 (w, m->sample_rate);
  snap_put_u8 (w, m->id);
  snap_put_bytes (w, m->knock, sizeof m->knock);
  snap_put_u8 (w, m->pending_cmd);
  snap_put_u8 (w, m->last_sent);
  snap_put_u8 (w, m->buttons);
  snap_put_u32 (w, (uint32_t)m->dx);
  snap_put_u32 (w, (uint32_t)m->dy);
  snap_put_u32 (w, (uint32_t)m->dz);
  snap_put_bool (w, m->dirty);
  snap_section_end (w);
}

static int32_t
clamp_move (uint32_t raw)
{
  int32_t v = (int32_t)raw;
  return v < -(1 << 20) ? -(1 << 20) : v > (1 << 20) ? (1 << 20) : v;
}

bool
i8042_load (I8042 *kbc, SnapReader *r, GError **error)
{
  uint32_t version;
  if (!snap_reader_open (r, "i8042", I8042_SNAP_VERSION, &version, error))
    return false;

  I8042 s = *kbc; /* host wiring (bus, IRQs, hooks) stays */
  Ps2Keyboard *k = &s.kbd;
  Ps2Mouse *m = &s.mouse;
  snap_get_bytes (r, s.ram, sizeof s.ram);
  s.status = snap_get_u8 (r) & (I8042_STR_SYSFLAG | I8042_STR_CMDDAT);
  s.outport = snap_get_u8 (r);
  s.pending = snap_get_u8 (r);
  s.obf = snap_get_bool (r);
  s.obf_aux = snap_get_bool (r);
  s.out = snap_get_u8 (r);
  s.xlat_break = snap_get_bool (r);
  s.reply_full = snap_get_bool (r);
  s.reply_aux = snap_get_bool (r);
  s.reply = snap_get_u8 (r);

  ps2_queue_load (&k->queue, r);
  k->scanning = snap_get_bool (r);
  k->scancode_set = snap_get_u8 (r);
  k->leds = snap_get_u8 (r) & 7;
  k->typematic = snap_get_u8 (r) & 0x7f;
  k->pending_cmd = snap_get_u8 (r);
  k->last_sent = snap_get_u8 (r);
  k->overrun = snap_get_bool (r);

  ps2_queue_load (&m->queue, r);
  m->streaming = snap_get_bool (r);
  m->remote = snap_get_bool (r);
  m->wrap = snap_get_bool (r);
  m->scale21 = snap_get_bool (r);
  m->resolution = snap_get_u8 (r) & 3;
  m->sample_rate = snap_get_u8 (r);
  m->id = snap_get_u8 (r) == 3 ? 3 : 0;
  snap_get_bytes (r, m->knock, sizeof m->knock);
  m->pending_cmd = snap_get_u8 (r);
  m->last_sent = snap_get_u8 (r);
  m->buttons = snap_get_u8 (r) & 7;
  m->dx = clamp_move (snap_get_u32 (r));
  m->dy = clamp_move (snap_get_u32 (r));
  m->dz = clamp_move (snap_get_u32 (r));
  m->dirty = snap_get_bool (r);

  if (!snap_reader_check (r, error))
    return false;
  if (k->scancode_set != 1 && k->scancode_set != 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "i8042: invalid scancode set %u in snapshot", k->scancode_set);
      return false;
    }
  /* Commands that take an argument are the only valid pending values. */
  if (s.pending && !(s.pending >= 0x60 && s.pending <= 0x7f)
      && (s.pending < 0xd1 || s.pending > 0xd4))
    s.pending = 0;
  if (k->pending_cmd != 0xed && k->pending_cmd != 0xf0 && k->pending_cmd != 0xf3)
    k->pending_cmd = 0;
  if (m->pending_cmd != 0xe8 && m->pending_cmd != 0xf3)
    m->pending_cmd = 0;
  if (m->sample_rate == 0)
    m->sample_rate = 100;

  *kbc = s;
  drive_irqs (kbc, true); /* the lines follow the loaded state */
  return true;
}
