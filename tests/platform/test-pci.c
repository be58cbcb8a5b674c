/* PCI host bridge and PciDevice, through configuration mechanism #1. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/platform/pci-host.h"
#include "platform-test-util.h"

typedef struct {
  uint64_t last_offset, last_value;
  unsigned reads, writes;
} BarLog;

static uint64_t
bar_read (void *opaque, uint64_t offset, unsigned size)
{
  BarLog *l = opaque;
  l->reads++;
  l->last_offset = offset;
  return 0xabcd0000 | offset;
}

static void
bar_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  BarLog *l = opaque;
  l->writes++;
  l->last_offset = offset;
  l->last_value = value;
}

static const IoOps bar_ops = { bar_read, bar_write };

typedef struct {
  uint64_t gpa, size;
  void *host;
  int mapped; /* net count */
  unsigned calls;
} RamLog;

static void
map_ram (void *opaque, uint64_t gpa, uint64_t size, void *host, bool map)
{
  RamLog *l = opaque;
  l->calls++;
  l->gpa = gpa;
  l->size = size;
  l->host = host;
  l->mapped += map ? 1 : -1;
}

typedef struct {
  PciDevice pci;
  BarLog io, mem, mem64;
  uint8_t vram[65536];
  unsigned hook_writes;
  uint32_t hook_last;
} TestDev;

static uint32_t
dev_config_read (PciDevice *d, unsigned offset, unsigned size, uint32_t value)
{
  /* A device-specific register: 0x60 reads a live counter. */
  TestDev *t = d->opaque;
  return offset == 0x60 && size == 4 ? t->hook_writes : value;
}

static void
dev_config_write (PciDevice *d, unsigned offset, unsigned size, uint32_t value)
{
  TestDev *t = d->opaque;
  t->hook_writes++;
  t->hook_last = value;
}

static void
test_dev_init (TestDev *t, uint16_t device_id)
{
  memset (t, 0, sizeof *t);
  pci_device_init (&t->pci, "testdev", 0x1234, device_id, 0x030000, 7);
  pci_device_set_subsystem (&t->pci, 0x1af4, 0x1100);
  pci_device_set_interrupt_pin (&t->pci, 1);
  g_assert_true (pci_device_set_bar_io (&t->pci, 0, 32, &bar_ops, &t->io));
  g_assert_true (pci_device_set_bar_mem (&t->pci, 1, 4096, false, false, &bar_ops, &t->mem));
  g_assert_true (pci_device_set_bar_mem (&t->pci, 2, 16384, true, true, &bar_ops, &t->mem64));
  g_assert_true (pci_device_set_bar_ram (&t->pci, 4, sizeof t->vram, false, true, t->vram));
  t->pci.config_read = dev_config_read;
  t->pci.config_write = dev_config_write;
  t->pci.opaque = t;
}

