/* Snapshot sections for the state KVM keeps in the kernel: the PIC pair and
 * IOAPIC (KVM_GET_IRQCHIP), the PIT (KVM_GET_PIT2) and the kvmclock.
 *
 * Sections "kvm.pic" / "kvm.ioapic" / "kvm.pit" / "kvm.clock" hold the
 * fields of KVM's structures one by one (not the raw structs, so padding and
 * layout changes cannot leak in). Translating them to and from the software
 * engine's device sections is what a cross-engine restore still needs. */
#include "hostdrv/kvm-internal.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <gio/gio.h>

#include "vmm-core/snapshot-stream.h"

static void
put_pic (SnapWriter *w, const struct kvm_pic_state *p)
{
  const uint8_t f[] = { p->last_irr, p->irr, p->imr, p->isr, p->priority_add, p->irq_base,
                        p->read_reg_select, p->poll, p->special_mask, p->init_state,
                        p->auto_eoi, p->rotate_on_auto_eoi, p->special_fully_nested_mode,
                        p->init4, p->elcr, p->elcr_mask };
  snap_put_bytes (w, f, sizeof f);
}

static void
get_pic (SnapReader *r, struct kvm_pic_state *p)
{
  uint8_t f[16];
  snap_get_bytes (r, f, sizeof f);
  *p = (struct kvm_pic_state){ f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
                               f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15] };
}

void
kvm_save_platform (Engine *e, SnapWriter *w)
{
  KvmEngine *k = (KvmEngine *) e;
  struct kvm_irqchip chip[3];
  struct kvm_pit_state2 pit;
  struct kvm_clock_data clock;

  for (unsigned i = 0; i < 3; i++)
    {
      memset (&chip[i], 0, sizeof chip[i]);
      chip[i].chip_id = i;
      if (ioctl (k->vm_fd, KVM_GET_IRQCHIP, &chip[i]) < 0)
        g_warning ("KVM_GET_IRQCHIP %u: %s", i, g_strerror (errno));
    }
  snap_section_begin (w, "kvm.pic", 1);
  put_pic (w, &chip[KVM_IRQCHIP_PIC_MASTER].chip.pic);
  put_pic (w, &chip[KVM_IRQCHIP_PIC_SLAVE].chip.pic);
  snap_section_end (w);

  const struct kvm_ioapic_state *io = &chip[KVM_IRQCHIP_IOAPIC].chip.ioapic;
  snap_section_begin (w, "kvm.ioapic", 1);
  snap_put_u64 (w, io->base_address);
  snap_put_u32 (w, io->ioregsel);
  snap_put_u32 (w, io->id);
  snap_put_u32 (w, io->irr);
  snap_put_u32 (w, KVM_IOAPIC_NUM_PINS);
  for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
    snap_put_u64 (w, io->redirtbl[i].bits);
  snap_section_end (w);

  memset (&pit, 0, sizeof pit);
  if (ioctl (k->vm_fd, KVM_GET_PIT2, &pit) < 0)
    g_warning ("KVM_GET_PIT2: %s", g_strerror (errno));
  snap_section_begin (w, "kvm.pit", 1);
  snap_put_u32 (w, pit.flags);
  for (unsigned i = 0; i < 3; i++)
    {
      const struct kvm_pit_channel_state *c = &pit.channels[i];
      snap_put_u32 (w, c->count);
      snap_put_u16 (w, c->latched_count);
      const uint8_t f[] = { c->count_latched, c->status_latched, c->status, c->read_state,
                            c->write_state, c->write_latch, c->rw_mode, c->mode, c->bcd,
                            c->gate };
      snap_put_bytes (w, f, sizeof f);
      snap_put_i64 (w, c->count_load_time);
    }
  snap_section_end (w);

  memset (&clock, 0, sizeof clock);
  if (ioctl (k->vm_fd, KVM_GET_CLOCK, &clock) < 0)
    g_warning ("KVM_GET_CLOCK: %s", g_strerror (errno));
  snap_section_begin (w, "kvm.clock", 1);
  snap_put_u64 (w, clock.clock);
  snap_section_end (w);
}

