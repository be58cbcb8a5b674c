/* i8042 + PS/2 keyboard and mouse, driven through ports 0x60/0x64 the way
 * the Linux i8042/atkbd/psmouse drivers do, including hostile values. */
#include <linux/input-event-codes.h>
#include <glib.h>

#include "input/i8042.h"
#include "vmm-core/io-bus.h"
#include "vmm-core/log.h"

typedef struct {
  bool level[16];
  unsigned rises[16];
  unsigned resets;
  int a20; /* -1 = never called */
  IrqRouter router;
  IoBus pio;
  I8042 kbc;
} Fixture;

static void
set_level (void *opaque, unsigned gsi, bool level)
{
  Fixture *f = opaque;
  g_assert_cmpuint (gsi, <, 16);
  if (level && !f->level[gsi])
    f->rises[gsi]++;
  f->level[gsi] = level;
}

static void
on_reset (void *opaque)
{
  ((Fixture *) opaque)->resets++;
}

static void
on_a20 (void *opaque, bool on)
{
  ((Fixture *) opaque)->a20 = on;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->router = (IrqRouter){ .set_level = set_level, .opaque = f };
  f->a20 = -1;
  io_bus_init (&f->pio, "pio");
  I8042Hooks hooks = { on_reset, on_a20, f };
  g_assert_true (i8042_init (&f->kbc, &f->pio, (IrqLine){ &f->router, 1 },
                             (IrqLine){ &f->router, 12 }, &hooks));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  i8042_destroy (&f->kbc);
  io_bus_destroy (&f->pio);
}

static uint8_t
inb (Fixture *f, uint16_t port)
{
  uint64_t v;
  io_bus_read (&f->pio, port, 1, &v);
  return (uint8_t) v;
}

static void
outb (Fixture *f, uint16_t port, uint8_t v)
{
  g_assert_true (io_bus_write (&f->pio, port, 1, v));
}

/* Reads one byte if the status says one is there; -1 otherwise. */
static int
read_data (Fixture *f)
{
  if (!(inb (f, 0x64) & I8042_STR_OBF))
    return -1;
  return inb (f, 0x60);
}

static void
expect_bytes (Fixture *f, const uint8_t *want, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      int b = read_data (f);
      if (b != want[i])
        g_error ("byte %zu: got %d, want 0x%02x", i, b, want[i]);
    }
  g_assert_cmpint (read_data (f), ==, -1);
}

#define EXPECT(f, ...)                                                        \
  do {                                                                        \
    const uint8_t want_[] = { __VA_ARGS__ };                                  \
    expect_bytes ((f), want_, sizeof want_);                                  \
  } while (0)

static void
write_ctr (Fixture *f, uint8_t ctr)
{
  outb (f, 0x64, 0x60);
  outb (f, 0x60, ctr);
}

