/* 16550A UART: driven through its registers as a driver would. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/platform/uart-16550.h"
#include "platform-test-util.h"

typedef struct {
  UartBackend base;
  GByteArray *out;
  unsigned rx_space_calls;
} RecBackend;

static void
rec_transmit (UartBackend *be, const uint8_t *buf, size_t len)
{
  g_byte_array_append (((RecBackend *) be)->out, buf, (guint) len);
}

static void
rec_rx_space (UartBackend *be)
{
  ((RecBackend *) be)->rx_space_calls++;
}

typedef struct {
  IoBus pio;
  TestIrqs irqs;
  IrqRouter router;
  Uart16550 uart;
  RecBackend rec; /* not owned by the UART: free is NULL */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  io_bus_init (&f->pio, "pio");
  f->router = test_irqs_router (&f->irqs);
  g_assert_true (uart_init (&f->uart, &f->pio, UART_COM1_BASE,
                            (IrqLine){ &f->router, UART_COM1_IRQ }));
  f->rec.base.transmit = rec_transmit;
  f->rec.base.rx_space = rec_rx_space;
  f->rec.out = g_byte_array_new ();
  uart_set_backend (&f->uart, &f->rec.base);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  uart_destroy (&f->uart);
  g_assert_null (io_bus_find (&f->pio, UART_COM1_BASE));
  io_bus_destroy (&f->pio);
  g_byte_array_unref (f->rec.out);
}

static uint8_t
in8 (Fixture *f, unsigned reg)
{
  uint64_t v;
  io_bus_read (&f->pio, UART_COM1_BASE + reg, 1, &v);
  return (uint8_t) v;
}

static void
out8 (Fixture *f, unsigned reg, uint8_t v)
{
  g_assert_true (io_bus_write (&f->pio, UART_COM1_BASE + reg, 1, v));
}

static bool
irq (Fixture *f)
{
  return f->irqs.level[UART_COM1_IRQ];
}

static void
test_reset_values (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT);
  g_assert_cmphex (in8 (f, UART_LSR), ==, UART_LSR_THRE | UART_LSR_TEMT);
  g_assert_cmphex (in8 (f, UART_IER), ==, 0);
  g_assert_cmphex (in8 (f, UART_MSR), ==, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
  out8 (f, UART_SCR, 0x5a);
  g_assert_cmphex (in8 (f, UART_SCR), ==, 0x5a);
  g_assert_false (irq (f));
}

static void
test_divisor_latch (Fixture *f, gconstpointer data)
{
  out8 (f, UART_IER, UART_IER_RDI);
  out8 (f, UART_LCR, UART_LCR_DLAB | 0x03);
  out8 (f, UART_DLL, 0x01);
  out8 (f, UART_DLM, 0x02);
  g_assert_cmphex (in8 (f, UART_DLL), ==, 0x01);
  g_assert_cmphex (in8 (f, UART_DLM), ==, 0x02);
  out8 (f, UART_LCR, 0x03);
  g_assert_cmphex (in8 (f, UART_IER), ==, UART_IER_RDI); /* untouched by DLM */
  g_assert_cmphex (in8 (f, UART_LCR), ==, 0x03);
  g_assert_cmpuint (f->rec.out->len, ==, 0); /* DLL writes are not data */
}

static void
test_transmit (Fixture *f, gconstpointer data)
{
  const char *msg = "hello, serial\r\n";
  for (const char *p = msg; *p; p++)
    {
      g_assert_true (in8 (f, UART_LSR) & UART_LSR_THRE);
      out8 (f, UART_THR, (uint8_t) *p);
    }
  g_assert_cmpmem (f->rec.out->data, f->rec.out->len, msg, strlen (msg));
  g_assert_cmphex (in8 (f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), ==,
                   UART_LSR_THRE | UART_LSR_TEMT);
}

static void
test_receive_no_fifo (Fixture *f, gconstpointer data)
{
  const uint8_t bytes[] = { 'a', 'b', 'c' };
  g_assert_cmpuint (uart_receive (&f->uart, bytes, 3), ==, 1);
  g_assert_true (in8 (f, UART_LSR) & UART_LSR_DR);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT); /* IER off */
  out8 (f, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
  out8 (f, UART_IER, UART_IER_RDI);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_RDI);
  g_assert_true (irq (f));
  unsigned before = f->rec.rx_space_calls;
  g_assert_cmphex (in8 (f, UART_RBR), ==, 'a');
  g_assert_cmpuint (f->rec.rx_space_calls, ==, before + 1); /* room again */
  g_assert_false (irq (f));
  g_assert_false (in8 (f, UART_LSR) & UART_LSR_DR);
  g_assert_cmpuint (uart_receive (&f->uart, bytes + 1, 2), ==, 1);
  g_assert_cmphex (in8 (f, UART_RBR), ==, 'b');
}

