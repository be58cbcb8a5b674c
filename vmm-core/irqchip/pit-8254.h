/* The 8254 programmable interval timer at 0x40-0x43, plus port 0x61 (gate
 * of channel 2, speaker data, refresh toggle, OUT2 readback).
 *
 * Counters are computed from the virtual clock (1.193182 MHz), so a guest
 * polling a count (Linux's PIT TSC calibration on channel 2) sees exactly the
 * value the elapsed virtual time gives. Channel 0's OUT drives IRQ 0 through
 * the irq callback; periodic modes re-arm one timer per period, with the
 * period clamped to PIT_MIN_PERIOD_NS. State follows kvm_pit_state2.
 * Runs under the machine's device lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct IoBus IoBus;
typedef struct TimerQueue TimerQueue;
typedef struct VmmTimer VmmTimer;
typedef struct SnapWriter SnapWriter;
typedef struct SnapReader SnapReader;

#define PIT_FREQ_HZ 1193182
#define PIT_MIN_PERIOD_NS 50000 /* IRQ0 timer never re-arms faster than this */

typedef struct PitChannel {
  uint32_t count;          /* reload value, 1..0x10000 */
  uint16_t latched_count;
  uint8_t count_latched;   /* 0 or RW mode of the pending latch read */
  uint8_t status_latched;
  uint8_t status;
  uint8_t read_state;
  uint8_t write_state;
  uint8_t write_latch;
  uint8_t rw_mode;         /* 1 = LSB, 2 = MSB, 3 = LSB then MSB */
  uint8_t mode;            /* 0..5 */
  uint8_t bcd;
  uint8_t gate;
  uint8_t null_count;      /* status bit 6: count written but not loaded */
  int64_t count_load_time; /* vclock ns when counting started */
  int64_t gate_off_time;   /* vclock ns GATE went low (counting frozen) */
  int64_t next_irq;        /* ch0: vclock of the next timer callback */
} PitChannel;

typedef void (*PitIrqFn) (void *opaque, bool level);

typedef struct Pit8254 {
  PitChannel ch[3];
  uint8_t speaker_data; /* port 0x61 bit 1 */
  TimerQueue *timers;
  VmmTimer *timer; /* channel 0 interrupts */
  PitIrqFn irq;
  void *irq_opaque;
  bool irq_level;
} Pit8254;

/* io NULL: not registered (tests call pit_ioport_read/write). */
Pit8254 *pit_new (IoBus *io, TimerQueue *timers, PitIrqFn irq, void *opaque);
void pit_free (Pit8254 *pit);
void pit_unregister (Pit8254 *pit, IoBus *io);
void pit_reset (Pit8254 *pit);

/* port = 0x40..0x43 or 0x61. */
uint8_t pit_ioport_read (Pit8254 *pit, uint16_t port);
void pit_ioport_write (Pit8254 *pit, uint16_t port, uint8_t value);

/* Introspection (tests, the speaker): OUT pin and count at this moment. */
bool pit_get_out (Pit8254 *pit, unsigned channel);
uint32_t pit_get_count (Pit8254 *pit, unsigned channel);
void pit_set_gate (Pit8254 *pit, unsigned channel, bool gate);

void pit_save (Pit8254 *pit, SnapWriter *w); /* section "pit" */
bool pit_load (Pit8254 *pit, SnapReader *r, GError **error);
