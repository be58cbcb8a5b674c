/* PC reset and debug ports.
 *
 *   0xCF9  reset control: a write with RST_CPU (bit 2) set resets the machine
 *          (SYS_RST, bit 1, asks for a hard reset: Linux's reboot=pci writes
 *          0x02 then 0x06); bits 1 and 3 read back. It shares the dword at
 *          0xCF8 with the PCI host bridge: with a bridge, install
 *          pc_reset_cf9_ops there (pci_host_set_cf9_handler); without one,
 *          pass claim_cf9 to take the port directly.
 *   0x92   system control port A: bit 1 = A20 gate, bit 0 rising = reset.
 *   0x80   POST code: ignored by the machine, kept for debugging.
 *   0x501  debug exit (0x501-0x504, any width), as QEMU's isa-debug-exit: a
 *          write of v ends the VM with exit status ((v << 1) | 1) & 0xff, so tiny test
 *          guests report pass/fail without a console.
 *
 * Use (machine), device lock held:
 *   PcResetCallbacks cb = { on_reset, on_debug_exit, NULL, machine };
 *   pc_reset_init (&reset, &pio, &cb, false);
 *   pci_host_set_cf9_handler (&pci, &pc_reset_cf9_ops, &reset);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/io-bus.h"
#include "vmm-core/snapshot-stream.h"

#define PC_RESET_CONTROL_PORT 0xcf9
#define PC_PORT_A 0x92
#define PC_POST_PORT 0x80
#define PC_DEBUG_EXIT_PORT 0x501
#define PC_DEBUG_EXIT_LEN 4
#define PC_POST_HISTORY 16

enum {
  PC_CF9_SYS_RST = 0x02, PC_CF9_RST_CPU = 0x04, PC_CF9_FULL_RST = 0x08,
  PC_PORT_A_RESET = 0x01, PC_PORT_A_A20 = 0x02,
};

typedef struct PcResetCallbacks {
  /* The guest asked for a reset (hard: SYS_RST or port A; soft: CF9 alone). */
  void (*reset) (void *opaque, bool hard);
  /* The guest wrote the debug-exit port: end the VM with this status. */
  void (*debug_exit) (void *opaque, int status);
  /* Optional: the A20 gate changed (the machine may ignore it). */
  void (*set_a20) (void *opaque, bool enabled);
  void *opaque;
} PcResetCallbacks;

typedef struct PcReset {
  IoBus *bus;
  bool claimed_cf9;
  PcResetCallbacks cb;
  uint8_t cf9;    /* SYS_RST and FULL_RST as last written */
  uint8_t port_a; /* A20 bit as last written */
  uint8_t post_code;
  uint8_t post_history[PC_POST_HISTORY]; /* oldest first once full */
  unsigned post_count;
} PcReset;

extern const IoOps pc_reset_cf9_ops;

/* A20 starts enabled (as after a BIOS). False if a port is taken. */
bool pc_reset_init (PcReset *r, IoBus *pio, const PcResetCallbacks *cb, bool claim_cf9);
void pc_reset_destroy (PcReset *r);

/* The last n POST codes, oldest first, into out[]; returns how many. */
unsigned pc_reset_post_codes (const PcReset *r, uint8_t *out, unsigned n);

/* Section "pc-reset", version 1. */
void pc_reset_save (const PcReset *r, SnapWriter *w);
bool pc_reset_load (PcReset *r, SnapReader *r_, GError **error);