static void
test_controller_commands (Fixture *f, gconstpointer data)
{
  g_assert_true (inb (f, 0x64) & I8042_STR_SYSFLAG);
  outb (f, 0x64, 0x20);
  g_assert_true (inb (f, 0x64) & I8042_STR_CMDDAT);
  EXPECT (f, 0x65); /* XLATE | AUXDIS | SYSFLAG | KBDINT */
  outb (f, 0x64, 0xaa);
  EXPECT (f, 0x55);
  outb (f, 0x64, 0xab);
  EXPECT (f, 0x00);
  outb (f, 0x64, 0xa9);
  EXPECT (f, 0x00);
  outb (f, 0x64, 0xa4);
  EXPECT (f, 0xf1);

  /* Controller RAM beyond the command byte. */
  outb (f, 0x64, 0x65);
  outb (f, 0x60, 0x5a);
  outb (f, 0x64, 0x25);
  EXPECT (f, 0x5a);

  /* Aux enable/disable shows in the command byte. */
  outb (f, 0x64, 0xa8);
  outb (f, 0x64, 0x20);
  EXPECT (f, 0x45);
  outb (f, 0x64, 0xa7);
  outb (f, 0x64, 0x20);
  EXPECT (f, 0x65);

  /* Output port: A20 off and on, then reset through bit 0. */
  outb (f, 0x64, 0xd1);
  outb (f, 0x60, 0x01);
  g_assert_cmpint (f->a20, ==, 0);
  g_assert_cmpuint (f->resets, ==, 0);
  outb (f, 0x64, 0xd0);
  EXPECT (f, 0x01);
  outb (f, 0x64, 0xdf);
  g_assert_cmpint (f->a20, ==, 1);
  outb (f, 0x64, 0xd1);
  outb (f, 0x60, 0x02);
  g_assert_cmpuint (f->resets, ==, 1);
  outb (f, 0x64, 0xfe);
  g_assert_cmpuint (f->resets, ==, 2);
  outb (f, 0x64, 0xff); /* pulse nothing */
  g_assert_cmpuint (f->resets, ==, 2);

  /* Unknown commands are ignored (and logged). */
  vmm_log_set_quiet (TRUE);
  guint64 errs = vmm_guest_error_count ();
  outb (f, 0x64, 0x01);
  outb (f, 0x64, 0xc9);
  g_assert_cmpuint (vmm_guest_error_count (), ==, errs + 2);
  vmm_log_set_quiet (FALSE);
  g_assert_cmpint (read_data (f), ==, -1);
}

static void
test_keyboard_commands (Fixture *f, gconstpointer data)
{
  write_ctr (f, 0x05); /* no translation, kbd interrupts */
  outb (f, 0x60, 0xff);
  EXPECT (f, 0xfa, 0xaa);
  outb (f, 0x60, 0xf2);
  EXPECT (f, 0xfa, 0xab, 0x83);
  outb (f, 0x60, 0xee);
  EXPECT (f, 0xee);
  outb (f, 0x60, 0xed);
  EXPECT (f, 0xfa);
  outb (f, 0x60, 0x05);
  EXPECT (f, 0xfa);
  g_assert_cmpuint (i8042_kbd_leds (&f->kbc), ==, 5);
  outb (f, 0x60, 0xf3);
  outb (f, 0x60, 0x20);
  EXPECT (f, 0xfa, 0xfa);
  g_assert_cmpuint (f->kbc.kbd.typematic, ==, 0x20);
  outb (f, 0x60, 0xf0);
  outb (f, 0x60, 0x00);
  EXPECT (f, 0xfa, 0xfa, 0x02);
  outb (f, 0x60, 0xf0);
  outb (f, 0x60, 0x01);
  EXPECT (f, 0xfa, 0xfa);
  outb (f, 0x60, 0xf0);
  outb (f, 0x60, 0x00);
  EXPECT (f, 0xfa, 0xfa, 0x01);
  i8042_key_event (&f->kbc, KEY_A, true);
  EXPECT (f, 0x1e);

  vmm_log_set_quiet (TRUE);
  outb (f, 0x60, 0xf0);
  outb (f, 0x60, 0x07); /* no such set */
  EXPECT (f, 0xfa, 0xfe);
  outb (f, 0x60, 0x42); /* not a command */
  EXPECT (f, 0xfe);
  vmm_log_set_quiet (FALSE);
  outb (f, 0x60, 0xfe); /* resend the last byte */
  EXPECT (f, 0xfe);

  /* Disabled scanning drops keys; F4 brings them back. */
  outb (f, 0x60, 0xf5);
  EXPECT (f, 0xfa);
  i8042_key_event (&f->kbc, KEY_B, true);
  g_assert_cmpint (read_data (f), ==, -1);
  outb (f, 0x60, 0xf4);
  EXPECT (f, 0xfa);
  i8042_key_event (&f->kbc, KEY_B, true);
  EXPECT (f, 0x32); /* F5 restored set 2 */
}