typedef struct {
  IoBus pio, mmio;
  TestIrqs irqs;
  IrqRouter router;
  RamLog ram;
  PciHost host;
  TestDev a, b;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  io_bus_init (&f->pio, "pio");
  io_bus_init (&f->mmio, "mmio");
  f->router = test_irqs_router (&f->irqs);
  g_assert_true (pci_host_init (&f->host, &f->pio, &f->mmio, &f->router, map_ram, &f->ram));
  test_dev_init (&f->a, 0x0a);
  test_dev_init (&f->b, 0x0b);
  g_assert_true (pci_host_add_device (&f->host, &f->a.pci, 3, 0, NULL));
  g_assert_true (pci_host_add_device (&f->host, &f->b.pci, 11, 0, NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  pci_host_destroy (&f->host);
  g_assert_cmpuint (f->pio.count, ==, 0);
  g_assert_cmpuint (f->mmio.count, ==, 0);
  g_assert_cmpint (f->ram.mapped, ==, 0);
  io_bus_destroy (&f->pio);
  io_bus_destroy (&f->mmio);
}

static uint32_t
in (Fixture *f, uint16_t port, unsigned size)
{
  uint64_t v;
  io_bus_read (&f->pio, port, size, &v);
  return (uint32_t) v;
}

static void
out (Fixture *f, uint16_t port, unsigned size, uint32_t v)
{
  io_bus_write (&f->pio, port, size, v);
}

static uint32_t
cfg_read (Fixture *f, unsigned slot, unsigned fn, unsigned off, unsigned size)
{
  out (f, 0xcf8, 4, 0x80000000u | slot << 11 | fn << 8 | (off & 0xfc));
  return in (f, (uint16_t) (0xcfc + (off & 3)), size);
}

static void
cfg_write (Fixture *f, unsigned slot, unsigned fn, unsigned off, unsigned size, uint32_t v)
{
  out (f, 0xcf8, 4, 0x80000000u | slot << 11 | fn << 8 | (off & 0xfc));
  out (f, (uint16_t) (0xcfc + (off & 3)), size, v);
}

static void
test_mechanism1 (Fixture *f, gconstpointer data)
{
  /* Linux's type-1 probe. */
  out (f, 0xcfb, 1, 0x01);
  out (f, 0xcf8, 4, 0x80000000);
  g_assert_cmphex (in (f, 0xcf8, 4), ==, 0x80000000);
  out (f, 0xcf8, 4, 0xffffffff);
  g_assert_cmphex (in (f, 0xcf8, 4), ==, 0x80fffffc); /* reserved bits read 0 */

  g_assert_cmphex (cfg_read (f, 0, 0, 0, 4), ==, 0x12378086);
  g_assert_cmphex (cfg_read (f, 0, 0, 0x0a, 2), ==, 0x0600);
  g_assert_cmphex (cfg_read (f, 0, 0, 0x02, 2), ==, 0x1237);
  g_assert_cmphex (cfg_read (f, 0, 0, 0x03, 1), ==, 0x12);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x00, 4), ==, 0x000a1234);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x2c, 4), ==, 0x11001af4);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x08, 4), ==, 0x03000007);
  /* Absent functions, other buses, enable clear: all ones. */
  g_assert_cmphex (cfg_read (f, 4, 0, 0, 4), ==, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 3, 1, 0, 2), ==, 0xffff);
  out (f, 0xcf8, 4, 0x80010000 | 3 << 11);
  g_assert_cmphex (in (f, 0xcfc, 4), ==, 0xffffffff);
  out (f, 0xcf8, 4, 0x00000000 | 3 << 11);
  g_assert_cmphex (in (f, 0xcfc, 4), ==, 0xffffffff);
  out (f, 0xcfc, 4, 0); /* dropped */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x00, 4), ==, 0x000a1234);
  /* The interrupt line is pre-set to the routed GSI; pin is INTA#. */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x3c, 2), ==, 0x0100 | (16 + 3));
  g_assert_cmphex (cfg_read (f, 11, 0, 0x3c, 1), ==, 16 + 3);
}

static void
test_read_only_bits (Fixture *f, gconstpointer data)
{
  for (unsigned off = 0; off < 0x10; off += 4)
    if (off != 4 && off != 0x0c)
      cfg_write (f, 3, 0, off, 4, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x00, 4), ==, 0x000a1234);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x08, 4), ==, 0x03000007);
  cfg_write (f, 3, 0, 0x0c, 4, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x0c, 4), ==, 0x0000ffff); /* header, BIST RO */
  cfg_write (f, 3, 0, 0x2c, 4, 0);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x2c, 4), ==, 0x11001af4);
  cfg_write (f, 3, 0, 0x3c, 2, 0xffff);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x3c, 2), ==, 0x01ff);
  /* Command: only the defined bits stick. */
  cfg_write (f, 3, 0, 0x04, 2, 0xffff);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x04, 2), ==, 0x0547);
  cfg_write (f, 3, 0, 0x04, 2, 0);
  /* Status error bits are write-one-to-clear. */
  f->a.pci.config[PCI_STATUS + 1] |= 0x20; /* received master abort */
  cfg_write (f, 3, 0, 0x04, 4, 0x00000000);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x07, 1), ==, 0x20);
  cfg_write (f, 3, 0, 0x04, 4, 0xffff0000);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x07, 1), ==, 0x00);
  /* The host bridge's command register is fixed. */
  cfg_write (f, 0, 0, 0x04, 2, 0);
  g_assert_cmphex (cfg_read (f, 0, 0, 0x04, 2), ==, 0x0006);
  /* Expansion ROM is not implemented: reads zero even after sizing. */
  cfg_write (f, 3, 0, 0x30, 4, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x30, 4), ==, 0);
}