static void
test_fifo_trigger_and_timeout (Fixture *f, gconstpointer data)
{
  uint8_t bytes[20];
  for (unsigned i = 0; i < sizeof bytes; i++)
    bytes[i] = (uint8_t) (0x30 + i);

  out8 (f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX | 0x80); /* 8 */
  out8 (f, UART_MCR, UART_MCR_OUT2);
  out8 (f, UART_IER, UART_IER_RDI);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);

  g_assert_cmpuint (uart_receive (&f->uart, bytes, 3), ==, 3);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_CTI);
  g_assert_true (irq (f));
  g_assert_cmpuint (uart_receive (&f->uart, bytes + 3, 17), ==, 13); /* 16 total */
  g_assert_cmpuint (uart_rx_room (&f->uart), ==, 0);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
  g_assert_false (in8 (f, UART_LSR) & UART_LSR_OE); /* the host never overruns */

  for (unsigned i = 0; i < 8; i++)
    g_assert_cmphex (in8 (f, UART_RBR), ==, bytes[i]);
  g_assert_cmphex (in8 (f, UART_IIR) & 0x0f, ==, UART_IIR_RDI); /* 8 left = trigger */
  g_assert_cmphex (in8 (f, UART_RBR), ==, bytes[8]);
  g_assert_cmphex (in8 (f, UART_IIR) & 0x0f, ==, UART_IIR_CTI);

  /* Clearing the RX FIFO drops the rest. */
  out8 (f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
  g_assert_false (in8 (f, UART_LSR) & UART_LSR_DR);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
  g_assert_false (irq (f));

  /* Disabling the FIFO empties it and IIR loses its FIFO bits. */
  uart_receive (&f->uart, bytes, 5);
  out8 (f, UART_FCR, 0);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT);
  g_assert_cmpuint (uart_rx_room (&f->uart), ==, 1);
}

static void
test_thre_interrupt (Fixture *f, gconstpointer data)
{
  out8 (f, UART_MCR, UART_MCR_OUT2);
  out8 (f, UART_IER, UART_IER_THRI);
  g_assert_true (irq (f));
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_THRI);
  /* Reading IIR acknowledged it. */
  g_assert_false (irq (f));
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT);
  /* Re-writing IER with THRI while THR is empty raises it again. */
  out8 (f, UART_IER, UART_IER_THRI);
  g_assert_true (irq (f));
  /* A THR write clears it, and the byte leaving the THR raises it anew. */
  out8 (f, UART_THR, 'x');
  g_assert_true (irq (f));
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_THRI);
  g_assert_false (irq (f));
  /* Disabling THRI in IER drops a pending one. */
  out8 (f, UART_THR, 'y');
  g_assert_true (irq (f));
  out8 (f, UART_IER, 0);
  g_assert_false (irq (f));
  out8 (f, UART_IER, UART_IER_RDI);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT);
}

static void
test_priority_and_out2 (Fixture *f, gconstpointer data)
{
  const uint8_t b = 'q';
  out8 (f, UART_IER, 0x0f);
  /* Every source pending except line status; OUT2 clear keeps the pin low. */
  g_assert_cmpuint (uart_receive (&f->uart, &b, 1), ==, 1);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_RDI);
  g_assert_false (irq (f));
  out8 (f, UART_MCR, UART_MCR_OUT2);
  g_assert_true (irq (f));
  /* RX beats THRE; after draining RX, THRE shows; then nothing. */
  g_assert_cmphex (in8 (f, UART_RBR), ==, 'q');
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_THRI);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT);
  g_assert_false (irq (f));
  out8 (f, UART_MCR, 0);
  out8 (f, UART_MCR, UART_MCR_OUT2);
  /* No modem change outside loopback: MSR deltas stay clear. */
  g_assert_cmphex (in8 (f, UART_MSR) & 0x0f, ==, 0);
}