static void
test_translation (Fixture *f, gconstpointer data)
{
  /* Default: XLATE on, keyboard in set 2 → the guest sees set 1. */
  i8042_key_event (&f->kbc, KEY_A, true);
  i8042_key_event (&f->kbc, KEY_A, false);
  EXPECT (f, 0x1e, 0x9e);
  i8042_key_event (&f->kbc, KEY_KPENTER, false);
  EXPECT (f, 0xe0, 0x9c);
  i8042_key_event (&f->kbc, KEY_F7, true);
  EXPECT (f, 0x41);
  i8042_key_event (&f->kbc, KEY_PAUSE, true);
  EXPECT (f, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
  /* The ID comes through translated, which is how Linux detects XLATE. */
  outb (f, 0x60, 0xf2);
  EXPECT (f, 0xfa, 0xab, 0x41);

  /* Every ISO key: translated set 2 equals set 1, make and break. */
  for (const PcKeycode *k = keymap_iso105_keys; *k; k++)
    for (int down = 1; down >= 0; down--)
      {
        uint8_t want[KEYMAP_SEQ_MAX];
        size_t n = keymap_ps2_sequence (*k, 1, down, want);
        i8042_key_event (&f->kbc, *k, down);
        expect_bytes (f, want, n);
      }

  /* Without XLATE the raw set 2 bytes come through. */
  write_ctr (f, 0x01);
  i8042_key_event (&f->kbc, KEY_A, false);
  EXPECT (f, 0xf0, 0x1c);
}

static void
test_irqs (Fixture *f, gconstpointer data)
{
  i8042_key_event (&f->kbc, KEY_A, true);
  i8042_key_event (&f->kbc, KEY_A, false);
  g_assert_true (f->level[1]);
  g_assert_cmpuint (f->rises[1], ==, 1);
  inb (f, 0x60);
  /* The second byte makes a fresh edge. */
  g_assert_true (f->level[1]);
  g_assert_cmpuint (f->rises[1], ==, 2);
  inb (f, 0x60);
  g_assert_false (f->level[1]);

  /* KBDINT off: data but no interrupt. */
  write_ctr (f, 0x44);
  i8042_key_event (&f->kbc, KEY_A, true);
  g_assert_true (inb (f, 0x64) & I8042_STR_OBF);
  g_assert_false (f->level[1]);
  inb (f, 0x60);

  /* Keyboard port disabled (AD): keys wait in the keyboard. */
  write_ctr (f, 0x47);
  outb (f, 0x64, 0xad);
  i8042_key_event (&f->kbc, KEY_B, true);
  g_assert_false (inb (f, 0x64) & I8042_STR_OBF);
  outb (f, 0x64, 0xae);
  EXPECT (f, 0x30);

  /* Mouse bytes come with AUXDATA and IRQ 12. */
  outb (f, 0x64, 0xa8);
  outb (f, 0x64, 0xd4);
  outb (f, 0x60, 0xf4);
  g_assert_true (f->level[12]);
  g_assert_false (f->level[1]);
  g_assert_true (inb (f, 0x64) & I8042_STR_AUXDATA);
  EXPECT (f, 0xfa);
  g_assert_false (f->level[12]);

  /* D2/D3 inject bytes as if from the devices. */
  outb (f, 0x64, 0xd2);
  outb (f, 0x60, 0x99);
  g_assert_true (f->level[1]);
  EXPECT (f, 0x99);
  outb (f, 0x64, 0xd3);
  outb (f, 0x60, 0x77);
  g_assert_true (f->level[12]);
  EXPECT (f, 0x77);
}

static void
mouse_cmd (Fixture *f, uint8_t b)
{
  outb (f, 0x64, 0xd4);
  outb (f, 0x60, b);
}

static void
test_mouse (Fixture *f, gconstpointer data)
{
  write_ctr (f, 0x47);
  mouse_cmd (f, 0xff);
  EXPECT (f, 0xfa, 0xaa, 0x00);
  mouse_cmd (f, 0xf2);
  EXPECT (f, 0xfa, 0x00);
  mouse_cmd (f, 0xe9);
  EXPECT (f, 0xfa, 0x00, 0x02, 100);

  /* Not streaming yet: movement is held back. */
  i8042_mouse_event (&f->kbc, 5, 5, 0, 0);
  g_assert_cmpint (read_data (f), ==, -1);
  mouse_cmd (f, 0xf4);
  EXPECT (f, 0xfa, 0x08 | 0x20, 5, (uint8_t) -5);

  /* Buttons; y up in PS/2 terms. */
  i8042_mouse_event (&f->kbc, -3, -2, 0, 1);
  EXPECT (f, 0x09 | 0x10, (uint8_t) -3, 2);

  /* A big move is split into packets that fit 9 bits. */
  i8042_mouse_event (&f->kbc, 600, 0, 0, 1);
  EXPECT (f, 0x09, 255, 0, 0x09, 255, 0, 0x09, 90, 0);

  /* IntelliMouse knock: 200, 100, 80 → ID 3 and 4-byte packets. */
  const uint8_t rates[] = { 200, 100, 80 };
  for (int i = 0; i < 3; i++)
    {
      mouse_cmd (f, 0xf3);
      mouse_cmd (f, rates[i]);
      EXPECT (f, 0xfa, 0xfa);
    }
  mouse_cmd (f, 0xf2);
  EXPECT (f, 0xfa, 0x03);
  i8042_mouse_event (&f->kbc, 1, 0, 2, 0);
  EXPECT (f, 0x08, 1, 0, 2);
  i8042_mouse_event (&f->kbc, 0, 0, -1, 0);
  EXPECT (f, 0x08, 0, 0, 0x0f);

  /* Status reflects settings; hostile arguments are refused. */
  mouse_cmd (f, 0xe7);
  mouse_cmd (f, 0xe8);
  mouse_cmd (f, 0x03);
  EXPECT (f, 0xfa, 0xfa, 0xfa);
  mouse_cmd (f, 0xe9);
  EXPECT (f, 0xfa, 0x30, 0x03, 80);
  vmm_log_set_quiet (TRUE);
  mouse_cmd (f, 0xe8);
  mouse_cmd (f, 0x09);
  EXPECT (f, 0xfa, 0xfe);
  mouse_cmd (f, 0xf3);
  mouse_cmd (f, 0x00);
  EXPECT (f, 0xfa, 0xfe);
  mouse_cmd (f, 0x10);
  EXPECT (f, 0xfe);
  vmm_log_set_quiet (FALSE);

  /* Remote mode: packets only on request. */
  mouse_cmd (f, 0xe6);
  mouse_cmd (f, 0xf0);
  EXPECT (f, 0xfa, 0xfa);
  i8042_mouse_event (&f->kbc, 4, 0, 0, 0);
  g_assert_cmpint (read_data (f), ==, -1);
  mouse_cmd (f, 0xeb);
  EXPECT (f, 0xfa, 0x08, 4, 0, 0);

  /* Wrap mode echoes until EC. */
  mouse_cmd (f, 0xee);
  mouse_cmd (f, 0x42);
  mouse_cmd (f, 0xec);
  EXPECT (f, 0xfa, 0x42, 0xfa);
}

static void
test_keyboard_overflow (Fixture *f, gconstpointer data)
{
  write_ctr (f, 0x05);
  outb (f, 0x64, 0xad); /* keep bytes in the keyboard */
  for (int i = 0; i < 40; i++)
    i8042_key_event (&f->kbc, KEY_KPENTER, i % 2 == 0);
  outb (f, 0x64, 0xae);
  /* Whole sequences only, then one overrun code (00 in set 2). */
  int n = 0, last = -1, b;
  while ((b = read_data (f)) >= 0)
    {
      last = b;
      n++;
    }
  g_assert_cmpint (last, ==, 0x00);
  g_assert_cmpint (n, <=, PS2_KBD_BUFFER);
  g_assert_cmpuint (f->kbc.kbd.keys_dropped, >, 0);
  /* After draining, keys flow again. */
  i8042_key_event (&f->kbc, KEY_A, true);
  EXPECT (f, 0x1c);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  write_ctr (f, 0x47);
  outb (f, 0x64, 0xa8);
  mouse_cmd (f, 0xf4);
  EXPECT (f, 0xfa);
  outb (f, 0x60, 0xed);
  outb (f, 0x60, 0x03);
  EXPECT (f, 0xfa, 0xfa);
  i8042_key_event (&f->kbc, KEY_Z, true);
  i8042_key_event (&f->kbc, KEY_X, true);
  i8042_mouse_event (&f->kbc, 7, 0, 0, 2);

  SnapWriter *w = snap_writer_new ();
  i8042_save (&f->kbc, w);
  GBytes *bytes = snap_writer_finish (w);

  Fixture g = { 0 };
  fixture_setup (&g, NULL);
  SnapReader *r = snap_reader_new (bytes, NULL);
  GError *error = NULL;
  g_assert_true (i8042_load (&g.kbc, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  g_assert_true (g.level[1]); /* the pending byte's interrupt is driven again */
  g_assert_cmpuint (i8042_kbd_leds (&g.kbc), ==, 3);
  EXPECT (&g, 0x2c, 0x2d, 0x0a, 7, 0);

  /* A truncated section is refused. */
  gsize len;
  const uint8_t *raw = g_bytes_get_data (bytes, &len);
  GBytes *cut = g_bytes_new (raw, len - 10);
  r = snap_reader_new (cut, &error);
  if (r)
    {
      g_assert_false (i8042_load (&g.kbc, r, &error));
      snap_reader_free (r);
    }
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_bytes_unref (cut);
  g_bytes_unref (bytes);
  fixture_teardown (&g, NULL);
}

static void
test_hostile_fuzz (Fixture *f, gconstpointer data)
{
  /* Random port traffic never crashes and the status stays consistent. */
  vmm_log_set_quiet (TRUE);
  GRand *rand = g_rand_new_with_seed (42);
  for (int i = 0; i < 200000; i++)
    {
      unsigned op = g_rand_int_range (rand, 0, 6);
      uint8_t v = (uint8_t) g_rand_int (rand);
      if (op == 0)
        outb (f, 0x64, v);
      else if (op == 1)
        outb (f, 0x60, v);
      else if (op == 2)
        inb (f, 0x60);
      else if (op == 3)
        i8042_key_event (&f->kbc, (PcKeycode) g_rand_int_range (rand, 0, 0x300), v & 1);
      else if (op == 4)
        i8042_mouse_event (&f->kbc, g_rand_int_range (rand, -100000, 100000),
                           g_rand_int_range (rand, -1000, 1000), v % 5 - 2, v);
      else
        {
          uint8_t s = inb (f, 0x64);
          if (s & I8042_STR_AUXDATA)
            g_assert_true (s & I8042_STR_OBF);
        }
      g_assert_cmpuint (f->kbc.kbd.queue.count, <=, PS2_QUEUE_SIZE);
      g_assert_cmpuint (f->kbc.mouse.queue.count, <=, PS2_QUEUE_SIZE);
    }
  g_rand_free (rand);
  vmm_log_set_quiet (FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/i8042/controller-commands", test_controller_commands);
  ADD ("/i8042/keyboard-commands", test_keyboard_commands);
  ADD ("/i8042/translation", test_translation);
  ADD ("/i8042/irqs", test_irqs);
  ADD ("/i8042/mouse", test_mouse);
  ADD ("/i8042/keyboard-overflow", test_keyboard_overflow);
  ADD ("/i8042/save-load", test_save_load);
  ADD ("/i8042/hostile-fuzz", test_hostile_fuzz);
  return g_test_run ();
}
