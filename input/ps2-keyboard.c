/* PS/2 keyboard: command interpreter and scancode queue. */
#include "input/ps2-device.h"

#include <string.h>

#include "vmm-core/log.h"

enum
{
  KBD_ACK = 0xfa,
  KBD_RESEND = 0xfe,
  KBD_BAT_OK = 0xaa,
  KBD_ECHO = 0xee,
};

void
ps2_queue_clear (Ps2Queue *q)
{
  q->head = 0;
  q->count = 0;
}

size_t
ps2_queue_room (const Ps2Queue *q)
{
  return PS2_QUEUE_SIZE - q->count;
}

bool
ps2_queue_push (Ps2Queue *q, const uint8_t *bytes, size_t len)
{
  if (len > ps2_queue_room (q))
    return false;
  for (size_t i = 0; i < len; i++)
    q->data[(q->head + q->count++) % PS2_QUEUE_SIZE] = bytes[i];
  return true;
}

bool
ps2_queue_pop (Ps2Queue *q, uint8_t *byte)
{
  if (q->count == 0)
    return false;
  *byte = q->data[q->head];
  q->head = (q->head + 1) % PS2_QUEUE_SIZE;
  q->count--;
  return true;
}

void
ps2_queue_save (const Ps2Queue *q, SnapWriter *w)
{
  snap_put_u8 (w, q->count);
  for (unsigned i = 0; i < q->count; i++)
    snap_put_u8 (w, q->data[(q->head + i) % PS2_QUEUE_SIZE]);
}

void
ps2_queue_load (Ps2Queue *q, SnapReader *r)
{
  ps2_queue_clear (q);
  unsigned n = snap_get_u8 (r);
  for (unsigned i = 0; i < n; i++)
    {
      uint8_t b = snap_get_u8 (r);
      if (i < PS2_QUEUE_SIZE) /* a corrupt count never overflows the ring */
        ps2_queue_push (q, &b, 1);
    }
}

static void
kbd_reply (Ps2Keyboard *kbd, const uint8_t *bytes, size_t len)
{
  /* Command replies always fit: the queue is twice the key buffer, and a
   * guest that never reads while sending commands just loses old replies. */
  if (!ps2_queue_push (&kbd->queue, bytes, len))
    {
      ps2_queue_clear (&kbd->queue);
      ps2_queue_push (&kbd->queue, bytes, len);
    }
}

static void
kbd_reply1 (Ps2Keyboard *kbd, uint8_t b)
{
  kbd_reply (kbd, &b, 1);
}

static void
kbd_defaults (Ps2Keyboard *kbd)
{
  kbd->scancode_set = 2;
  kbd->typematic = 0x2b; /* 10.9 cps, 500 ms */
  kbd->leds = 0;
  kbd->pending_cmd = 0;
}

void
ps2_kbd_reset (Ps2Keyboard *kbd)
{
  ps2_queue_clear (&kbd->queue);
  kbd_defaults (kbd);
  kbd->scanning = true;
  kbd->last_sent = 0;
  kbd->overrun = false;
}

static void
kbd_argument (Ps2Keyboard *kbd, uint8_t cmd, uint8_t arg)
{
  switch (cmd)
    {
    case 0xed: /* set LEDs */
      kbd->leds = arg & 7;
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xf3: /* typematic rate/delay */
      kbd->typematic = arg & 0x7f;
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xf0: /* get / set scancode set */
      if (arg == 0)
        {
          uint8_t r[2] = { KBD_ACK, kbd->scancode_set };
          kbd_reply (kbd, r, 2);
        }
      else if (arg == 1 || arg == 2)
        {
          kbd->scancode_set = arg;
          kbd_reply1 (kbd, KBD_ACK);
        }
      else
        {
          VMM_GUEST_ERROR ("ps2-kbd", "unsupported scancode set %u", arg);
          kbd_reply1 (kbd, KBD_RESEND);
        }
      break;
    default:
      break;
    }
}

void
ps2_kbd_write (Ps2Keyboard *kbd, uint8_t byte)
{
  if (kbd->pending_cmd)
    {
      uint8_t cmd = kbd->pending_cmd;
      kbd->pending_cmd = 0;
      /* A command byte instead of the argument aborts the old command
       * (drivers do this after a timeout); the typematic argument may be
       * any value below 0x80 only. */
      if (byte < 0xed || (cmd == 0xf3 && byte < 0x80))
        {
          kbd_argument (kbd, cmd, byte);
          return;
        }
    }

  switch (byte)
    {
    case 0xed:
    case 0xf0:
    case 0xf3:
      kbd->pending_cmd = byte;
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xee:
      kbd_reply1 (kbd, KBD_ECHO);
      break;
    case 0xf2:
      {
        static const uint8_t id[] = { KBD_ACK, 0xab, 0x83 };
        kbd_reply (kbd, id, sizeof id);
      }
      break;
    case 0xf4:
      kbd->scanning = true;
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xf5: /* disable: also restores defaults and empties the buffer */
      ps2_queue_clear (&kbd->queue);
      kbd_defaults (kbd);
      kbd->scanning = false;
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xf6:
      ps2_queue_clear (&kbd->queue);
      kbd_defaults (kbd);
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xf7:
    case 0xf8:
    case 0xf9:
    case 0xfa:
    case 0xfb:
    case 0xfc:
    case 0xfd:
      /* Set 3 key attributes: accepted and ignored (sets 1/2 have none). */
      kbd_reply1 (kbd, KBD_ACK);
      break;
    case 0xfe:
      kbd_reply1 (kbd, kbd->last_sent);
      break;
    case 0xff:
      ps2_kbd_reset (kbd);
      {
        static const uint8_t bat[] = { KBD_ACK, KBD_BAT_OK };
        kbd_reply (kbd, bat, sizeof bat);
      }
      break;
    default:
      VMM_GUEST_ERROR ("ps2-kbd", "unknown keyboard command 0x%02x", byte);
      kbd_reply1 (kbd, KBD_RESEND);
      break;
    }
}

void
ps2_kbd_key (Ps2Keyboard *kbd, PcKeycode key, bool down)
{
  if (!kbd->scanning)
    return;
  uint8_t seq[KEYMAP_SEQ_MAX];
  size_t len = keymap_ps2_sequence (key, kbd->scancode_set, down, seq);
  if (len == 0)
    return;

  size_t used = kbd->queue.count;
  if (!kbd->overrun && used + len <= PS2_KBD_BUFFER - 1)
    {
      ps2_queue_push (&kbd->queue, seq, len);
      return;
    }
  /* Buffer full: one overrun code, then drop keys until the guest reads. */
  kbd->keys_dropped++;
  if (!kbd->overrun && used < PS2_KBD_BUFFER)
    {
      kbd_reply1 (kbd, kbd->scancode_set == 1 ? 0xff : 0x00);
      kbd->overrun = true;
    }
}

bool
ps2_kbd_read (Ps2Keyboard *kbd, uint8_t *byte)
{
  if (!ps2_queue_pop (&kbd->queue, byte))
    return false;
  kbd->last_sent = *byte;
  if (kbd->queue.count == 0)
    kbd->overrun = false;
  return true;
}
