#include "vmm-core/platform/pc-reset.h"

#include <string.h>
#include <gio/gio.h>

static uint64_t
cf9_read (void *opaque, uint64_t offset, unsigned size)
{
  PcReset *r = opaque;
  return r->cf9;
}

static void
cf9_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  PcReset *r = opaque;
  r->cf9 = (uint8_t) (value & (PC_CF9_SYS_RST | PC_CF9_FULL_RST));
  if ((value & PC_CF9_RST_CPU) && r->cb.reset)
    r->cb.reset (r->cb.opaque, (value & (PC_CF9_SYS_RST | PC_CF9_FULL_RST)) != 0);
}

const IoOps pc_reset_cf9_ops = { cf9_read, cf9_write };

static uint64_t
port_a_read (void *opaque, uint64_t offset, unsigned size)
{
  PcReset *r = opaque;
  return r->port_a; /* the reset bit reads 0: the reset already happened */
}

static void
port_a_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  PcReset *r = opaque;
  uint8_t old = r->port_a;
  r->port_a = (uint8_t) (value & PC_PORT_A_A20);
  if ((old ^ r->port_a) & PC_PORT_A_A20 && r->cb.set_a20)
    r->cb.set_a20 (r->cb.opaque, (r->port_a & PC_PORT_A_A20) != 0);
  if ((value & PC_PORT_A_RESET) && r->cb.reset)
    r->cb.reset (r->cb.opaque, true);
}

static const IoOps port_a_ops = { port_a_read, port_a_write };

static uint64_t
post_read (void *opaque, uint64_t offset, unsigned size)
{
  PcReset *r = opaque;
  return r->post_code;
}

static void
post_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  PcReset *r = opaque;
  r->post_code = (uint8_t) value;
  r->post_history[r->post_count % PC_POST_HISTORY] = r->post_code;
  r->post_count++;
}

static const IoOps post_ops = { post_read, post_write };

static uint64_t
exit_read (void *opaque, uint64_t offset, unsigned size)
{
  return 0;
}

static void
exit_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  PcReset *r = opaque;
  uint64_t v = size >= 4 ? (uint32_t) value : value & ((1ull << (8 * size)) - 1);
  /* (v << 1) | 1 as a process status keeps only its low byte anyway. */
  if (r->cb.debug_exit)
    r->cb.debug_exit (r->cb.opaque, (int) (((v << 1) | 1) & 0xff));
}

static const IoOps exit_ops = { exit_read, exit_write };

unsigned
pc_reset_post_codes (const PcReset *r, uint8_t *out, unsigned n)
{
  unsigned have = MIN (r->post_count, PC_POST_HISTORY);
  n = MIN (n, have);
  for (unsigned i = 0; i < n; i++)
    out[i] = r->post_history[(r->post_count - n + i) % PC_POST_HISTORY];
  return n;
}

bool
pc_reset_init (PcReset *r, IoBus *pio, const PcResetCallbacks *cb, bool claim_cf9)
{
  memset (r, 0, sizeof *r);
  if (cb)
    r->cb = *cb;
  r->port_a = PC_PORT_A_A20;
  if (!pio)
    return true;
  if (!io_bus_register (pio, PC_PORT_A, 1, &port_a_ops, r, "port-a"))
    return false;
  if (!io_bus_register (pio, PC_POST_PORT, 1, &post_ops, r, "post"))
    goto undo_a;
  if (!io_bus_register (pio, PC_DEBUG_EXIT_PORT, PC_DEBUG_EXIT_LEN, &exit_ops, r, "debug-exit"))
    goto undo_post;
  if (claim_cf9
      && !io_bus_register (pio, PC_RESET_CONTROL_PORT, 1, &pc_reset_cf9_ops, r, "reset-control"))
    goto undo_exit;
  r->bus = pio;
  r->claimed_cf9 = claim_cf9;
  return true;

undo_exit:
  io_bus_unregister (pio, PC_DEBUG_EXIT_PORT, r);
undo_post:
  io_bus_unregister (pio, PC_POST_PORT, r);
undo_a:
  io_bus_unregister (pio, PC_PORT_A, r);
  return false;
}

void
pc_reset_destroy (PcReset *r)
{
  if (!r->bus)
    return;
  io_bus_unregister (r->bus, PC_PORT_A, r);
  io_bus_unregister (r->bus, PC_POST_PORT, r);
  io_bus_unregister (r->bus, PC_DEBUG_EXIT_PORT, r);
  if (r->claimed_cf9)
    io_bus_unregister (r->bus, PC_RESET_CONTROL_PORT, r);
  r->bus = NULL;
}

void
pc_reset_save (const PcReset *r, SnapWriter *w)
{
  snap_section_begin (w, "pc-reset", 1);
  snap_put_u8 (w, r->cf9);
  snap_put_u8 (w, r->port_a);
  snap_put_u8 (w, r->post_code);
  snap_section_end (w);
}

bool
pc_reset_load (PcReset *r, SnapReader *rd, GError **error)
{
  if (!snap_reader_open (rd, "pc-reset", 1, NULL, error))
    return false;
  uint8_t cf9 = snap_get_u8 (rd);
  uint8_t port_a = snap_get_u8 (rd);
  uint8_t post = snap_get_u8 (rd);
  if (!snap_reader_check (rd, error))
    return false;
  if ((cf9 & ~(PC_CF9_SYS_RST | PC_CF9_FULL_RST)) || (port_a & ~PC_PORT_A_A20))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "device state section 'pc-reset' holds impossible register values");
      return false;
    }
  bool a20_changed = (r->port_a ^ port_a) & PC_PORT_A_A20;
  r->cf9 = cf9;
  r->port_a = port_a;
  r->post_code = post;
  if (a20_changed && r->cb.set_a20)
    r->cb.set_a20 (r->cb.opaque, (port_a & PC_PORT_A_A20) != 0);
  return true;
}
