#include "vmm-core/platform/uart-16550.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/log.h"

#define LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

static const uint8_t trigger_levels[4] = { 1, 4, 8, 14 };

/* FIFO helpers: a ring of UART_FIFO_SIZE bytes. */

static bool
fifo_push (UartFifo *f, uint8_t byte)
{
  if (f->count >= UART_FIFO_SIZE)
    return false;
  f->data[(f->head + f->count) % UART_FIFO_SIZE] = byte;
  f->count++;
  return true;
}

static uint8_t
fifo_pop (UartFifo *f)
{
  if (f->count == 0)
    return 0;
  uint8_t byte = f->data[f->head];
  f->head = (f->head + 1) % UART_FIFO_SIZE;
  f->count--;
  return byte;
}

static void
fifo_clear (UartFifo *f)
{
  f->head = 0;
  f->count = 0;
}

static bool
fifo_enabled (const Uart16550 *uart)
{
  return (uart->fcr & UART_FCR_ENABLE) != 0;
}

size_t
uart_rx_room (const Uart16550 *uart)
{
  if (uart->mcr & UART_MCR_LOOP)
    return 0;
  size_t cap = fifo_enabled (uart) ? UART_FIFO_SIZE : 1;
  return uart->rx.count >= cap ? 0 : cap - uart->rx.count;
}

/* The highest-priority pending interrupt, as IIR bits 3:0. */
static uint8_t
pending_iid (const Uart16550 *uart)
{
  if ((uart->ier & UART_IER_RLSI) && (uart->lsr & LSR_ERRORS))
    return UART_IIR_RLSI;
  if ((uart->ier & UART_IER_RDI) && uart->rx.count > 0)
    {
      if (!fifo_enabled (uart) || uart->rx.count >= trigger_levels[uart->fcr >> 6])
        return UART_IIR_RDI;
      return UART_IIR_CTI; /* below the trigger level: timed out at once */
    }
  if ((uart->ier & UART_IER_THRI) && uart->thr_ipending)
    return UART_IIR_THRI;
  if ((uart->ier & UART_IER_MSI) && (uart->msr & 0x0f))
    return UART_IIR_MSI;
  return UART_IIR_NO_INT;
}