static void
test_bar_sizing (Fixture *f, gconstpointer data)
{
  for (unsigned i = 0; i < 6; i++)
    cfg_write (f, 3, 0, 0x10 + 4 * i, 4, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x10, 4), ==, 0x0000ffe1);  /* 32 bytes I/O */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x14, 4), ==, 0xfffff000);  /* 4 KiB mem */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x18, 4), ==, 0xffffc00c);  /* 16 KiB 64-bit pf */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x1c, 4), ==, 0xffffffff);  /* upper half */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x20, 4), ==, 0xffff0008);  /* 64 KiB RAM, pf */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x24, 4), ==, 0x00000000);  /* unused */
  /* Nothing mapped: decoding is off. */
  g_assert_cmpuint (f->mmio.count, ==, 0);
  g_assert_cmpuint (f->ram.calls, ==, 0);
  /* Byte-wise BAR writes also keep the type bits. */
  cfg_write (f, 3, 0, 0x10, 1, 0x00);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x10, 4), ==, 0x0000ff01);

  /* Bad BAR declarations are refused. */
  PciDevice d;
  pci_device_init (&d, "bad", 1, 2, 0, 0);
  g_assert_false (pci_device_set_bar_mem (&d, 0, 3000, false, false, &bar_ops, NULL));
  g_assert_false (pci_device_set_bar_mem (&d, 5, 4096, true, false, &bar_ops, NULL));
  g_assert_false (pci_device_set_bar_mem (&d, 6, 4096, false, false, &bar_ops, NULL));
  g_assert_false (pci_device_set_bar_io (&d, 0, 512, &bar_ops, NULL));
  g_assert_true (pci_device_set_bar_mem (&d, 0, 4096, true, false, &bar_ops, NULL));
  g_assert_false (pci_device_set_bar_io (&d, 1, 16, &bar_ops, NULL)); /* upper half */
  g_assert_false (pci_device_set_bar_ram (&d, 2, 1024, false, false, d.config));
}

