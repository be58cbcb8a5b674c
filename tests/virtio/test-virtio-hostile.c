/* Hostile descriptor chains against virtio-blk: every one must end in an
 * error status or DEVICE_NEEDS_RESET, never a host crash or an access
 * outside guest RAM / the image (ASan watches the latter). */
#include "virtio-blk-fixture.h"

#define ALL_FEATURES                                                                               \
  (VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH) | VIRTIO_FEATURE (VIRTIO_BLK_F_DISCARD)                     \
   | VIRTIO_FEATURE (VIRTIO_BLK_F_WRITE_ZEROES) | VIRTIO_FEATURE (VIRTIO_F_INDIRECT_DESC)          \
   | VIRTIO_FEATURE (VIRTIO_F_RING_EVENT_IDX))

static void
set_header (Fx *fx, uint64_t gpa, uint32_t type, uint64_t sector)
{
  uint8_t *h = fx_ram (fx, gpa, 17);
  memset (h, 0, 16);
  memcpy (h, &type, 4);
  memcpy (h + 8, &sector, 8);
  h[16] = 0xee;
}

/* Publishes descriptors 0..n-1 as written by the caller, head 0, and kicks. */
static void
submit_head (Fx *fx, uint16_t head)
{
  vt_avail_publish (&fx->q, head);
  vt_kick (&fx->q);
}

static void
expect_needs_reset (Fx *fx)
{
  g_assert_true (fx_needs_reset (fx));
  g_assert_cmpuint (vt_used_idx (&fx->q), ==, 0);
  /* Further kicks do nothing until reset. */
  vt_kick (&fx->q);
  g_assert_cmpuint (vt_used_idx (&fx->q), ==, 0);
}

