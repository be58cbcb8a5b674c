/* The 8259A programmable interrupt controller pair (master at 0x20-0x21,
 * slave at 0xa0-0xa1 cascaded on IRQ2, ELCR at 0x4d0-0x4d1).
 *
 * State per chip follows kvm_pic_state so a KVM back end can convert. The
 * master's INTR output goes to the output callback (LAPIC0 LINT0 as ExtINT,
 * or straight to the BSP); the CPU's INTA cycle is pic_acknowledge().
 * Runs under the machine's device lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct IoBus IoBus;
typedef struct SnapWriter SnapWriter;
typedef struct SnapReader SnapReader;

typedef struct Pic8259Chip {
  uint8_t last_irr; /* edge detection */
  uint8_t irr;
  uint8_t imr;
  uint8_t isr;
  uint8_t priority_add; /* lowest-priority IR + 1 (rotation) */
  uint8_t irq_base;
  uint8_t read_reg_select; /* OCW3 RR/RIS: 0 = IRR, 1 = ISR */
  uint8_t poll;
  uint8_t special_mask;
  uint8_t init_state; /* 0 = ready, 1..3 = expecting ICW2..ICW4 */
  uint8_t auto_eoi;
  uint8_t rotate_on_auto_eoi;
  uint8_t special_fully_nested_mode;
  uint8_t init4; /* ICW4 expected */
  uint8_t single_mode;
  uint8_t elcr; /* level-triggered pins (ELCR) */
  uint8_t elcr_mask;
  uint8_t level; /* current input levels */
} Pic8259Chip;

typedef void (*PicOutputFn) (void *opaque, bool level);

typedef struct Pic8259 {
  Pic8259Chip chip[2]; /* 0 = master, 1 = slave */
  PicOutputFn output;
  void *output_opaque;
  bool intr; /* last level given to output */
} Pic8259;

/* io: the port bus to register on (NULL: not registered, for tests that call
 * pic_ioport_read/write directly). */
Pic8259 *pic_new (IoBus *io, PicOutputFn output, void *opaque);
void pic_free (Pic8259 *pic);
void pic_unregister (Pic8259 *pic, IoBus *io);
void pic_reset (Pic8259 *pic);

/* irq 0..15; level-sensitive input (edge pins latch the rising edge). */
void pic_set_irq (Pic8259 *pic, unsigned irq, bool level);
/* INTR is asserted (an unmasked request beats the in-service priority). */
bool pic_has_interrupt (Pic8259 *pic);
/* The INTA cycle: the vector, with ISR/IRR updated (spurious IRQ7/IRQ15
 * vector if the request went away). */
uint8_t pic_acknowledge (Pic8259 *pic);

/* Port access (port = 0x20/0x21/0xa0/0xa1/0x4d0/0x4d1). */
uint8_t pic_ioport_read (Pic8259 *pic, uint16_t port);
void pic_ioport_write (Pic8259 *pic, uint16_t port, uint8_t value);

void pic_save (Pic8259 *pic, SnapWriter *w); /* section "pic" */
bool pic_load (Pic8259 *pic, SnapReader *r, GError **error);
