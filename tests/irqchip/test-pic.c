/* 8259A pair driven through its ports, as Linux's i8259 driver does. */
#include <string.h>

#include "irqchip-test-util.h"
#include "vmm-core/irqchip/pic-8259.h"

typedef struct {
  Pic8259 *pic;
  bool intr;
  unsigned edges; /* INTR rising edges */
} Fixture;

static void
on_output (void *opaque, bool level)
{
  Fixture *f = opaque;
  if (level && !f->intr)
    f->edges++;
  f->intr = level;
}

/* The init sequence Linux's init_8259A() sends: master at 0x30, slave at
 * 0x38, cascade on IR2, 8086 mode. */
static void
linux_init (Pic8259 *pic, uint8_t icw4)
{
  pic_ioport_write (pic, 0x21, 0xff);
  pic_ioport_write (pic, 0xa1, 0xff);
  pic_ioport_write (pic, 0x20, 0x11);
  pic_ioport_write (pic, 0x21, 0x30);
  pic_ioport_write (pic, 0x21, 0x04);
  pic_ioport_write (pic, 0x21, icw4);
  pic_ioport_write (pic, 0xa0, 0x11);
  pic_ioport_write (pic, 0xa1, 0x38);
  pic_ioport_write (pic, 0xa1, 0x02);
  pic_ioport_write (pic, 0xa1, icw4);
  pic_ioport_write (pic, 0x21, 0x00);
  pic_ioport_write (pic, 0xa1, 0x00);
}

static void
setup (Fixture *f, uint8_t icw4)
{
  memset (f, 0, sizeof *f);
  f->pic = pic_new (NULL, on_output, f);
  linux_init (f->pic, icw4);
}

static uint8_t
read_isr (Pic8259 *pic, uint16_t cmd)
{
  pic_ioport_write (pic, cmd, 0x0b);
  return pic_ioport_read (pic, cmd);
}

static uint8_t
read_irr (Pic8259 *pic, uint16_t cmd)
{
  pic_ioport_write (pic, cmd, 0x0a);
  return pic_ioport_read (pic, cmd);
}

static void
test_init_and_ack (void)
{
  Fixture f;
  setup (&f, 0x01);
  g_assert_false (f.intr);
  g_assert_cmpuint (pic_ioport_read (f.pic, 0x21), ==, 0);

  pic_set_irq (f.pic, 3, true);
  g_assert_true (f.intr);
  g_assert_cmpuint (read_irr (f.pic, 0x20), ==, 0x08);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x33);
  g_assert_false (f.intr);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0x08);
  g_assert_cmpuint (read_irr (f.pic, 0x20), ==, 0x00); /* edge consumed */
  pic_set_irq (f.pic, 3, false);

  /* Masked lines latch but do not interrupt until unmasked. */
  pic_ioport_write (f.pic, 0x21, 0x10);
  pic_set_irq (f.pic, 4, true);
  g_assert_false (f.intr);
  pic_ioport_write (f.pic, 0x20, 0x20); /* non-specific EOI of IR3 */
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0);
  g_assert_false (f.intr);
  pic_ioport_write (f.pic, 0x21, 0x00);
  g_assert_true (f.intr);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x34);
  pic_free (f.pic);
}

static void
test_priority_and_nesting (void)
{
  Fixture f;
  setup (&f, 0x01);
  pic_set_irq (f.pic, 5, true);
  pic_set_irq (f.pic, 3, true);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x33); /* IR3 beats IR5 */
  g_assert_false (pic_has_interrupt (f.pic));           /* IR5 waits */
  pic_set_irq (f.pic, 1, true);
  g_assert_true (pic_has_interrupt (f.pic)); /* IR1 nests over IR3 */
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x31);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0x0a);
  pic_ioport_write (f.pic, 0x20, 0x20); /* EOI IR1 */
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0x08);
  g_assert_false (pic_has_interrupt (f.pic));
  pic_ioport_write (f.pic, 0x20, 0x63); /* specific EOI IR3 */
  g_assert_true (pic_has_interrupt (f.pic));
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x35);

  /* Specific EOI of a line not in service leaves the others. */
  pic_ioport_write (f.pic, 0x20, 0x62);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0x20);
  pic_ioport_write (f.pic, 0x20, 0x20);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0);
  pic_free (f.pic);
}

