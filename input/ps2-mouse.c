/* PS/2 mouse: stream/remote/wrap modes, status, IntelliMouse wheel. */
#include "input/ps2-device.h"

#include "vmm-core/log.h"

enum
{
  MOUSE_ACK = 0xfa,
  MOUSE_RESEND = 0xfe,
  MOUSE_BAT_OK = 0xaa,
  MOVE_LIMIT = 1 << 20, /* unreported movement kept at most (a stalled guest) */
};

static void
mouse_reply (Ps2Mouse *m, const uint8_t *bytes, size_t len)
{
  if (!ps2_queue_push (&m->queue, bytes, len))
    {
      ps2_queue_clear (&m->queue);
      ps2_queue_push (&m->queue, bytes, len);
    }
}

static void
mouse_reply1 (Ps2Mouse *m, uint8_t b)
{
  mouse_reply (m, &b, 1);
}

static void
mouse_defaults (Ps2Mouse *m)
{
  m->streaming = false;
  m->remote = false;
  m->wrap = false;
  m->scale21 = false;
  m->resolution = 2;
  m->sample_rate = 100;
  m->pending_cmd = 0;
}

void
ps2_mouse_reset (Ps2Mouse *m)
{
  ps2_queue_clear (&m->queue);
  mouse_defaults (m);
  m->id = 0;
  m->knock[0] = m->knock[1] = m->knock[2] = 0;
  m->last_sent = 0;
  m->dx = m->dy = m->dz = 0;
  m->dirty = false;
}

static int
packet_size (const Ps2Mouse *m)
{
  return m->id == 3 ? 4 : 3;
}

