/* The i8042 keyboard controller with its PS/2 keyboard and mouse.
 *
 * Ports 0x60 (data) and 0x64 (status / command). The keyboard interrupts on
 * IRQ 1 and the mouse on IRQ 12 while the command byte enables them; the
 * line is high while the output buffer holds a byte from that device, so an
 * edge-triggered PIC sees one edge per byte.
 *
 * Controller commands: 20-3F read RAM (20 = command byte), 60-7F write RAM,
 * A4 password check, A7/A8 aux off/on, A9 aux test, AA self test (55),
 * AB keyboard test, AD/AE keyboard off/on, C0 input port, D0/D1 output port
 * (bit 0 low = system reset, bit 1 = A20), D2/D3 write keyboard/aux output
 * buffer, D4 write to aux device, DD/DF A20 off/on, E0 test inputs,
 * F0-FF pulse output lines (FE = reset). With the command byte's XLAT bit
 * the keyboard's set 2 bytes reach the guest translated to set 1.
 *
 * Threading: every entry point expects the machine's device lock held; front
 * ends (SDL, SPICE, the app) take it around i8042_key_event and
 * i8042_mouse_event. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "input/keymap.h"
#include "input/ps2-device.h"
#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/snapshot-stream.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* Status register bits. */
enum
{
  I8042_STR_OBF = 0x01,
  I8042_STR_IBF = 0x02,
  I8042_STR_SYSFLAG = 0x04,
  I8042_STR_CMDDAT = 0x08,
  I8042_STR_KEYLOCK = 0x10, /* 1 = not inhibited */
  I8042_STR_AUXDATA = 0x20,
  I8042_STR_TIMEOUT = 0x40,
  I8042_STR_PARITY = 0x80,
};

/* Command byte bits. */
enum
{
  I8042_CTR_KBDINT = 0x01,
  I8042_CTR_AUXINT = 0x02,
  I8042_CTR_SYSFLAG = 0x04,
  I8042_CTR_KBDDIS = 0x10,
  I8042_CTR_AUXDIS = 0x20,
  I8042_CTR_XLATE = 0x40,
};

/* What the controller asks of the machine (both optional). Called with the
 * device lock held: the machine should only flag the request and act on it
 * from its own loop. */
typedef struct I8042Hooks
{
  void (*system_reset) (void *opaque);
  void (*set_a20) (void *opaque, bool enabled);
  void *opaque;
} I8042Hooks;

typedef struct I8042
{
  IoBus *pio;
  IrqLine kbd_irq, aux_irq;
  I8042Hooks hooks;

  uint8_t ram[32]; /* ram[0] is the command byte */
  uint8_t status;  /* sysflag / cmd-data bits; OBF derived */
  uint8_t outport; /* bit 0 reset (1 = running), bit 1 A20 */
  uint8_t pending; /* controller command waiting for a data byte, or 0 */
  bool obf;        /* output buffer full */
  bool obf_aux;    /* ... with a mouse byte */
  uint8_t out;     /* output buffer */
  bool xlat_break; /* saw F0 while translating */
  /* A controller reply (or a D2/D3 byte) waiting for the output buffer; it
   * goes before device bytes, and a newer one replaces it as on hardware. */
  bool reply_full;
  bool reply_aux;
  uint8_t reply;
  bool kbd_level, aux_level;

  Ps2Keyboard kbd;
  Ps2Mouse mouse;
} I8042;

/* Claims 0x60 and 0x64 on pio (if non-NULL). False if taken. */
bool i8042_init (I8042 *kbc, IoBus *pio, IrqLine kbd_irq, IrqLine aux_irq, const I8042Hooks *hooks);
void i8042_destroy (I8042 *kbc);
/* Power-on state (command byte as firmware leaves it: XLATE, SYSFLAG,
 * KBDINT, mouse disabled). */
void i8042_reset (I8042 *kbc);

/* Port access (offset 0 = 0x60, 4 = 0x64), as the guest does it. */
uint8_t i8042_read (I8042 *kbc, unsigned port);
void i8042_write (I8042 *kbc, unsigned port, uint8_t value);

/* Host input (device lock held). key: evdev code. dy > 0 moves down the
 * screen, dz > 0 turns the wheel towards the user; buttons: bit 0 left,
 * 1 right, 2 middle. */
void i8042_key_event (I8042 *kbc, PcKeycode key, bool down);
void i8042_mouse_event (I8042 *kbc, int dx, int dy, int dz, unsigned buttons);
/* The keyboard LEDs the guest set (bit 0 scroll, 1 num, 2 caps). */
unsigned i8042_kbd_leds (const I8042 *kbc);

/* Section "i8042", version 1. */
void i8042_save (const I8042 *kbc, SnapWriter *w);
bool i8042_load (I8042 *kbc, SnapReader *r, GError **error);