bool
kvm_load_platform (Engine *e, SnapReader *r, GError **error)
{
  KvmEngine *k = (KvmEngine *) e;
  uint32_t version;
  struct kvm_irqchip chip;

  if (!snap_reader_open (r, "kvm.pic", 1, &version, error))
    return false;
  for (unsigned i = 0; i < 2; i++)
    {
      memset (&chip, 0, sizeof chip);
      chip.chip_id = i;
      get_pic (r, &chip.chip.pic);
      if (i == 1 && !snap_reader_check (r, error))
        return false;
      if (ioctl (k->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
        return kvm_fail (error, "KVM_SET_IRQCHIP (PIC)");
    }

  if (!snap_reader_open (r, "kvm.ioapic", 1, &version, error))
    return false;
  memset (&chip, 0, sizeof chip);
  chip.chip_id = KVM_IRQCHIP_IOAPIC;
  chip.chip.ioapic.base_address = snap_get_u64 (r);
  chip.chip.ioapic.ioregsel = snap_get_u32 (r);
  chip.chip.ioapic.id = snap_get_u32 (r);
  chip.chip.ioapic.irr = snap_get_u32 (r);
  uint32_t pins = snap_get_u32 (r);
  for (uint32_t i = 0; i < pins && snap_remaining (r) >= 8; i++)
    {
      uint64_t bits = snap_get_u64 (r);
      if (i < KVM_IOAPIC_NUM_PINS)
        chip.chip.ioapic.redirtbl[i].bits = bits;
    }
  if (!snap_reader_check (r, error))
    return false;
  if (ioctl (k->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
    return kvm_fail (error, "KVM_SET_IRQCHIP (IOAPIC)");

  if (!snap_reader_open (r, "kvm.pit", 1, &version, error))
    return false;
  struct kvm_pit_state2 pit;
  memset (&pit, 0, sizeof pit);
  pit.flags = snap_get_u32 (r);
  for (unsigned i = 0; i < 3; i++)
    {
      struct kvm_pit_channel_state *c = &pit.channels[i];
      uint8_t f[10];
      c->count = snap_get_u32 (r);
      c->latched_count = snap_get_u16 (r);
      snap_get_bytes (r, f, sizeof f);
      c->count_latched = f[0];
      c->status_latched = f[1];
      c->status = f[2];
      c->read_state = f[3];
      c->write_state = f[4];
      c->write_latch = f[5];
      c->rw_mode = f[6];
      c->mode = f[7];
      c->bcd = f[8];
      c->gate = f[9];
      c->count_load_time = snap_get_i64 (r);
    }
  if (!snap_reader_check (r, error))
    return false;
  if (ioctl (k->vm_fd, KVM_SET_PIT2, &pit) < 0)
    return kvm_fail (error, "KVM_SET_PIT2");

  if (!snap_reader_open (r, "kvm.clock", 1, &version, error))
    return false;
  struct kvm_clock_data clock = { .clock = snap_get_u64 (r) };
  if (!snap_reader_check (r, error))
    return false;
  if (ioctl (k->vm_fd, KVM_SET_CLOCK, &clock) < 0)
    return kvm_fail (error, "KVM_SET_CLOCK");
  if (k->clock_frozen)
    k->frozen_clock = clock.clock; /* resume continues from the loaded time */
  return true;
}

/* kvmclock keeps counting host time while vCPUs are parked; a paused VM must
 * not see the pause as elapsed time, so the clock is read at pause and
 * written back at resume. */
void
kvm_clock_pause (Engine *e, bool paused)
{
  KvmEngine *k = (KvmEngine *) e;
  struct kvm_clock_data clock;

  memset (&clock, 0, sizeof clock);
  if (paused)
    {
      if (ioctl (k->vm_fd, KVM_GET_CLOCK, &clock) == 0)
        {
          k->frozen_clock = clock.clock;
          k->clock_frozen = true;
        }
      return;
    }
  if (!k->clock_frozen)
    return;
  clock.clock = k->frozen_clock;
  if (ioctl (k->vm_fd, KVM_SET_CLOCK, &clock) < 0)
    g_warning ("KVM_SET_CLOCK: %s", g_strerror (errno));
  k->clock_frozen = false;
}
