/* Interrupt lines from devices to whatever interrupt controller the engine
 * uses: KVM's in-kernel irqchip, or the userspace PIC/IOAPIC/LAPIC of the
 * software engine. Devices hold an IrqLine and never know which. Unit tests
 * plug in a router that records levels. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct IrqRouter {
  /* gsi: global system interrupt (ISA IRQs 0-15 map 1:1, PCI INTx 16-23). */
  void (*set_level) (void *opaque, unsigned gsi, bool level);
  /* A message-signalled interrupt (PCI MSI/MSI-X): address and data. */
  void (*send_msi) (void *opaque, uint64_t address, uint32_t data);
  void *opaque;
} IrqRouter;

typedef struct IrqLine {
  const IrqRouter *router;
  unsigned gsi;
} IrqLine;

static inline void
irq_line_set (const IrqLine *line, bool level)
{
  if (line->router && line->router->set_level)
    line->router->set_level (line->router->opaque, line->gsi, level);
}

/* Edge-triggered ISA devices: raise then lower. */
static inline void
irq_line_pulse (const IrqLine *line)
{
  irq_line_set (line, true);
  irq_line_set (line, false);
}

static inline void
irq_send_msi (const IrqRouter *router, uint64_t address, uint32_t data)
{
  if (router && router->send_msi)
    router->send_msi (router->opaque, address, data);
}