static void
program_bars (Fixture *f)
{
  cfg_write (f, 3, 0, 0x10, 4, 0xc000);
  cfg_write (f, 3, 0, 0x14, 4, 0xc1000000);
  cfg_write (f, 3, 0, 0x18, 4, 0xc2000000);
  cfg_write (f, 3, 0, 0x1c, 4, 0);
  cfg_write (f, 3, 0, 0x20, 4, 0xd0000000);
  cfg_write (f, 3, 0, 0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

static void
test_bar_mapping (Fixture *f, gconstpointer data)
{
  program_bars (f);
  const IoRange *r = io_bus_find (&f->pio, 0xc010);
  g_assert_nonnull (r);
  g_assert_cmphex (r->base, ==, 0xc000);
  g_assert_cmphex (r->len, ==, 32);
  uint64_t v;
  g_assert_true (io_bus_read (&f->pio, 0xc004, 2, &v));
  g_assert_cmphex (v, ==, 0xabcd0004);
  g_assert_true (io_bus_write (&f->mmio, 0xc1000010, 4, 0x55));
  g_assert_cmphex (f->a.mem.last_offset, ==, 0x10);
  g_assert_cmphex (f->a.mem.last_value, ==, 0x55);
  g_assert_true (io_bus_write (&f->mmio, 0xc2003ff8, 8, 1));
  g_assert_cmphex (f->a.mem64.last_offset, ==, 0x3ff8);
  g_assert_cmpint (f->ram.mapped, ==, 1);
  g_assert_cmphex (f->ram.gpa, ==, 0xd0000000);
  g_assert_cmphex (f->ram.size, ==, 65536);
  g_assert_true (f->ram.host == f->a.vram);
  g_assert_true (f->a.pci.bars[4].mapped);

  /* Moving a BAR moves the range. */
  cfg_write (f, 3, 0, 0x14, 4, 0xc1100000);
  g_assert_null (io_bus_find (&f->mmio, 0xc1000000));
  g_assert_nonnull (io_bus_find (&f->mmio, 0xc1100000));
  cfg_write (f, 3, 0, 0x20, 4, 0xd0010000);
  g_assert_cmpint (f->ram.mapped, ==, 1);
  g_assert_cmphex (f->ram.gpa, ==, 0xd0010000);

  /* A 64-bit BAR above 4 GiB only maps inside the 64-bit window. */
  cfg_write (f, 3, 0, 0x1c, 4, 0x10);
  g_assert_false (f->a.pci.bars[2].mapped);
  pci_host_set_mmio64_window (&f->host, 0x1000000000ull, 0x1000000000ull);
  g_assert_true (f->a.pci.bars[2].mapped);
  g_assert_nonnull (io_bus_find (&f->mmio, 0x10c2000000ull));
  cfg_write (f, 3, 0, 0x1c, 4, 0);

  /* Memory decode off: memory BARs go, the I/O BAR stays. */
  cfg_write (f, 3, 0, 0x04, 2, PCI_COMMAND_IO);
  g_assert_cmpuint (f->mmio.count, ==, 0);
  g_assert_cmpint (f->ram.mapped, ==, 0);
  g_assert_nonnull (io_bus_find (&f->pio, 0xc000));
  cfg_write (f, 3, 0, 0x04, 2, 0);
  g_assert_null (io_bus_find (&f->pio, 0xc000));
}

static void
test_bar_hostile_placement (Fixture *f, gconstpointer data)
{
  static const IoOps other_ops = { bar_read, bar_write };
  BarLog other = { 0 };
  vmm_log_set_quiet (TRUE);
  program_bars (f);

  /* Outside the windows: over RAM, over legacy ports, over the LAPIC,
   * wrapping past 4 GiB, or the sizing value itself. */
  const uint32_t bad_mem[] = { 0x00000000, 0x00100000, 0xbffff000, 0xfee00000, 0xfffff000 };
  for (unsigned i = 0; i < G_N_ELEMENTS (bad_mem); i++)
    {
      cfg_write (f, 3, 0, 0x14, 4, bad_mem[i]);
      g_assert_false (f->a.pci.bars[1].mapped);
      g_assert_null (io_bus_find (&f->mmio, bad_mem[i]));
    }
  cfg_write (f, 3, 0, 0x20, 4, 0xfec00000 - 0x8000); /* aligns down: last slot in the window */
  g_assert_true (f->a.pci.bars[4].mapped);
  g_assert_cmphex (f->ram.gpa, ==, 0xfebf0000);
  cfg_write (f, 3, 0, 0x20, 4, 0xfec00000); /* the IOAPIC's page */
  g_assert_false (f->a.pci.bars[4].mapped);
  g_assert_cmpint (f->ram.mapped, ==, 0);
  cfg_write (f, 3, 0, 0x10, 4, 0x3f8);
  g_assert_false (f->a.pci.bars[0].mapped);
  cfg_write (f, 3, 0, 0x10, 4, 0xffe0);
  g_assert_true (f->a.pci.bars[0].mapped); /* last 32 bytes of I/O space: fine */

  /* Overlapping another range: left unmapped, mapped once the other moves. */
  g_assert_true (io_bus_register (&f->mmio, 0xc8000000, 0x1000, &other_ops, &other, "other"));
  guint64 errors = vmm_guest_error_count ();
  cfg_write (f, 3, 0, 0x14, 4, 0xc8000000);
  g_assert_false (f->a.pci.bars[1].mapped);
  g_assert_cmpuint (vmm_guest_error_count (), >, errors);
  g_assert_true (io_bus_unregister (&f->mmio, 0xc8000000, &other));
  cfg_write (f, 3, 0, 0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
  g_assert_true (f->a.pci.bars[1].mapped);

  /* Two devices fighting over one address, then one leaves: the other gets it. */
  cfg_write (f, 11, 0, 0x14, 4, 0xc8000000);
  cfg_write (f, 11, 0, 0x04, 2, PCI_COMMAND_MEMORY);
  g_assert_false (f->b.pci.bars[1].mapped);
  cfg_write (f, 3, 0, 0x14, 4, 0xc9000000);
  g_assert_true (f->b.pci.bars[1].mapped);
  g_assert_true (f->a.pci.bars[1].mapped);

  /* A trapped BAR may not cover a RAM BAR, nor a RAM BAR a trapped one. */
  cfg_write (f, 3, 0, 0x20, 4, 0xd0000000);
  g_assert_true (f->a.pci.bars[4].mapped);
  cfg_write (f, 11, 0, 0x14, 4, 0xd0001000);
  g_assert_false (f->b.pci.bars[1].mapped);
  cfg_write (f, 11, 0, 0x20, 4, 0xc9000000);
  g_assert_false (f->b.pci.bars[4].mapped);
  vmm_log_set_quiet (FALSE);
}

static void
test_machine_reset (Fixture *f, gconstpointer data)
{
  program_bars (f);
  cfg_write (f, 3, 0, 0x0c, 2, 0x4010);
  cfg_write (f, 3, 0, 0x3c, 1, 0x0b);
  uint8_t cap = pci_add_capability (&f->a.pci, PCI_CAP_ID_MSI, 14);
  f->a.pci.wmask[cap + 2] = 0x01; /* MSI enable */
  cfg_write (f, 3, 0, cap + 2, 1, 0x01);
  cfg_write (f, 11, 0, 0x04, 2, PCI_COMMAND_INTX_DISABLE);
  pci_set_irq (&f->b.pci, true);
  g_assert_false (f->irqs.level[19]);
  g_assert_cmpint (f->ram.mapped, ==, 1);

  pci_host_reset (&f->host);
  g_assert_cmpuint (f->pio.count, ==, 1); /* only 0xCF8 itself */
  g_assert_cmpuint (f->mmio.count, ==, 0);
  g_assert_cmpint (f->ram.mapped, ==, 0);
  g_assert_cmphex (in (f, 0xcf8, 4), ==, 0);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x04, 2), ==, 0);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x10, 4), ==, 0x1);        /* type bit only */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x18, 4), ==, 0xc);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x0c, 2), ==, 0);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x3c, 1), ==, 19);          /* routed line again */
  g_assert_cmphex (cfg_read (f, 3, 0, cap + 2, 1), ==, 0);        /* MSI off */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x00, 4), ==, 0x000a1234);  /* identity kept */
  g_assert_cmphex (cfg_read (f, 0, 0, 0x04, 2), ==, 0x0006);      /* bridge still decodes */
  g_assert_true (f->irqs.level[19]); /* INTx disable cleared: b's level shows */
  pci_set_irq (&f->b.pci, false);
}