static void
test_rotation (void)
{
  Fixture f;
  setup (&f, 0x01);
  /* Rotate on non-specific EOI: the serviced line becomes the lowest. */
  pic_set_irq (f.pic, 3, true);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x33);
  pic_ioport_write (f.pic, 0x20, 0xa0);
  pic_set_irq (f.pic, 3, false);
  pic_set_irq (f.pic, 3, true);
  pic_set_irq (f.pic, 5, true);
  pic_set_irq (f.pic, 2 + 0, false);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x35); /* IR4 is highest now */
  pic_ioport_write (f.pic, 0x20, 0x20);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x33);
  pic_ioport_write (f.pic, 0x20, 0x20);

  /* Set priority: IR6 lowest, so IR7 beats IR0. */
  pic_ioport_write (f.pic, 0x20, 0xc6);
  pic_set_irq (f.pic, 0, true);
  pic_set_irq (f.pic, 7, true);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x37);
  pic_ioport_write (f.pic, 0x20, 0x67);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x30);
  pic_free (f.pic);
}

static void
test_cascade (void)
{
  Fixture f;
  setup (&f, 0x01);
  pic_set_irq (f.pic, 10, true);
  g_assert_true (f.intr);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x3a);
  g_assert_cmpuint (read_isr (f.pic, 0xa0), ==, 0x04);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0x04);
  /* A second slave line waits for both EOIs (master IR2 in service). */
  pic_set_irq (f.pic, 9, true);
  g_assert_false (f.intr);
  pic_ioport_write (f.pic, 0xa0, 0x20);
  pic_ioport_write (f.pic, 0x20, 0x20);
  g_assert_true (f.intr);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x39);
  pic_ioport_write (f.pic, 0xa0, 0x20);
  pic_ioport_write (f.pic, 0x20, 0x20);
  g_assert_false (f.intr);
  /* The slave masked: nothing reaches the master. */
  pic_ioport_write (f.pic, 0xa1, 0x10);
  pic_set_irq (f.pic, 12, true);
  g_assert_false (f.intr);
  pic_free (f.pic);
}

static void
test_spurious_and_level (void)
{
  Fixture f;
  setup (&f, 0x01);
  /* A level line dropped before INTA gives the spurious IR7 vector. */
  pic_ioport_write (f.pic, 0x4d0, 0x20); /* IR5 level */
  g_assert_cmpuint (pic_ioport_read (f.pic, 0x4d0), ==, 0x20);
  pic_set_irq (f.pic, 5, true);
  g_assert_true (f.intr);
  pic_set_irq (f.pic, 5, false);
  g_assert_false (f.intr);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x37);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0); /* spurious: no ISR bit */

  /* Level line stays requested after EOI while high. */
  pic_set_irq (f.pic, 5, true);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x35);
  pic_ioport_write (f.pic, 0x20, 0x20);
  g_assert_true (f.intr);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x35);
  pic_set_irq (f.pic, 5, false);
  pic_ioport_write (f.pic, 0x20, 0x20);
  g_assert_false (f.intr);

  /* Spurious on the slave: IRQ15's vector, master IR2 still acknowledged. */
  pic_ioport_write (f.pic, 0x4d1, 0xff);
  g_assert_cmpuint (pic_ioport_read (f.pic, 0x4d1), ==, 0xde); /* IRQ8/13 edge only */
  pic_set_irq (f.pic, 11, true);
  g_assert_true (f.intr);
  pic_set_irq (f.pic, 11, false);
  /* master IR2 latched an edge, the slave has nothing now */
  g_assert_true (f.intr);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x3f);
  g_assert_cmpuint (read_isr (f.pic, 0xa0), ==, 0);
  pic_free (f.pic);
}

static void
test_auto_eoi_and_poll (void)
{
  Fixture f;
  setup (&f, 0x03); /* auto-EOI */
  pic_set_irq (f.pic, 6, true);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x36);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0);
  pic_free (f.pic);

  setup (&f, 0x01);
  pic_ioport_write (f.pic, 0x20, 0x0c); /* poll */
  g_assert_cmpuint (pic_ioport_read (f.pic, 0x20), ==, 0x00);
  pic_set_irq (f.pic, 4, true);
  pic_ioport_write (f.pic, 0x20, 0x0c);
  g_assert_cmpuint (pic_ioport_read (f.pic, 0x20), ==, 0x84);
  g_assert_cmpuint (read_isr (f.pic, 0x20), ==, 0x10);
  /* After the poll read the port reads IRR/ISR again. */
  g_assert_cmpuint (pic_ioport_read (f.pic, 0x21), ==, 0x00);

  /* Special mask mode: a masked in-service line no longer blocks lower ones. */
  pic_ioport_write (f.pic, 0x21, 0x10);
  pic_ioport_write (f.pic, 0x20, 0x68);
  pic_set_irq (f.pic, 6, true);
  g_assert_true (pic_has_interrupt (f.pic));
  pic_ioport_write (f.pic, 0x20, 0x48); /* reset special mask */
  g_assert_false (pic_has_interrupt (f.pic));
  pic_free (f.pic);
}