static int
clamp (int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling as the PS/2 mouse specifies it (stream mode only). */
static int
scale21 (int v)
{
  static const int small[] = { 0, 1, 1, 3, 6, 9 };
  int a = v < 0 ? -v : v;
  int s = a < 6 ? small[a] : 2 * a;
  return v < 0 ? -s : s;
}

/* Takes up to one packet's worth of the pending movement. */
static void
make_packet (Ps2Mouse *m, bool scaled, uint8_t out[4])
{
  int dx = clamp (m->dx, -256, 255);
  int dy = clamp (m->dy, -256, 255);
  int dz = clamp (m->dz, -8, 7);
  m->dx -= dx;
  m->dy -= dy;
  m->dz -= dz;
  if (m->id != 3)
    m->dz = 0;
  if (scaled && m->scale21)
    {
      dx = scale21 (dx);
      dy = scale21 (dy);
    }
  uint8_t b0 = 0x08 | (m->buttons & 7);
  if (dx < -256 || dx > 255)
    b0 |= 0x40;
  if (dy < -256 || dy > 255)
    b0 |= 0x80;
  dx = clamp (dx, -256, 255);
  dy = clamp (dy, -256, 255);
  if (dx < 0)
    b0 |= 0x10;
  if (dy < 0)
    b0 |= 0x20;
  out[0] = b0;
  out[1] = (uint8_t)dx;
  out[2] = (uint8_t)dy;
  out[3] = (uint8_t)(dz & 0x0f);
  m->dirty = false;
}

static bool
has_motion (const Ps2Mouse *m)
{
  return m->dirty || m->dx || m->dy || (m->id == 3 && m->dz);
}

/* Streams queued movement while packets fit whole. */
static void
mouse_flush (Ps2Mouse *m)
{
  if (!m->streaming || m->remote || m->wrap)
    return;
  while (has_motion (m) && ps2_queue_room (&m->queue) >= (size_t)packet_size (m))
    {
      uint8_t p[4];
      make_packet (m, true, p);
      ps2_queue_push (&m->queue, p, packet_size (m));
    }
}

void
ps2_mouse_event (Ps2Mouse *m, int dx, int dy, int dz, unsigned buttons)
{
  m->dx = clamp (m->dx + clamp (dx, -MOVE_LIMIT, MOVE_LIMIT), -MOVE_LIMIT, MOVE_LIMIT);
  /* PS/2 counts y upwards; hosts count down the screen. */
  m->dy = clamp (m->dy - clamp (dy, -MOVE_LIMIT, MOVE_LIMIT), -MOVE_LIMIT, MOVE_LIMIT);
  m->dz = clamp (m->dz + clamp (dz, -MOVE_LIMIT, MOVE_LIMIT), -MOVE_LIMIT, MOVE_LIMIT);
  if ((buttons & 7) != m->buttons)
    {
      m->buttons = buttons & 7;
      m->dirty = true;
    }
  mouse_flush (m);
}

static void
mouse_argument (Ps2Mouse *m, uint8_t cmd, uint8_t arg)
{
  switch (cmd)
    {
    case 0xe8:
      if (arg > 3)
        {
          VMM_GUEST_ERROR ("ps2-mouse", "bad resolution %u", arg);
          mouse_reply1 (m, MOUSE_RESEND);
          return;
        }
      m->resolution = arg;
      break;
    case 0xf3:
      if (arg == 0)
        {
          VMM_GUEST_ERROR ("ps2-mouse", "sample rate 0");
          mouse_reply1 (m, MOUSE_RESEND);
          return;
        }
      m->sample_rate = arg;
      m->knock[0] = m->knock[1];
      m->knock[1] = m->knock[2];
      m->knock[2] = arg;
      /* The IntelliMouse knock: rates 200, 100, 80 in a row. */
      if (m->knock[0] == 200 && m->knock[1] == 100 && m->knock[2] == 80)
        m->id = 3;
      break;
    default:
      break;
    }
  mouse_reply1 (m, MOUSE_ACK);
}

void
ps2_mouse_write (Ps2Mouse *m, uint8_t byte)
{
  if (m->wrap && byte != 0xec && byte != 0xff)
    {
      mouse_reply1 (m, byte); /* wrap mode echoes */
      return;
    }
  if (m->pending_cmd)
    {
      uint8_t cmd = m->pending_cmd;
      m->pending_cmd = 0;
      mouse_argument (m, cmd, byte);
      return;
    }

  switch (byte)
    {
    case 0xe6:
      m->scale21 = false;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xe7:
      m->scale21 = true;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xe8:
    case 0xf3:
      m->pending_cmd = byte;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xe9:
      {
        /* Status: remote, enabled, 2:1, left, middle, right. */
        uint8_t s = (uint8_t)((m->remote ? 0x40 : 0) | (m->streaming ? 0x20 : 0)
                              | (m->scale21 ? 0x10 : 0) | ((m->buttons & 1) << 2)
                              | ((m->buttons & 4) >> 1) | ((m->buttons & 2) >> 1));
        uint8_t r[4] = { MOUSE_ACK, s, m->resolution, m->sample_rate };
        mouse_reply (m, r, 4);
      }
      break;
    case 0xea:
      m->remote = false;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xeb:
      {
        uint8_t r[5] = { MOUSE_ACK };
        make_packet (m, false, r + 1);
        mouse_reply (m, r, 1 + packet_size (m));
      }
      break;
    case 0xec:
      m->wrap = false;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xee:
      m->wrap = true;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xf0:
      m->remote = true;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xf2:
      {
        uint8_t r[2] = { MOUSE_ACK, m->id };
        mouse_reply (m, r, 2);
      }
      break;
    case 0xf4:
      m->streaming = true;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xf5:
      m->streaming = false;
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xf6:
      mouse_defaults (m);
      mouse_reply1 (m, MOUSE_ACK);
      break;
    case 0xfe:
      mouse_reply1 (m, m->last_sent);
      break;
    case 0xff:
      ps2_mouse_reset (m);
      {
        static const uint8_t bat[] = { MOUSE_ACK, MOUSE_BAT_OK, 0x00 };
        mouse_reply (m, bat, sizeof bat);
      }
      break;
    default:
      VMM_GUEST_ERROR ("ps2-mouse", "unknown mouse command 0x%02x", byte);
      mouse_reply1 (m, MOUSE_RESEND);
      break;
    }
}

bool
ps2_mouse_read (Ps2Mouse *m, uint8_t *byte)
{
  if (!ps2_queue_pop (&m->queue, byte))
    return false;
  m->last_sent = *byte;
  mouse_flush (m);
  return true;
}