static void
test_intx (Fixture *f, gconstpointer data)
{
  unsigned gsi = pci_host_intx_gsi (3, 1);
  g_assert_cmpuint (gsi, ==, 19);
  g_assert_cmpuint (pci_host_intx_gsi (11, 1), ==, 19); /* shares with slot 3 */
  g_assert_cmpuint (pci_host_intx_gsi (3, 4), ==, 22);
  g_assert_cmpuint (pci_host_intx_gsi (31, 4), ==, 18);

  pci_set_irq (&f->a.pci, true);
  g_assert_true (f->irqs.level[gsi]);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x06, 1) & PCI_STATUS_INTERRUPT, ==, PCI_STATUS_INTERRUPT);
  pci_set_irq (&f->b.pci, true);
  pci_set_irq (&f->a.pci, false);
  g_assert_true (f->irqs.level[gsi]); /* b still holds the shared line */
  g_assert_cmphex (cfg_read (f, 3, 0, 0x06, 1) & PCI_STATUS_INTERRUPT, ==, 0);
  /* INTx disable masks the pin but not the status bit. */
  cfg_write (f, 11, 0, 0x04, 2, PCI_COMMAND_INTX_DISABLE);
  g_assert_false (f->irqs.level[gsi]);
  g_assert_cmphex (cfg_read (f, 11, 0, 0x06, 1) & PCI_STATUS_INTERRUPT, ==, PCI_STATUS_INTERRUPT);
  cfg_write (f, 11, 0, 0x04, 2, 0);
  g_assert_true (f->irqs.level[gsi]);
  pci_set_irq (&f->b.pci, false);
  g_assert_false (f->irqs.level[gsi]);
  g_assert_cmpuint (f->irqs.raises[gsi], ==, 2);
}

static void
record_msi (void *opaque, uint64_t address, uint32_t data)
{
  g_array_append_val ((GArray *) opaque, address);
  uint64_t d = data;
  g_array_append_val ((GArray *) opaque, d);
}

static void
test_msi_needs_bus_master (Fixture *f, gconstpointer data)
{
  GArray *msis = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  IrqRouter router = { test_irqs_set_level, record_msi, msis };
  f->host.irq = &router;
  vmm_log_set_quiet (TRUE);
  g_assert_false (pci_send_msi (&f->a.pci, 0xfee00000, 0x4041));
  g_assert_cmpuint (msis->len, ==, 0);
  cfg_write (f, 3, 0, 0x04, 2, PCI_COMMAND_MASTER);
  g_assert_true (pci_send_msi (&f->a.pci, 0xfee00000, 0x4041));
  g_assert_cmpuint (msis->len, ==, 2);
  g_assert_cmphex (g_array_index (msis, uint64_t, 0), ==, 0xfee00000);
  g_assert_cmphex (g_array_index (msis, uint64_t, 1), ==, 0x4041);
  vmm_log_set_quiet (FALSE);
  f->host.irq = &f->router;
  g_array_unref (msis);
}

