/* Our irqchip state through KVM's structures and back. */
#include <string.h>

#include "irqchip-test-util.h"
#include "vmm-core/irqchip/irqchip-kvm.h"
#include "vmm-core/irqchip/lapic.h"

static void
test_pic (void)
{
  Pic8259 *a = pic_new (NULL, NULL, NULL), *b = pic_new (NULL, NULL, NULL);
  static const uint16_t seq[][2] = {
    { 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
    { 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
    { 0x21, 0x20 }, { 0xa1, 0x00 }, { 0x4d1, 0x0c }, { 0x20, 0xc3 },
  };
  for (unsigned i = 0; i < G_N_ELEMENTS (seq); i++)
    pic_ioport_write (a, seq[i][0], (uint8_t) seq[i][1]);
  pic_set_irq (a, 1, true);
  pic_set_irq (a, 11, true);
  pic_set_irq (a, 6, true);
  g_assert_cmpuint (pic_acknowledge (a), ==, 0x36); /* IR3 set lowest: IR6 beats IR1, IR2 */
  struct kvm_pic_state k[2];
  pic_to_kvm (a, k);
  g_assert_cmpuint (k[0].irq_base, ==, 0x30);
  g_assert_cmpuint (k[1].elcr, ==, 0x0c);
  g_assert_cmpuint (k[0].isr, ==, 0x40);
  g_autoptr (GError) err = NULL;
  g_assert_true (pic_from_kvm (b, k, &err));
  g_assert_cmpmem (a->chip, sizeof a->chip, b->chip, sizeof b->chip);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpint (pic_has_interrupt (a), ==, pic_has_interrupt (b));
      g_assert_cmpuint (pic_acknowledge (a), ==, pic_acknowledge (b));
    }
  /* Hostile KVM state is refused. */
  k[1].init_state = 7;
  g_assert_false (pic_from_kvm (b, k, &err));
  g_assert_nonnull (err);
  pic_free (a);
  pic_free (b);
}

static void
test_ioapic (void)
{
  TestClock clock;
  test_clock_init (&clock);
  ApicBus *bus = apic_bus_new (1, NULL, NULL);
  Lapic *l = lapic_new (bus, 0, clock.q, true);
  Ioapic *a = ioapic_new (NULL, bus);
  a->redirtbl[3] = IOAPIC_RTE_LEVEL | 0x43;
  a->redirtbl[4] = 0x44;
  a->id = 2;
  ioapic_set_irq (a, 3, true);
  g_assert_true (a->redirtbl[3] & IOAPIC_RTE_REMOTE_IRR);
  struct kvm_ioapic_state k;
  ioapic_to_kvm (a, &k);
  g_assert_cmphex (k.base_address, ==, 0xfec00000);
  g_assert_cmpuint (k.redirtbl[3].fields.vector, ==, 0x43);
  g_assert_cmpuint (k.redirtbl[3].fields.remote_irr, ==, 1);
  g_assert_cmpuint (k.redirtbl[3].fields.trig_mode, ==, 1);
  g_assert_cmphex (k.irr, ==, 1u << 3);
  ioapic_free (a);
  Ioapic *b = ioapic_new (NULL, bus);
  g_autoptr (GError) err = NULL;
  g_assert_true (ioapic_from_kvm (b, &k, &err));
  g_assert_cmphex (b->redirtbl[3], ==, IOAPIC_RTE_LEVEL | IOAPIC_RTE_REMOTE_IRR | 0x43);
  g_assert_cmpuint (b->id, ==, 2);
  /* The asserted level line is redelivered at EOI. */
  lapic_write (l, LAPIC_REG_SVR, 0x1ff);
  ioapic_eoi (b, 0x43);
  g_assert_cmpint (lapic_has_interrupt (l), ==, 0x43);
  k.base_address = 0xfed00000; /* relocated: not supported */
  g_assert_false (ioapic_from_kvm (b, &k, &err));
  ioapic_free (b);
  lapic_free (l);
  apic_bus_free (bus);
  test_clock_clear (&clock);
}

static void
test_pit (void)
{
  TestClock clock;
  test_clock_init (&clock);
  Pit8254 *a = pit_new (NULL, clock.q, NULL, NULL);
  pit_ioport_write (a, 0x43, 0x34);
  pit_ioport_write (a, 0x40, 0x9c);
  pit_ioport_write (a, 0x40, 0x2e);
  pit_ioport_write (a, 0x43, 0xb0);
  pit_ioport_write (a, 0x42, 0x00);
  pit_ioport_write (a, 0x42, 0x80); /* gate low: frozen */
  pit_ioport_write (a, 0x61, 0x02);
  test_clock_to (&clock, 3333333);
  const int64_t offset = 987654321;
  struct kvm_pit_state2 k;
  pit_to_kvm (a, offset, &k);
  g_assert_cmpuint (k.channels[0].mode, ==, 2);
  g_assert_cmpuint (k.channels[0].count, ==, 11932);
  g_assert_cmpint (k.channels[0].count_load_time, ==, offset);
  g_assert_cmpint (k.channels[2].count_load_time, ==, 3333333 + offset); /* shifted */
  g_assert_true (k.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON);

  Pit8254 *b = pit_new (NULL, clock.q, NULL, NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (pit_from_kvm (b, &k, offset, &err));
  for (unsigned ch = 0; ch < 3; ch++)
    g_assert_cmpuint (pit_get_count (a, ch), ==, pit_get_count (b, ch));
  g_assert_true (vmm_timer_pending (b->timer));
  g_assert_cmpint (vmm_timer_expire (b->timer), ==, vmm_timer_expire (a->timer));
  test_clock_to (&clock, 7777777);
  for (unsigned ch = 0; ch < 3; ch++)
    g_assert_cmpuint (pit_get_count (a, ch), ==, pit_get_count (b, ch));
  struct kvm_pit_state2 bad = k;
  bad.channels[0].count_load_time = INT64_MIN; /* hostile: no overflow, refused */
  g_assert_false (pit_from_kvm (b, &bad, offset, &err));
  g_clear_error (&err);
  k.channels[1].mode = 9;
  g_assert_false (pit_from_kvm (b, &k, offset, &err));
  pit_free (a);
  pit_free (b);
  test_clock_clear (&clock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/irqchip-kvm/pic", test_pic);
  g_test_add_func ("/irqchip-kvm/ioapic", test_ioapic);
  g_test_add_func ("/irqchip-kvm/pit", test_pit);
  return g_test_run ();
}