static void
test_save_load (void)
{
  Fixture f, g;
  setup (&f, 0x01);
  pic_ioport_write (f.pic, 0x4d1, 0x02);
  pic_set_irq (f.pic, 3, true);
  pic_set_irq (f.pic, 9, true);
  pic_ioport_write (f.pic, 0x21, 0x80);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, 0x39); /* IR2 (slave IR1) beats IR3 */
  SnapWriter *w = snap_writer_new ();
  pic_save (f.pic, w);
  GBytes *b = snap_writer_finish (w);

  memset (&g, 0, sizeof g);
  g.pic = pic_new (NULL, on_output, &g);
  SnapReader *r = snap_reader_new (b, NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (pic_load (g.pic, r, &err));
  g_assert_no_error (err);
  snap_reader_free (r);
  g_assert_cmpmem (&f.pic->chip, sizeof f.pic->chip, &g.pic->chip, sizeof g.pic->chip);
  g_assert_cmpint (f.intr, ==, g.intr);
  /* Both continue identically. */
  pic_ioport_write (f.pic, 0xa0, 0x20);
  pic_ioport_write (g.pic, 0xa0, 0x20);
  pic_ioport_write (f.pic, 0x20, 0x20);
  pic_ioport_write (g.pic, 0x20, 0x20);
  g_assert_cmpuint (pic_acknowledge (f.pic), ==, pic_acknowledge (g.pic));

  /* Truncated and corrupt sections are refused and change nothing. */
  Pic8259Chip before[2];
  memcpy (before, g.pic->chip, sizeof before);
  size_t len = test_section_size (b, "pic");
  for (size_t keep = 0; keep < len; keep += 3)
    {
      r = test_mangled_section (b, "pic", keep, len, 0);
      g_clear_error (&err);
      g_assert_false (pic_load (g.pic, r, &err));
      g_assert_nonnull (err);
      snap_reader_free (r);
    }
  r = test_mangled_section (b, "pic", len, 4, 9); /* master priority_add = 9 */
  g_clear_error (&err);
  g_assert_false (pic_load (g.pic, r, &err));
  snap_reader_free (r);
  r = test_mangled_section (b, "pic", len, 5, 0x31); /* unaligned vector base */
  g_clear_error (&err);
  g_assert_false (pic_load (g.pic, r, &err));
  snap_reader_free (r);
  g_assert_cmpmem (before, sizeof before, g.pic->chip, sizeof g.pic->chip);

  g_bytes_unref (b);
  pic_free (f.pic);
  pic_free (g.pic);
}

static void
test_random_hostile (void)
{
  static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x22 };
  Fixture f;
  setup (&f, 0x01);
  vmm_log_set_quiet (TRUE);
  GRand *rand = g_rand_new_with_seed (8259);
  for (int i = 0; i < 200000; i++)
    {
      uint32_t op = g_rand_int_range (rand, 0, 10);
      if (op < 4)
        pic_ioport_write (f.pic, ports[g_rand_int_range (rand, 0, G_N_ELEMENTS (ports))],
                          (uint8_t) g_rand_int (rand));
      else if (op < 6)
        (void) pic_ioport_read (f.pic, ports[g_rand_int_range (rand, 0, G_N_ELEMENTS (ports))]);
      else if (op < 9)
        pic_set_irq (f.pic, g_rand_int_range (rand, 0, 20), g_rand_boolean (rand));
      else if (pic_has_interrupt (f.pic))
        {
          uint8_t v = pic_acknowledge (f.pic);
          g_assert_true ((v & 7) <= 7);
        }
      for (unsigned c = 0; c < 2; c++)
        {
          g_assert_cmpuint (f.pic->chip[c].priority_add, <, 8);
          g_assert_cmpuint (f.pic->chip[c].init_state, <=, 3);
          g_assert_cmpuint (f.pic->chip[c].elcr & ~f.pic->chip[c].elcr_mask, ==, 0);
        }
      g_assert_cmpint (f.intr, ==, pic_has_interrupt (f.pic));
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
  pic_free (f.pic);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pic/init-and-ack", test_init_and_ack);
  g_test_add_func ("/pic/priority-and-nesting", test_priority_and_nesting);
  g_test_add_func ("/pic/rotation", test_rotation);
  g_test_add_func ("/pic/cascade", test_cascade);
  g_test_add_func ("/pic/spurious-and-level", test_spurious_and_level);
  g_test_add_func ("/pic/auto-eoi-and-poll", test_auto_eoi_and_poll);
  g_test_add_func ("/pic/save-load", test_save_load);
  g_test_add_func ("/pic/random-hostile", test_random_hostile);
  return g_test_run ();
}
