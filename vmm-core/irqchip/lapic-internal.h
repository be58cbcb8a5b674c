/* Between the LAPIC's register, timer and state files; not for other users. */
#pragma once

#include "vmm-core/irqchip/lapic.h"

/* Recompute the pending-event word; kick the vCPU if something new. */
void lapic_update (Lapic *l);
/* Fire an LVT entry locally (timer, LINTn, error...). */
void lapic_local_deliver (Lapic *l, unsigned lvt_index);
/* The state INIT leaves behind (ID and base survive). */
void lapic_init_reset (Lapic *l);

LapicTimerMode lapic_timer_mode (const Lapic *l);
void lapic_timer_fire (void *opaque);
void lapic_timer_lvt_written (Lapic *l, uint32_t lvt);
void lapic_timer_initial_written (Lapic *l, uint32_t count);
void lapic_timer_divide_written (Lapic *l, uint32_t divide);
uint32_t lapic_timer_current (Lapic *l);
/* Arm the VmmTimer from timer_start / deadline_ns (after a load). */
void lapic_timer_rearm (Lapic *l);