static void
test_capabilities_and_hooks (Fixture *f, gconstpointer data)
{
  PciDevice *d = &f->a.pci;
  uint8_t c1 = pci_add_capability (d, PCI_CAP_ID_MSIX, 12);
  uint8_t c2 = pci_add_capability (d, PCI_CAP_ID_VNDR, 16);
  g_assert_cmpuint (c1, ==, 0x40);
  g_assert_cmpuint (c2, ==, 0x4c);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x06, 1) & PCI_STATUS_CAP_LIST, ==, PCI_STATUS_CAP_LIST);
  g_assert_cmphex (cfg_read (f, 3, 0, 0x34, 1), ==, c2);
  g_assert_cmphex (cfg_read (f, 3, 0, c2, 2), ==, (unsigned) (c1 << 8 | PCI_CAP_ID_VNDR));
  g_assert_cmphex (cfg_read (f, 3, 0, c1, 2), ==, PCI_CAP_ID_MSIX);
  g_assert_cmpuint (pci_find_capability (d, PCI_CAP_ID_MSIX), ==, c1);
  g_assert_cmpuint (pci_find_capability (d, PCI_CAP_ID_MSI), ==, 0);
  /* Cap headers are read-only unless the device says otherwise. */
  cfg_write (f, 3, 0, c1, 2, 0xffff);
  g_assert_cmphex (cfg_read (f, 3, 0, c1, 2), ==, PCI_CAP_ID_MSIX);
  /* A device-writable byte (e.g. MSI-X enable) goes through its mask. */
  d->wmask[c1 + 3] = 0xc0;
  cfg_write (f, 3, 0, c1 + 3, 1, 0xff);
  g_assert_cmphex (cfg_read (f, 3, 0, c1 + 3, 1), ==, 0xc0);
  g_assert_cmphex (f->a.hook_last, ==, 0xff);
  unsigned writes = f->a.hook_writes;
  g_assert_cmphex (cfg_read (f, 3, 0, 0x60, 4), ==, writes);
  /* Running out of space is reported, not overflowed. */
  g_assert_cmpuint (pci_add_capability (d, PCI_CAP_ID_VNDR, 200), ==, 0);
  g_assert_cmpuint (pci_add_capability (d, PCI_CAP_ID_VNDR, 1), ==, 0);
  /* A loop in a guest-corrupted list does not hang the search. */
  d->config[c1 + 1] = c2;
  g_assert_cmpuint (pci_find_capability (d, PCI_CAP_ID_PM), ==, 0);
}