static void
test_outside_ram (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_IN, 0);
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
  /* Data buffer in the PCI hole. */
  vt_desc_write (&fx->q, 1, 0xc0000000ull, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
  vt_desc_write (&fx->q, 2, FX_HDR + 16, 1, VIRTQ_DESC_F_WRITE, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_straddles_ram_end (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_IN, 0);
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
  vt_desc_write (&fx->q, 1, FX_RAM - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
  vt_desc_write (&fx->q, 2, FX_HDR + 16, 1, VIRTQ_DESC_F_WRITE, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_huge_length (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_OUT, 0);
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
  vt_desc_write (&fx->q, 1, 0x1000, 0xffffffffu, VIRTQ_DESC_F_NEXT, 2);
  vt_desc_write (&fx->q, 2, FX_HDR + 16, 1, VIRTQ_DESC_F_WRITE, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_address_wraps (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  vt_desc_write (&fx->q, 0, UINT64_MAX - 8, 16, 0, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_loop (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_IN, 0);
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
  vt_desc_write (&fx->q, 1, FX_DATA, 16, VIRTQ_DESC_F_NEXT, 2);
  vt_desc_write (&fx->q, 2, FX_DATA, 16, VIRTQ_DESC_F_NEXT, 1);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_next_out_of_range (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 16);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_head_out_of_range (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  submit_head (fx, 0xffff);
  expect_needs_reset (fx);
}

static void
test_avail_idx_runs_ahead (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  uint16_t idx = GUINT16_TO_LE (100);
  memcpy (fx_ram (fx, fx->q.avail + 2, 2), &idx, 2);
  vt_kick (&fx->q);
  expect_needs_reset (fx);
}

static void
test_indirect_nested (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  /* Indirect table at FX_DATA whose first entry is itself indirect. */
  uint64_t table = FX_DATA;
  vt_desc_write (&fx->q, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
  VtQueue view = fx->q;
  view.desc = table;
  vt_desc_write (&view, 0, table + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_indirect_bad_tables (Fx *fx, gconstpointer data)
{
  struct
  {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
  } cases[] = {
    { FX_DATA, 0, VIRTQ_DESC_F_INDIRECT },                         /* empty */
    { FX_DATA, 24, VIRTQ_DESC_F_INDIRECT },                        /* not 16n */
    { FX_DATA, 16 * (VIRTQ_MAX_SEGS + 1), VIRTQ_DESC_F_INDIRECT }, /* too long */
    { 0xd0000000ull, 64, VIRTQ_DESC_F_INDIRECT },                  /* in the hole */
    { FX_DATA, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT },    /* with NEXT */
  };
  for (unsigned i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      fx_start (fx, ALL_FEATURES, 0xffff);
      vt_desc_write (&fx->q, 0, cases[i].addr, cases[i].len, cases[i].flags, 1);
      submit_head (fx, 0);
      expect_needs_reset (fx);
      vt_common_write (&fx->dev, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    }
}

static void
test_indirect_not_negotiated (Fx *fx, gconstpointer data)
{
  fx_start (fx, VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH), 0xffff);
  vt_desc_write (&fx->q, 0, FX_DATA, 32, VIRTQ_DESC_F_INDIRECT, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_indirect_ok (Fx *fx, gconstpointer data)
{
  /* The good case, for contrast: header, data and status in one indirect
   * table, including a loop-free next chain in non-linear order. */
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_GET_ID, 0);
  uint64_t table = FX_DATA + 0x1000;
  vt_desc_write (&fx->q, 0, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
  VtQueue view = fx->q;
  view.desc = table;
  vt_desc_write (&view, 2, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 0);
  vt_desc_write (&view, 0, FX_DATA, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  vt_desc_write (&view, 1, FX_HDR + 16, 1, VIRTQ_DESC_F_WRITE, 0);
  /* The chain starts at entry 0 of the table: put the header there. */
  vt_desc_write (&view, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 2);
  vt_desc_write (&view, 2, FX_DATA, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  submit_head (fx, 0);
  g_assert_false (fx_needs_reset (fx));
  uint32_t id, len;
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (len, ==, 21);
  g_assert_cmpuint (*fx_ram (fx, FX_HDR + 16, 1), ==, VIRTIO_BLK_S_OK);
  g_assert_cmpmem (fx_ram (fx, FX_DATA, 20), 20, "serial-0123456789abc", 20);
}

static void
test_readable_after_writable (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_OUT, 0);
  vt_desc_write (&fx->q, 0, FX_HDR + 16, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  vt_desc_write (&fx->q, 1, FX_HDR, 16, 0, 0);
  submit_head (fx, 0);
  expect_needs_reset (fx);
}

static void
test_wrong_direction (Fx *fx, gconstpointer data)
{
  /* Header marked device-writable: no request to read, chain returned with
   * nothing written, device stays usable. */
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_IN, 0);
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
  vt_desc_write (&fx->q, 1, FX_HDR + 16, 1, VIRTQ_DESC_F_WRITE, 0);
  submit_head (fx, 0);
  uint32_t id, len;
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (len, ==, 0);
  /* Status byte only readable: nowhere to put the status. */
  vt_desc_write (&fx->q, 2, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 3);
  vt_desc_write (&fx->q, 3, FX_HDR + 16, 1, 0, 0);
  submit_head (fx, 2);
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (len, ==, 0);
  /* Neither needed a reset: the device still serves good requests. */
  g_assert_false (fx_needs_reset (fx));
  fx->q.next_desc = 4;
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_OUT, 0, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_OK);
}

static void
test_zero_length (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  set_header (fx, FX_HDR, VIRTIO_BLK_T_IN, 0);
  /* A zero-length data descriptor in the middle is skipped. */
  vt_desc_write (&fx->q, 0, FX_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
  vt_desc_write (&fx->q, 1, 0xdeadbeef000ull, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
  vt_desc_write (&fx->q, 2, FX_HDR + 16, 1, VIRTQ_DESC_F_WRITE, 0);
  submit_head (fx, 0);
  g_assert_false (fx_needs_reset (fx));
  uint32_t id, len;
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (len, ==, 1);
  g_assert_cmpuint (*fx_ram (fx, FX_HDR + 16, 1), ==, VIRTIO_BLK_S_OK);
}

static void
test_out_of_range_sectors (Fx *fx, gconstpointer data)
{
  fx_start (fx, ALL_FEATURES, 0xffff);
  uint64_t sectors[] = { FX_SECTORS,       FX_SECTORS + 1,         UINT64_MAX,
                         UINT64_MAX / 512, (UINT64_MAX / 512) + 1, 1ull << 63 };
  for (unsigned i = 0; i < G_N_ELEMENTS (sectors); i++)
    {
      g_assert_cmpint (
          vt_blk_request (&fx->q, VIRTIO_BLK_T_IN, sectors[i], FX_HDR, FX_DATA, 512, NULL), ==,
          VIRTIO_BLK_S_IOERR);
      g_assert_cmpint (
          vt_blk_request (&fx->q, VIRTIO_BLK_T_OUT, sectors[i], FX_HDR, FX_DATA, 512, NULL), ==,
          VIRTIO_BLK_S_IOERR);
    }
  g_assert_cmpuint (block_size (fx->bs), ==, FX_SECTORS * 512ull);
  g_assert_false (fx_needs_reset (fx));
}

static void
test_bad_rings (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  struct
  {
    uint16_t size;
    uint64_t desc, avail, used;
  } cases[] = {
    { 0, 0x10000, 0x11000, 0x12000 },
    { 12, 0x10000, 0x11000, 0x12000 },               /* not a power of two */
    { 512, 0x10000, 0x20000, 0x30000 },              /* above max 256 */
    { 16, 0x10008, 0x11000, 0x12000 },               /* misaligned desc */
    { 16, 0x10000, 0x11001, 0x12000 },               /* misaligned avail */
    { 16, 0x10000, 0x11000, 0x12002 },               /* misaligned used */
    { 16, FX_RAM - 16, 0x11000, 0x12000 },           /* desc past RAM end */
    { 16, 0x10000, 0x11000, 0xc0000000ull },         /* used in the hole */
    { 16, 0x10000, 0xfffffffffffffff0ull, 0x12000 }, /* avail wraps */
  };
  for (unsigned i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (vt_negotiate (d, VIRTIO_FEATURE (VIRTIO_F_VERSION_1)));
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_SIZE, 2, cases[i].size);
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_DESCLO, 8, cases[i].desc);
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)cases[i].avail);
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, (uint32_t)(cases[i].avail >> 32));
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)cases[i].used);
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_USEDHI, 4, (uint32_t)(cases[i].used >> 32));
      vt_common_write (d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
      g_assert_cmpuint (vt_common_read (d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
      g_assert_true (fx_needs_reset (fx));
    }
  /* Hostile register values elsewhere: queue select past the end, unknown
   * offsets, odd sizes. Nothing crashes; notify for a missing queue too. */
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0x7fff);
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  g_assert_cmpuint (vt_common_read (d, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 0);
  vt_bar_write (d, d->notify + 4 * 7, 2, 7);
  vt_bar_write (d, 0x3ff8, 8, ~0ull);
  vt_bar_write (d, d->device + 0xff0, 4, 1);
  g_assert_cmpuint (vt_bar_read (d, d->device + 0x800, 4), ==, 0);
  io_bus_write (&fx->bus.mmio, FX_BAR1 + 0x7f0, 4, 1);
  io_bus_write (&fx->bus.mmio, FX_BAR1 + 3, 1, 1);
}

/* Thousands of random rings: random descriptors (mostly in RAM, sometimes
 * not), random flags and nexts, random indirect tables, random headers. */
static void
test_random_rings (Fx *fx, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (0x5eed);
  unsigned resets = 0, completions = 0;
  const unsigned iterations = 3000;
  for (unsigned it = 0; it < iterations; it++)
    {
      uint16_t qsize = (uint16_t)(1u << g_rand_int_range (rand, 1, 6));
      g_assert_true (vt_negotiate (&fx->dev, ALL_FEATURES | VIRTIO_FEATURE (VIRTIO_F_VERSION_1)));
      g_assert_true (vt_queue_setup (&fx->q, &fx->dev, 0, qsize, FX_RING, 0xffff));
      vt_driver_ok (&fx->dev);
      /* Headers and indirect tables live in a scratch area. */
      uint8_t *scratch = fx_ram (fx, FX_HDR, 0x10000);
      for (unsigned i = 0; i < 0x10000; i += 4)
        {
          uint32_t r = g_rand_int (rand);
          memcpy (scratch + i, &r, 4);
        }
      static const uint32_t types[] = { 0, 1, 4, 8, 11, 13, 99 };
      for (unsigned h = 0; h < 16; h++)
        {
          uint32_t t = types[g_rand_int_range (rand, 0, G_N_ELEMENTS (types))];
          uint64_t s = g_rand_boolean (rand)
                           ? (uint64_t)g_rand_int_range (rand, 0, FX_SECTORS + 4)
                           : ((uint64_t)g_rand_int (rand) << 32 | g_rand_int (rand));
          memcpy (scratch + 0x100 * h, &t, 4);
          memcpy (scratch + 0x100 * h + 8, &s, 8);
        }
      unsigned ndesc = qsize;
      for (unsigned i = 0; i < ndesc; i++)
        {
          uint64_t addr;
          switch (g_rand_int_range (rand, 0, 6))
            {
            case 0:
              addr = FX_HDR + 0x100 * g_rand_int_range (rand, 0, 16);
              break;
            case 1:
              addr = FX_HDR + g_rand_int_range (rand, 0, 0x10000);
              break;
            case 2:
              addr = (uint64_t)g_rand_int (rand) << 32 | g_rand_int (rand);
              break;
            case 3:
              addr = FX_RAM - g_rand_int_range (rand, 0, 0x2000);
              break;
            default:
              addr = FX_DATA + g_rand_int_range (rand, 0, 0x100000);
            }
          uint32_t len;
          switch (g_rand_int_range (rand, 0, 5))
            {
            case 0:
              len = g_rand_int (rand);
              break;
            case 1:
              len = 16 * g_rand_int_range (rand, 0, 8);
              break;
            case 2:
              len = 1;
              break;
            default:
              len = 512 * g_rand_int_range (rand, 0, 9);
            }
          uint16_t flags = (uint16_t)(g_rand_int (rand) & 0x7);
          if (g_rand_int_range (rand, 0, 4))
            flags &= (uint16_t)~VIRTQ_DESC_F_INDIRECT;
          uint16_t next
              = (uint16_t)(g_rand_boolean (rand) ? (i + 1) % qsize
                                                 : (unsigned)g_rand_int_range (rand, 0, qsize + 2));
          vt_desc_write (&fx->q, (uint16_t)i, addr, len, flags, next);
        }
      unsigned nheads = g_rand_int_range (rand, 1, qsize + 1);
      for (unsigned h = 0; h < nheads; h++)
        vt_avail_publish (&fx->q, (uint16_t)(g_rand_int_range (rand, 0, 8)
                                                 ? (guint32)g_rand_int_range (rand, 0, qsize)
                                                 : g_rand_int (rand)));
      vt_kick (&fx->q);
      if (fx_needs_reset (fx))
        resets++;
      else
        {
          /* Every chain the device accepted came back. */
          g_assert_cmpuint (vt_used_idx (&fx->q), ==, nheads);
          completions++;
        }
      g_assert_cmpuint (block_size (fx->bs), ==, FX_SECTORS * 512ull);
    }
  g_test_message ("%u iterations: %u needed reset, %u completed", iterations, resets, completions);
  /* The generator must exercise both outcomes to mean anything. */
  g_assert_cmpuint (resets, >, iterations / 10);
  g_assert_cmpuint (completions, >, iterations / 100);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/virtio-hostile/" path, Fx, NULL, fx_setup, fn, fx_teardown)
  ADD ("outside-ram", test_outside_ram);
  ADD ("straddles-ram-end", test_straddles_ram_end);
  ADD ("huge-length", test_huge_length);
  ADD ("address-wraps", test_address_wraps);
  ADD ("loop", test_loop);
  ADD ("next-out-of-range", test_next_out_of_range);
  ADD ("head-out-of-range", test_head_out_of_range);
  ADD ("avail-idx-runs-ahead", test_avail_idx_runs_ahead);
  ADD ("indirect-nested", test_indirect_nested);
  ADD ("indirect-bad-tables", test_indirect_bad_tables);
  ADD ("indirect-not-negotiated", test_indirect_not_negotiated);
  ADD ("indirect-ok", test_indirect_ok);
  ADD ("readable-after-writable", test_readable_after_writable);
  ADD ("wrong-direction", test_wrong_direction);
  ADD ("zero-length", test_zero_length);
  ADD ("out-of-range-sectors", test_out_of_range_sectors);
  ADD ("bad-rings", test_bad_rings);
  ADD ("random-rings", test_random_rings);
  return g_test_run ();
}
