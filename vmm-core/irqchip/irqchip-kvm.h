/* Conversion between the userspace irqchip's state and KVM's in-kernel
 * irqchip structures, so a KVM back end can write the same engine-neutral
 * snapshot sections ("pic", "ioapic", "pit", "lapic.N") and restore ours.
 *
 * The LAPIC needs no converter: kvm_lapic_state.regs is the register page of
 * lapic_get_page / lapic_set_page.
 *
 * kvm_clock_offset = KVM's count_load_time clock (host CLOCK_MONOTONIC ns)
 * minus the virtual clock, at the moment of the conversion.
 * The *_from_kvm functions validate like a snapshot load: false (with error)
 * and nothing changed for out-of-range values. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <linux/kvm.h>

#include "vmm-core/irqchip/ioapic.h"
#include "vmm-core/irqchip/pic-8259.h"
#include "vmm-core/irqchip/pit-8254.h"

/* pics[0] = master (KVM_IRQCHIP_PIC_MASTER), pics[1] = slave. */
void pic_to_kvm (const Pic8259 *pic, struct kvm_pic_state pics[2]);
bool pic_from_kvm (Pic8259 *pic, const struct kvm_pic_state pics[2], GError **error);

void ioapic_to_kvm (const Ioapic *io, struct kvm_ioapic_state *out);
bool ioapic_from_kvm (Ioapic *io, const struct kvm_ioapic_state *in, GError **error);

void pit_to_kvm (Pit8254 *pit, int64_t kvm_clock_offset, struct kvm_pit_state2 *out);
bool pit_from_kvm (Pit8254 *pit, const struct kvm_pit_state2 *in, int64_t kvm_clock_offset,
                   GError **error);