static void
test_add_device_rules (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  /* They outlive this function (teardown destroys the host): static. */
  static TestDev c, d2, e, g0;
  test_dev_init (&c, 0x0c);
  test_dev_init (&d2, 0x0d);
  test_dev_init (&e, 0x0e);
  g_assert_false (pci_host_add_device (&f->host, &c.pci, 3, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (pci_host_add_device (&f->host, &c.pci, 32, 0, &error));
  g_clear_error (&error);
  g_assert_false (pci_host_add_device (&f->host, &c.pci, 4, 8, &error));
  g_clear_error (&error);
  g_assert_true (pci_host_add_device (&f->host, &c.pci, -1, 0, &error));
  g_assert_cmpuint (c.pci.devfn, ==, 1 << 3); /* first free slot */
  /* Multi-function: function 0 advertises it once another exists. */
  g_assert_cmphex (cfg_read (f, 1, 0, 0x0e, 1), ==, 0x00);
  g_assert_true (pci_host_add_device (&f->host, &d2.pci, 1, 5, &error));
  g_assert_cmphex (cfg_read (f, 1, 0, 0x0e, 1), ==, 0x80);
  g_assert_cmphex (cfg_read (f, 1, 5, 0x00, 4), ==, 0x000d1234);
  /* Added before function 0: function 0 still says so. */
  g_assert_true (pci_host_add_device (&f->host, &e.pci, 2, 3, &error));
  test_dev_init (&g0, 0x0f);
  g_assert_true (pci_host_add_device (&f->host, &g0.pci, 2, 0, &error));
  g_assert_cmphex (cfg_read (f, 2, 0, 0x0e, 1), ==, 0x80);
}

static void
test_cf9_passthrough (Fixture *f, gconstpointer data)
{
  BarLog reset = { 0 };
  out (f, 0xcf9, 1, 0x06); /* no handler: dropped */
  pci_host_set_cf9_handler (&f->host, &bar_ops, &reset);
  out (f, 0xcf8, 4, 0x80001800);
  out (f, 0xcf9, 1, 0x06);
  g_assert_cmpuint (reset.writes, ==, 1);
  g_assert_cmphex (reset.last_value, ==, 0x06);
  g_assert_cmphex (in (f, 0xcf9, 1), ==, 0x00);
  g_assert_cmphex (in (f, 0xcf8, 4), ==, 0x80001800); /* latch untouched */
  out (f, 0xcfa, 2, 0xffff);
  g_assert_cmphex (in (f, 0xcf8, 4), ==, 0x80001800);
  g_assert_cmpuint (reset.writes, ==, 1);
}

static void
check_invariants (Fixture *f)
{
  unsigned counts[PCI_INTX_GSI_COUNT] = { 0 };
  for (unsigned fn = 0; fn < 256; fn++)
    {
      PciDevice *d = f->host.devices[fn];
      if (!d)
        continue;
      if (d->intx_asserted)
        counts[pci_host_intx_gsi (fn >> 3, d->config[PCI_INTERRUPT_PIN]) - 16]++;
      for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        {
          const PciBar *b = &d->bars[i];
          if (!b->mapped)
            continue;
          if (b->kind == PCI_BAR_IO)
            g_assert_true (b->mapped_addr >= 0xd00 && b->mapped_addr + b->size <= 0x10000);
          else
            g_assert_true (b->mapped_addr >= 0xc0000000 && b->mapped_addr + b->size <= 0xfec00000);
        }
    }
  for (unsigned g = 0; g < PCI_INTX_GSI_COUNT; g++)
    {
      g_assert_cmpuint (counts[g], ==, f->host.intx_count[g]);
      g_assert_true (f->irqs.level[16 + g] == (counts[g] > 0));
    }
  g_assert_cmphex (pci_get_long (&f->a.pci, 0), ==, 0x000a1234);
  g_assert_cmphex (pci_get_long (&f->host.bridge, 0), ==, 0x12378086);
  g_assert_cmphex (f->host.bridge.config[PCI_HEADER_TYPE], ==, 0);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (0xcf8);
  static const unsigned sizes[] = { 1, 2, 4, 3, 8 };
  vmm_log_set_quiet (TRUE);
  for (unsigned i = 0; i < 100000; i++)
    {
      unsigned size = sizes[g_rand_int_range (rand, 0, 5)];
      uint16_t port = (uint16_t) (0xcf8 + g_rand_int_range (rand, 0, 8));
      uint32_t value = g_rand_int (rand);
      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0:
          /* Mostly existing functions, any register. */
          out (f, 0xcf8, 4, (g_rand_boolean (rand) ? 0x80000000 : 0)
                                | (g_rand_int_range (rand, 0, 4) == 0 ? value & 0x00ff0000 : 0)
                                | (uint32_t) g_rand_int_range (rand, 0, 16) << 11
                                | (value & 0x7fc));
          break;
        case 1:
        case 2:
          /* Raw bus accesses, including ones that straddle or overrun. */
          io_bus_write (&f->pio, port, size, value);
          break;
        case 3:
          {
            uint64_t v;
            io_bus_read (&f->pio, port, size, &v);
          }
          break;
        case 4:
          /* BARs to random addresses, decoding on. */
          cfg_write (f, g_rand_boolean (rand) ? 3 : 11, 0, 0x10 + 4 * g_rand_int_range (rand, 0, 6),
                     4, g_rand_boolean (rand) ? value : 0xc0000000 | (value & 0x0fff0000));
          cfg_write (f, g_rand_boolean (rand) ? 3 : 11, 0, 0x04, 2, value & 0xffff);
          break;
        case 5:
          pci_set_irq (g_rand_boolean (rand) ? &f->a.pci : &f->b.pci, g_rand_boolean (rand));
          break;
        }
      /* Direct config calls with out-of-range offsets and sizes. */
      if (i % 101 == 0)
        {
          g_assert_cmphex (pci_device_config_read (&f->a.pci, 256 + (value & 0xff), 4), ==,
                           0xffffffff);
          pci_device_config_write (&f->a.pci, 0xfe, 4, value);
          pci_device_config_write (&f->a.pci, 0x10, 3, value);
          g_assert_cmphex (pci_host_io_read (&f->host, 0xcfd, 4), ==, 0xffffffff);
        }
      check_invariants (f);
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  program_bars (f);
  cfg_write (f, 3, 0, 0x3c, 1, 0x42);
  cfg_write (f, 11, 0, 0x0c, 1, 0x10);
  pci_set_irq (&f->a.pci, true);
  out (f, 0xcf8, 4, 0x80005810);

  SnapWriter *w = snap_writer_new ();
  pci_host_save (&f->host, w);
  GBytes *state = snap_writer_finish (w);

  Fixture g;
  setup (&g, NULL);
  SnapReader *r = snap_reader_new (state, NULL);
  GError *error = NULL;
  g_assert_true (pci_host_load (&g.host, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  for (unsigned off = 0; off < 256; off += 4)
    {
      if (off == 0x60)
        continue; /* the hook's live counter differs per instance */
      g_assert_cmphex (cfg_read (&g, 3, 0, off, 4), ==, cfg_read (f, 3, 0, off, 4));
      g_assert_cmphex (cfg_read (&g, 11, 0, off, 4), ==, cfg_read (f, 11, 0, off, 4));
    }
  g_assert_nonnull (io_bus_find (&g.pio, 0xc000));
  g_assert_nonnull (io_bus_find (&g.mmio, 0xc1000000));
  g_assert_nonnull (io_bus_find (&g.mmio, 0xc2000000));
  g_assert_cmpint (g.ram.mapped, ==, 1);
  g_assert_cmphex (g.ram.gpa, ==, 0xd0000000);
  g_assert_true (g.irqs.level[19]);
  g_assert_true (g.a.pci.intx_level);

  /* Loading again over live state drops the old mappings and lines. */
  pci_set_irq (&g.b.pci, true);
  cfg_write (&g, 11, 0, 0x10, 4, 0xe000);
  cfg_write (&g, 11, 0, 0x04, 2, PCI_COMMAND_IO);
  g_assert_nonnull (io_bus_find (&g.pio, 0xe000));
  r = snap_reader_new (state, NULL);
  g_assert_true (pci_host_load (&g.host, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  g_assert_null (io_bus_find (&g.pio, 0xe000));
  g_assert_cmpuint (g.host.intx_count[3], ==, 1);
  g_assert_cmpint (g.ram.mapped, ==, 1);

  /* Truncated: rejected, nothing changes. */
  GBytes *cut = test_truncate_stream (state, 100);
  r = snap_reader_new (cut, NULL);
  g_assert_false (pci_host_load (&g.host, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (cut);
  g_assert_nonnull (io_bus_find (&g.mmio, 0xc1000000));

  /* A machine with different devices refuses the state. */
  Fixture h;
  memset (&h, 0, sizeof h);
  io_bus_init (&h.pio, "pio");
  io_bus_init (&h.mmio, "mmio");
  h.router = test_irqs_router (&h.irqs);
  pci_host_init (&h.host, &h.pio, &h.mmio, &h.router, map_ram, &h.ram);
  test_dev_init (&h.a, 0x0a);
  test_dev_init (&h.b, 0x0c); /* different device ID */
  pci_host_add_device (&h.host, &h.a.pci, 3, 0, NULL);
  pci_host_add_device (&h.host, &h.b.pci, 11, 0, NULL);
  r = snap_reader_new (state, NULL);
  g_assert_false (pci_host_load (&h.host, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  snap_reader_free (r);
  g_assert_cmphex (cfg_read (&h, 3, 0, 0x04, 2), ==, 0); /* untouched */
  teardown (&h, NULL);

  g_bytes_unref (state);
  teardown (&g, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/pci/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("mechanism1", test_mechanism1);
  ADD ("read-only-bits", test_read_only_bits);
  ADD ("bar-sizing", test_bar_sizing);
  ADD ("bar-mapping", test_bar_mapping);
  ADD ("bar-hostile-placement", test_bar_hostile_placement);
  ADD ("intx", test_intx);
  ADD ("machine-reset", test_machine_reset);
  ADD ("msi-bus-master", test_msi_needs_bus_master);
  ADD ("capabilities-hooks", test_capabilities_and_hooks);
  ADD ("add-device-rules", test_add_device_rules);
  ADD ("cf9-passthrough", test_cf9_passthrough);
  ADD ("hostile", test_hostile);
  ADD ("save-load", test_save_load);
  return g_test_run ();
}
