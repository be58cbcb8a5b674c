/* 16550A UART (the PC's COM ports).
 *
 * Registers at base + 0..7: RBR/THR (DLL with DLAB), IER (DLM with DLAB),
 * IIR (read) / FCR (write), LCR, MCR, LSR, MSR, SCR. 16-byte RX and TX FIFOs
 * with trigger levels; interrupt priority line status > RX data / character
 * timeout > THR empty > modem status; loopback (MCR bit 4); and, as on PCs,
 * the IRQ reaches the interrupt controller only while MCR OUT2 is set (and
 * loopback is off, since loopback forces OUT2 inactive).
 *
 * Timing is not modelled: a byte written to THR goes to the back end at once
 * (so THRE/TEMT read set again right after the write), and received bytes that
 * sit below the FIFO trigger level report the character timeout straight away
 * instead of after four character times. Drivers cannot tell the difference
 * except by being faster.
 *
 * Use (machine):
 *   uart_init (&com1, &pio, UART_COM1_BASE, (IrqLine){ router, UART_COM1_IRQ });
 *   UartBackend *be = uart_backend_new ("stdio", &com1, &device_lock, &error);
 *   uart_set_backend (&com1, be);
 * All entry points expect the machine's device lock held (back-end threads
 * take it themselves before calling uart_receive). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/snapshot-stream.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_COM2_BASE 0x2f8
#define UART_COM2_IRQ 3
#define UART_FIFO_SIZE 16

/* Register offsets. */
enum {
  UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
  UART_IER = 1, UART_DLM = 1,
  UART_IIR = 2, UART_FCR = 2,
  UART_LCR = 3,
  UART_MCR = 4,
  UART_LSR = 5,
  UART_MSR = 6,
  UART_SCR = 7,
};

/* Register bits. */
enum {
  UART_IER_RDI = 0x01, UART_IER_THRI = 0x02, UART_IER_RLSI = 0x04, UART_IER_MSI = 0x08,

  UART_IIR_NO_INT = 0x01, UART_IIR_MSI = 0x00, UART_IIR_THRI = 0x02,
  UART_IIR_RDI = 0x04, UART_IIR_RLSI = 0x06, UART_IIR_CTI = 0x0c,
  UART_IIR_FIFO_ENABLED = 0xc0,

  UART_FCR_ENABLE = 0x01, UART_FCR_CLEAR_RX = 0x02, UART_FCR_CLEAR_TX = 0x04,
  UART_FCR_TRIGGER_MASK = 0xc0,

  UART_LCR_BREAK = 0x40, UART_LCR_DLAB = 0x80,

  UART_MCR_DTR = 0x01, UART_MCR_RTS = 0x02, UART_MCR_OUT1 = 0x04,
  UART_MCR_OUT2 = 0x08, UART_MCR_LOOP = 0x10,

  UART_LSR_DR = 0x01, UART_LSR_OE = 0x02, UART_LSR_PE = 0x04, UART_LSR_FE = 0x08,
  UART_LSR_BI = 0x10, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40,
  UART_LSR_FIFO_ERR = 0x80,

  UART_MSR_DCTS = 0x01, UART_MSR_DDSR = 0x02, UART_MSR_TERI = 0x04, UART_MSR_DDCD = 0x08,
  UART_MSR_CTS = 0x10, UART_MSR_DSR = 0x20, UART_MSR_RI = 0x40, UART_MSR_DCD = 0x80,
};

typedef struct Uart16550 Uart16550;
typedef struct UartBackend UartBackend;

/* Where transmitted bytes go and who refills the receiver. */
struct UartBackend {
  /* Guest transmitted `len` bytes (device lock held). Must not block for long:
   * a slow sink drops bytes rather than stall the vCPU. */
  void (*transmit) (UartBackend *be, const uint8_t *buf, size_t len);
  /* The guest drained the RX FIFO: a back end holding unread host bytes can
   * push them now (device lock held). Optional. */
  void (*rx_space) (UartBackend *be);
  /* Stops threads, closes files, restores the terminal. Without the lock. */
  void (*free) (UartBackend *be);
};

typedef struct UartFifo {
  uint8_t data[UART_FIFO_SIZE];
  uint8_t head;  /* index of the oldest byte */
  uint8_t count; /* 0..UART_FIFO_SIZE */
} UartFifo;

struct Uart16550 {
  uint16_t base;
  IrqLine irq;
  IoBus *bus;
  UartBackend *backend;

  uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
  UartFifo rx, tx;
  bool thr_ipending; /* THR-empty interrupt latched (cleared by IIR read / THR write) */
  bool irq_level;    /* what we last drove on the line */
};

/* Resets the registers and claims base..base+7 on `pio` (if non-NULL; tests
 * may drive uart_read/uart_write directly). False if the range is taken. */
bool uart_init (Uart16550 *uart, IoBus *pio, uint16_t base, IrqLine irq);
/* Releases the range and frees the back end (if any). Call without the
 * device lock: freeing a back end joins its reader thread, which takes it. */
void uart_destroy (Uart16550 *uart);
/* Takes ownership of `be` (NULL: output discarded, no input) and frees the
 * previous back end; without the device lock, as for uart_destroy. */
void uart_set_backend (Uart16550 *uart, UartBackend *be);
/* Power-on register values; FIFOs emptied; back end kept. */
void uart_reset (Uart16550 *uart);

/* Register access by offset 0..7 (higher offsets are ignored / read 0xff). */
uint8_t uart_read (Uart16550 *uart, unsigned offset);
void uart_write (Uart16550 *uart, unsigned offset, uint8_t value);

/* Host → guest: queues up to len bytes in the receiver and returns how many
 * fit (0 while in loopback mode, whose receiver listens to the transmitter). */
size_t uart_receive (Uart16550 *uart, const uint8_t *buf, size_t len);
/* Bytes uart_receive would accept now. */
size_t uart_rx_room (const Uart16550 *uart);

/* Section "uart@<base hex>", version 1. */
void uart_save (const Uart16550 *uart, SnapWriter *w);
bool uart_load (Uart16550 *uart, SnapReader *r, GError **error);