static void
update_irq (Uart16550 *uart)
{
  /* PCs gate the UART's INTR pin with OUT2; loopback forces OUT2 inactive. */
  bool level = pending_iid (uart) != UART_IIR_NO_INT
               && (uart->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
  if (level != uart->irq_level)
    {
      uart->irq_level = level;
      irq_line_set (&uart->irq, level);
    }
}

/* Modem status inputs: a connected peer outside loopback, the MCR outputs
 * wired back inside it. Deltas accumulate until MSR is read. */
static void
update_msr (Uart16550 *uart)
{
  uint8_t in;
  if (uart->mcr & UART_MCR_LOOP)
    in = ((uart->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0)
         | ((uart->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0)
         | ((uart->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0)
         | ((uart->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
  else
    in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;

  uint8_t old = uart->msr & 0xf0;
  uint8_t changed = old ^ in;
  uint8_t delta = uart->msr & 0x0f;
  if (changed & UART_MSR_CTS)
    delta |= UART_MSR_DCTS;
  if (changed & UART_MSR_DSR)
    delta |= UART_MSR_DDSR;
  if (changed & UART_MSR_DCD)
    delta |= UART_MSR_DDCD;
  if ((old & UART_MSR_RI) && !(in & UART_MSR_RI))
    delta |= UART_MSR_TERI;
  uart->msr = in | delta;
}

static void
notify_room (Uart16550 *uart, size_t old_room)
{
  if (old_room == 0 && uart_rx_room (uart) > 0 && uart->backend && uart->backend->rx_space)
    uart->backend->rx_space (uart->backend);
}

static void
receive_byte (Uart16550 *uart, uint8_t byte)
{
  size_t cap = fifo_enabled (uart) ? UART_FIFO_SIZE : 1;
  if (uart->rx.count >= cap)
    uart->lsr |= UART_LSR_OE; /* the new character is lost */
  else
    fifo_push (&uart->rx, byte);
}

/* Bytes in the TX FIFO leave at once: to the receiver in loopback, else to
 * the back end (or nowhere). */
static void
drain_tx (Uart16550 *uart)
{
  uint8_t out[UART_FIFO_SIZE];
  size_t n = 0;
  while (uart->tx.count > 0)
    out[n++] = fifo_pop (&uart->tx);
  if (n == 0)
    return;
  if (uart->mcr & UART_MCR_LOOP)
    {
      for (size_t i = 0; i < n; i++)
        receive_byte (uart, out[i]);
    }
  else if (uart->backend && uart->backend->transmit)
    uart->backend->transmit (uart->backend, out, n);
  uart->thr_ipending = true;
}

void
uart_reset (Uart16550 *uart)
{
  uart->ier = 0;
  uart->lcr = 0;
  uart->mcr = 0;
  uart->lsr = 0;
  uart->msr = 0;
  uart->scr = 0;
  uart->dll = 0x0c; /* 9600 baud from the 1.8432 MHz clock */
  uart->dlm = 0;
  uart->fcr = 0;
  fifo_clear (&uart->rx);
  fifo_clear (&uart->tx);
  uart->thr_ipending = false;
  update_msr (uart);
  uart->msr &= 0xf0; /* no deltas at power-on */
  update_irq (uart);
}

static uint8_t
read_lsr (Uart16550 *uart)
{
  uint8_t v = (uart->lsr & LSR_ERRORS) | UART_LSR_THRE | UART_LSR_TEMT;
  if (uart->rx.count > 0)
    v |= UART_LSR_DR;
  if (fifo_enabled (uart) && (uart->lsr & (UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)))
    v |= UART_LSR_FIFO_ERR;
  uart->lsr &= ~LSR_ERRORS; /* reading LSR clears the error bits */
  return v;
}

uint8_t
uart_read (Uart16550 *uart, unsigned offset)
{
  uint8_t v = 0xff;
  bool dlab = (uart->lcr & UART_LCR_DLAB) != 0;

  switch (offset)
    {
    case UART_RBR:
      if (dlab)
        v = uart->dll;
      else
        {
          size_t room = uart_rx_room (uart);
          v = fifo_pop (&uart->rx);
          notify_room (uart, room);
        }
      break;
    case UART_IER:
      v = dlab ? uart->dlm : uart->ier;
      break;
    case UART_IIR:
      v = pending_iid (uart);
      if (v == UART_IIR_THRI)
        uart->thr_ipending = false; /* reading IIR acknowledges THRE */
      if (fifo_enabled (uart))
        v |= UART_IIR_FIFO_ENABLED;
      break;
    case UART_LCR:
      v = uart->lcr;
      break;
    case UART_MCR:
      v = uart->mcr;
      break;
    case UART_LSR:
      v = read_lsr (uart);
      break;
    case UART_MSR:
      v = uart->msr;
      uart->msr &= 0xf0;
      break;
    case UART_SCR:
      v = uart->scr;
      break;
    default:
      VMM_GUEST_ERROR ("uart", "read of offset %u outside the UART", offset);
      return 0xff;
    }
  update_irq (uart);
  return v;
}

static void
write_fcr (Uart16550 *uart, uint8_t value)
{
  size_t room = uart_rx_room (uart);
  if ((value ^ uart->fcr) & UART_FCR_ENABLE)
    {
      /* Turning the FIFOs on or off empties them. */
      fifo_clear (&uart->rx);
      fifo_clear (&uart->tx);
    }
  if (value & UART_FCR_ENABLE)
    {
      if (value & UART_FCR_CLEAR_RX)
        fifo_clear (&uart->rx);
      if (value & UART_FCR_CLEAR_TX)
        fifo_clear (&uart->tx);
      uart->fcr = value & (UART_FCR_ENABLE | UART_FCR_TRIGGER_MASK);
    }
  else
    uart->fcr = 0;
  notify_room (uart, room);
}

void
uart_write (Uart16550 *uart, unsigned offset, uint8_t value)
{
  bool dlab = (uart->lcr & UART_LCR_DLAB) != 0;

  switch (offset)
    {
    case UART_THR:
      if (dlab)
        uart->dll = value;
      else
        {
          uart->thr_ipending = false;
          if (!fifo_push (&uart->tx, value))
            VMM_GUEST_ERROR ("uart", "TX FIFO overrun");
          drain_tx (uart);
        }
      break;
    case UART_IER:
      if (dlab)
        uart->dlm = value;
      else
        {
          uart->ier = value & 0x0f;
          /* Enabling (or re-enabling) THRI while THR is empty raises it:
           * drivers kick transmission this way. */
          uart->thr_ipending = (uart->ier & UART_IER_THRI) && uart->tx.count == 0;
        }
      break;
    case UART_FCR:
      write_fcr (uart, value);
      break;
    case UART_LCR:
      uart->lcr = value;
      break;
    case UART_MCR:
      {
        size_t room = uart_rx_room (uart);
        uart->mcr = value & 0x1f;
        update_msr (uart);
        notify_room (uart, room);
      }
      break;
    case UART_LSR:
    case UART_MSR:
      /* Factory-test writes; ignored as on most clones. */
      break;
    case UART_SCR:
      uart->scr = value;
      break;
    default:
      VMM_GUEST_ERROR ("uart", "write of offset %u outside the UART", offset);
      return;
    }
  update_irq (uart);
}

size_t
uart_receive (Uart16550 *uart, const uint8_t *buf, size_t len)
{
  size_t room = uart_rx_room (uart);
  size_t n = len < room ? len : room;
  for (size_t i = 0; i < n; i++)
    fifo_push (&uart->rx, buf[i]);
  if (n > 0)
    update_irq (uart);
  return n;
}

/* Wider accesses act on the addressed byte only. */
static uint64_t
uart_io_read (void *opaque, uint64_t offset, unsigned size)
{
  return uart_read (opaque, (unsigned) offset);
}

static void
uart_io_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  uart_write (opaque, (unsigned) offset, (uint8_t) value);
}

static const IoOps uart_ops = { uart_io_read, uart_io_write };

bool
uart_init (Uart16550 *uart, IoBus *pio, uint16_t base, IrqLine irq)
{
  memset (uart, 0, sizeof *uart);
  uart->base = base;
  uart->irq = irq;
  uart_reset (uart);
  if (pio && !io_bus_register (pio, base, 8, &uart_ops, uart, "uart"))
    return false;
  uart->bus = pio;
  return true;
}

void
uart_destroy (Uart16550 *uart)
{
  if (uart->bus)
    io_bus_unregister (uart->bus, uart->base, uart);
  uart->bus = NULL;
  uart_set_backend (uart, NULL);
}

void
uart_set_backend (Uart16550 *uart, UartBackend *be)
{
  UartBackend *old = uart->backend;
  uart->backend = be;
  if (old && old->free)
    old->free (old);
}

static void
section_name (const Uart16550 *uart, char *buf, size_t len)
{
  g_snprintf (buf, len, "uart@%x", uart->base);
}

static void
put_fifo (SnapWriter *w, const UartFifo *f)
{
  uint8_t linear[UART_FIFO_SIZE] = { 0 };
  for (unsigned i = 0; i < f->count; i++)
    linear[i] = f->data[(f->head + i) % UART_FIFO_SIZE];
  snap_put_u8 (w, f->count);
  snap_put_bytes (w, linear, sizeof linear);
}

static bool
get_fifo (SnapReader *r, UartFifo *f)
{
  uint8_t count = snap_get_u8 (r);
  snap_get_bytes (r, f->data, sizeof f->data);
  f->head = 0;
  f->count = count;
  return count <= UART_FIFO_SIZE;
}

void
uart_save (const Uart16550 *uart, SnapWriter *w)
{
  char name[32];
  section_name (uart, name, sizeof name);
  snap_section_begin (w, name, 1);
  snap_put_u8 (w, uart->ier);
  snap_put_u8 (w, uart->lcr);
  snap_put_u8 (w, uart->mcr);
  snap_put_u8 (w, uart->lsr);
  snap_put_u8 (w, uart->msr);
  snap_put_u8 (w, uart->scr);
  snap_put_u8 (w, uart->dll);
  snap_put_u8 (w, uart->dlm);
  snap_put_u8 (w, uart->fcr);
  put_fifo (w, &uart->rx);
  put_fifo (w, &uart->tx);
  snap_put_bool (w, uart->thr_ipending);
  snap_section_end (w);
}

bool
uart_load (Uart16550 *uart, SnapReader *r, GError **error)
{
  char name[32];
  Uart16550 tmp = *uart;

  section_name (uart, name, sizeof name);
  if (!snap_reader_open (r, name, 1, NULL, error))
    return false;
  tmp.ier = snap_get_u8 (r);
  tmp.lcr = snap_get_u8 (r);
  tmp.mcr = snap_get_u8 (r);
  tmp.lsr = snap_get_u8 (r);
  tmp.msr = snap_get_u8 (r);
  tmp.scr = snap_get_u8 (r);
  tmp.dll = snap_get_u8 (r);
  tmp.dlm = snap_get_u8 (r);
  tmp.fcr = snap_get_u8 (r);
  bool fifos_ok = get_fifo (r, &tmp.rx);
  fifos_ok = get_fifo (r, &tmp.tx) && fifos_ok;
  tmp.thr_ipending = snap_get_bool (r);
  if (!snap_reader_check (r, error))
    return false;
  if (!fifos_ok || (tmp.ier & 0xf0) || (tmp.mcr & 0xe0) || (tmp.lsr & ~LSR_ERRORS)
      || (tmp.fcr & ~(UART_FCR_ENABLE | UART_FCR_TRIGGER_MASK))
      || (!(tmp.fcr & UART_FCR_ENABLE) && (tmp.rx.count > 1 || tmp.fcr != 0)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "device state section '%s' holds impossible register values", name);
      return false;
    }
  /* Keep the host-side wiring; take the guest-visible state. */
  tmp.irq_level = uart->irq_level;
  *uart = tmp;
  update_irq (uart);
  return true;
}