static void
test_loopback (Fixture *f, gconstpointer data)
{
  const uint8_t b = 'z';
  out8 (f, UART_FCR, UART_FCR_ENABLE);
  out8 (f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
  /* Linux's probe: in loopback, MSR mirrors MCR (RTS→CTS, OUT2→DCD). */
  g_assert_cmphex (in8 (f, UART_MSR) & 0xf0, ==, UART_MSR_CTS | UART_MSR_DCD);
  out8 (f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_DTR);
  g_assert_cmphex (in8 (f, UART_MSR), ==,
                   UART_MSR_RI | UART_MSR_DSR | UART_MSR_DDSR | UART_MSR_DCTS | UART_MSR_DDCD);
  out8 (f, UART_MCR, UART_MCR_LOOP);
  g_assert_cmphex (in8 (f, UART_MSR), ==, UART_MSR_TERI | UART_MSR_DDSR);

  g_assert_cmpuint (uart_receive (&f->uart, &b, 1), ==, 0); /* host locked out */
  for (unsigned i = 0; i < 17; i++)
    out8 (f, UART_THR, (uint8_t) ('A' + i));
  g_assert_cmpuint (f->rec.out->len, ==, 0);
  out8 (f, UART_IER, UART_IER_RLSI | UART_IER_RDI);
  /* The 17th byte overran; line status outranks received data. */
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RLSI);
  g_assert_false (irq (f)); /* loopback disconnects the IRQ */
  uint8_t lsr = in8 (f, UART_LSR);
  g_assert_cmphex (lsr & (UART_LSR_OE | UART_LSR_DR), ==, UART_LSR_OE | UART_LSR_DR);
  g_assert_false (in8 (f, UART_LSR) & UART_LSR_OE); /* cleared by the read */
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
  for (unsigned i = 0; i < 16; i++)
    g_assert_cmphex (in8 (f, UART_RBR), ==, 'A' + i);

  /* Back to normal: the modem lines read as a connected peer again. */
  out8 (f, UART_MCR, UART_MCR_OUT2);
  g_assert_cmphex (in8 (f, UART_MSR) & 0xf0, ==, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
  out8 (f, UART_IER, UART_IER_MSI);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
  g_assert_cmpuint (uart_receive (&f->uart, &b, 1), ==, 1);
}

static void
test_modem_status_interrupt (Fixture *f, gconstpointer data)
{
  out8 (f, UART_MCR, UART_MCR_LOOP);
  in8 (f, UART_MSR);
  out8 (f, UART_IER, UART_IER_MSI);
  out8 (f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_MSI);
  g_assert_cmphex (in8 (f, UART_MSR), ==, UART_MSR_CTS | UART_MSR_DCTS);
  g_assert_cmphex (in8 (f, UART_IIR), ==, UART_IIR_NO_INT);
}

/* The probe Linux's 8250 driver runs (autoconfig and startup), reduced to
 * its decisions: the port must come out as a plain 16550A with no bugs. */
static void
test_linux_probe (Fixture *f, gconstpointer data)
{
  /* IER test. */
  out8 (f, UART_IER, 0);
  g_assert_cmphex (in8 (f, UART_IER) & 0x0f, ==, 0);
  out8 (f, UART_IER, 0x0f);
  g_assert_cmphex (in8 (f, UART_IER) & 0x0f, ==, 0x0f);
  out8 (f, UART_IER, 0);
  /* Loopback check: MCR = LOOP | OUT2 | RTS must read MSR = DCD | CTS. */
  uint8_t save_mcr = in8 (f, UART_MCR);
  out8 (f, UART_MCR, UART_MCR_LOOP | 0x0a);
  g_assert_cmphex (in8 (f, UART_MSR) & 0xf0, ==, 0x90);
  out8 (f, UART_MCR, save_mcr);
  /* EFR probe (LCR = 0xBF) must not find an EFR; FIFO probe says 16550A. */
  out8 (f, UART_LCR, 0xbf);
  out8 (f, 2, 0);
  out8 (f, UART_LCR, 0);
  out8 (f, UART_FCR, UART_FCR_ENABLE);
  g_assert_cmphex (in8 (f, UART_IIR) >> 6, ==, 3);
  out8 (f, UART_LCR, UART_LCR_DLAB);
  g_assert_cmphex (in8 (f, 2), !=, 0); /* "EFR" reads non-zero: not an ST16C650 */
  out8 (f, UART_LCR, 0xbf);
  g_assert_cmphex (in8 (f, 2), !=, 0); /* not a 16650 either */
  out8 (f, UART_LCR, 0);
  /* Not an XScale (IER bit 6 does not stick), not a 16750 (no 64-byte FIFO). */
  out8 (f, UART_IER, 0x40);
  g_assert_cmphex (in8 (f, UART_IER) & 0x40, ==, 0);
  out8 (f, UART_LCR, UART_LCR_DLAB);
  out8 (f, UART_FCR, UART_FCR_ENABLE | 0x20);
  uint8_t status1 = in8 (f, UART_IIR) >> 5;
  out8 (f, UART_LCR, 0);
  uint8_t status2 = in8 (f, UART_IIR) >> 5;
  g_assert_false (status1 == 6 && status2 == 7);
  /* Startup: LSR must not read 0xff, then the THRE bug tests. */
  out8 (f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
  g_assert_cmphex (in8 (f, UART_LSR), !=, 0xff);
  out8 (f, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
  out8 (f, UART_IER, UART_IER_THRI);
  in8 (f, UART_IIR);
  out8 (f, UART_IER, 0);
  out8 (f, UART_IER, UART_IER_THRI);
  uint8_t iir = in8 (f, UART_IIR);
  out8 (f, UART_IER, 0);
  g_assert_false ((in8 (f, UART_LSR) & UART_LSR_TEMT) && (iir & UART_IIR_NO_INT)); /* BUG_THRE */
  out8 (f, UART_LCR, 0x03);
  out8 (f, UART_IER, UART_IER_THRI);
  uint8_t lsr = in8 (f, UART_LSR);
  iir = in8 (f, UART_IIR);
  out8 (f, UART_IER, 0);
  g_assert_false ((lsr & UART_LSR_TEMT) && (iir & UART_IIR_NO_INT)); /* BUG_TXEN */
  /* Interrupt-driven transmit: 16 bytes per THRE interrupt, all delivered. */
  out8 (f, UART_IER, UART_IER_RDI | UART_IER_THRI);
  unsigned sent = 0;
  for (unsigned round = 0; round < 10 && irq (f); round++)
    {
      g_assert_cmphex (in8 (f, UART_IIR) & 0x0f, ==, UART_IIR_THRI);
      for (unsigned i = 0; i < UART_FIFO_SIZE; i++, sent++)
        out8 (f, UART_THR, (uint8_t) ('a' + sent % 26));
    }
  g_assert_cmpuint (f->rec.out->len, ==, sent);
  g_assert_cmpuint (sent, ==, 10 * UART_FIFO_SIZE);
}

static void
check_invariants (Fixture *f)
{
  Uart16550 *u = &f->uart;
  g_assert_cmpuint (u->rx.count, <=, UART_FIFO_SIZE);
  g_assert_cmpuint (u->tx.count, ==, 0); /* transmission is immediate */
  g_assert_cmpuint (u->rx.head, <, UART_FIFO_SIZE);
  if (!(u->fcr & UART_FCR_ENABLE))
    g_assert_cmpuint (u->rx.count, <=, 1);
  g_assert_cmphex (u->ier & 0xf0, ==, 0);
  bool gate = (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
  if (!gate)
    g_assert_false (irq (f));
  g_assert_true (irq (f) == u->irq_level);
}

static void
test_hostile_registers (Fixture *f, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (0x16550);
  vmm_log_set_quiet (TRUE);
  for (unsigned i = 0; i < 200000; i++)
    {
      unsigned reg = g_rand_int_range (rand, 0, 8);
      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0:
        case 1:
          in8 (f, reg);
          break;
        case 2:
        case 3:
          out8 (f, reg, (uint8_t) g_rand_int (rand));
          break;
        case 4:
          {
            uint8_t buf[24];
            size_t len = g_rand_int_range (rand, 0, sizeof buf);
            size_t room = uart_rx_room (&f->uart);
            size_t n = uart_receive (&f->uart, buf, len);
            g_assert_cmpuint (n, ==, MIN (len, room));
          }
          break;
        }
      /* Wider and out-of-range accesses never reach past the device. */
      if (i % 97 == 0)
        {
          uint64_t v;
          io_bus_read (&f->pio, UART_COM1_BASE + 4, 4, &v);
          uart_write (&f->uart, 8 + g_rand_int_range (rand, 0, 1000), 0xff);
          g_assert_cmphex (uart_read (&f->uart, 9), ==, 0xff);
        }
      check_invariants (f);
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  uint8_t bytes[16];
  for (unsigned i = 0; i < 16; i++)
    bytes[i] = (uint8_t) (i * 7);

  /* Make the ring wrap so the saved order matters. */
  out8 (f, UART_FCR, UART_FCR_ENABLE | 0x40);
  uart_receive (&f->uart, bytes, 10);
  for (unsigned i = 0; i < 10; i++)
    in8 (f, UART_RBR);
  uart_receive (&f->uart, bytes, 12);
  out8 (f, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
  out8 (f, UART_IER, UART_IER_RDI | UART_IER_THRI);
  out8 (f, UART_LCR, 0x1b);
  out8 (f, UART_SCR, 0x99);
  g_assert_true (irq (f));

  SnapWriter *w = snap_writer_new ();
  uart_save (&f->uart, w);
  GBytes *bytes_out = snap_writer_finish (w);

  Fixture g;
  fixture_setup (&g, NULL);
  SnapReader *r = snap_reader_new (bytes_out, NULL);
  GError *error = NULL;
  g_assert_true (uart_load (&g.uart, r, &error));
  g_assert_no_error (error);
  g_assert_true (irq (&g)); /* the line follows the restored state */
  g_assert_cmphex (in8 (&g, UART_LCR), ==, 0x1b);
  g_assert_cmphex (in8 (&g, UART_SCR), ==, 0x99);
  g_assert_cmphex (in8 (&g, UART_IER), ==, UART_IER_RDI | UART_IER_THRI);
  g_assert_cmphex (in8 (&g, UART_MCR), ==, UART_MCR_OUT2 | UART_MCR_DTR);
  g_assert_cmphex (in8 (&g, UART_IIR), ==, UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
  for (unsigned i = 0; i < 12; i++)
    g_assert_cmphex (in8 (&g, UART_RBR), ==, bytes[i]);
  g_assert_false (in8 (&g, UART_LSR) & UART_LSR_DR);
  snap_reader_free (r);

  /* Truncated: rejected, device untouched. */
  GBytes *cut = test_truncate_stream (bytes_out, 3);
  r = snap_reader_new (cut, NULL);
  out8 (&g, UART_SCR, 0x11);
  g_assert_false (uart_load (&g.uart, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_cmphex (in8 (&g, UART_SCR), ==, 0x11);
  snap_reader_free (r);
  g_bytes_unref (cut);

  /* Corrupt FIFO count: rejected. */
  gsize size;
  const void *data_out = g_bytes_get_data (bytes_out, &size);
  uint8_t *raw = g_memdup2 (data_out, size);
  size_t payload = 4 + strlen ("uart@3f8") + 4 + 8;
  raw[payload + 9] = 200; /* rx.count */
  GBytes *bad = g_bytes_new_take (raw, size);
  r = snap_reader_new (bad, NULL);
  g_assert_false (uart_load (&g.uart, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (bad);

  /* Missing section. */
  w = snap_writer_new ();
  GBytes *empty = snap_writer_finish (w);
  r = snap_reader_new (empty, NULL);
  g_assert_false (uart_load (&g.uart, r, &error));
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (empty);

  g_bytes_unref (bytes_out);
  fixture_teardown (&g, NULL);
}

static void
test_busy_range (void)
{
  IoBus pio;
  Uart16550 a, b;
  io_bus_init (&pio, "pio");
  g_assert_true (uart_init (&a, &pio, UART_COM1_BASE, (IrqLine){ NULL, 4 }));
  g_assert_false (uart_init (&b, &pio, UART_COM1_BASE + 4, (IrqLine){ NULL, 4 }));
  uart_destroy (&a);
  io_bus_destroy (&pio);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/uart/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("reset-values", test_reset_values);
  ADD ("divisor-latch", test_divisor_latch);
  ADD ("transmit", test_transmit);
  ADD ("receive-no-fifo", test_receive_no_fifo);
  ADD ("fifo-trigger-timeout", test_fifo_trigger_and_timeout);
  ADD ("thre-interrupt", test_thre_interrupt);
  ADD ("priority-out2", test_priority_and_out2);
  ADD ("loopback", test_loopback);
  ADD ("modem-status", test_modem_status_interrupt);
  ADD ("linux-probe", test_linux_probe);
  ADD ("hostile-registers", test_hostile_registers);
  ADD ("save-load", test_save_load);
  g_test_add_func ("/uart/busy-range", test_busy_range);
  return g_test_run ();
}
