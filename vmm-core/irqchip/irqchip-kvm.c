/* KVM irqchip state <-> ours. The from_kvm direction writes a snapshot
 * section and loads it, so KVM-made state passes the same validation as a
 * snapshot file. */
#include "vmm-core/irqchip/irqchip-kvm.h"

#include <string.h>

#include "vmm-core/snapshot-stream.h"
#include "vmm-core/timer.h"

static bool
load_section (GBytes *bytes, bool (*load) (void *, SnapReader *, GError **), void *dev,
              GError **error)
{
  SnapReader *r = snap_reader_new (bytes, error);
  bool ok = r && load (dev, r, error);
  snap_reader_free (r);
  g_bytes_unref (bytes);
  return ok;
}

void
pic_to_kvm (const Pic8259 *pic, struct kvm_pic_state pics[2])
{
  for (unsigned i = 0; i < 2; i++)
    {
      const Pic8259Chip *s = &pic->chip[i];
      pics[i] = (struct kvm_pic_state){
        .last_irr = s->last_irr, .irr = s->irr, .imr = s->imr, .isr = s->isr,
        .priority_add = s->priority_add, .irq_base = s->irq_base,
        .read_reg_select = s->read_reg_select, .poll = s->poll,
        .special_mask = s->special_mask, .init_state = s->init_state,
        .auto_eoi = s->auto_eoi, .rotate_on_auto_eoi = s->rotate_on_auto_eoi,
        .special_fully_nested_mode = s->special_fully_nested_mode, .init4 = s->init4,
        .elcr = s->elcr, .elcr_mask = s->elcr_mask,
      };
    }
}

static bool
pic_load_cb (void *dev, SnapReader *r, GError **error)
{
  return pic_load (dev, r, error);
}

bool
pic_from_kvm (Pic8259 *pic, const struct kvm_pic_state pics[2], GError **error)
{
  SnapWriter *w = snap_writer_new ();
  snap_section_begin (w, "pic", 1);
  for (unsigned i = 0; i < 2; i++)
    {
      const struct kvm_pic_state *k = &pics[i];
      const uint8_t f[] = {
        k->last_irr, k->irr, k->imr, k->isr, k->priority_add, k->irq_base,
        k->read_reg_select, k->poll, k->special_mask, k->init_state, k->auto_eoi,
        k->rotate_on_auto_eoi, k->special_fully_nested_mode, k->init4,
        0 /* single_mode: KVM has none */, k->elcr,
        k->last_irr /* input levels: last_irr tracks them */,
      };
      snap_put_bytes (w, f, sizeof f);
    }
  snap_section_end (w);
  return load_section (snap_writer_finish (w), pic_load_cb, pic, error);
}

void
ioapic_to_kvm (const Ioapic *io, struct kvm_ioapic_state *out)
{
  memset (out, 0, sizeof *out);
  out->base_address = io->base_address;
  out->ioregsel = io->ioregsel;
  out->id = io->id;
  /* KVM keeps irr for asserted level pins; edge requests are consumed. */
  uint32_t level_pins = 0;
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    {
      out->redirtbl[i].bits = io->redirtbl[i];
      if (io->redirtbl[i] & IOAPIC_RTE_LEVEL)
        level_pins |= 1u << i;
    }
  out->irr = io->level & level_pins;
}

static bool
ioapic_load_cb (void *dev, SnapReader *r, GError **error)
{
  return ioapic_load (dev, r, error);
}

bool
ioapic_from_kvm (Ioapic *io, const struct kvm_ioapic_state *in, GError **error)
{
  SnapWriter *w = snap_writer_new ();
  snap_section_begin (w, "ioapic", 1);
  snap_put_u64 (w, in->base_address);
  snap_put_u32 (w, in->ioregsel);
  snap_put_u32 (w, in->id);
  snap_put_u32 (w, in->irr);
  snap_put_u32 (w, in->irr); /* input levels */
  for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
    snap_put_u64 (w, in->redirtbl[i].bits & ~IOAPIC_RTE_DELIVERY_STATUS);
  snap_section_end (w);
  return load_section (snap_writer_finish (w), ioapic_load_cb, io, error);
}

void
pit_to_kvm (Pit8254 *pit, int64_t kvm_clock_offset, struct kvm_pit_state2 *out)
{
  memset (out, 0, sizeof *out);
  int64_t now = timer_queue_now (pit->timers);
  for (unsigned i = 0; i < 3; i++)
    {
      const PitChannel *c = &pit->ch[i];
      int64_t load = c->count_load_time;
      /* KVM does not freeze a gated-off counter: shift the load time so the
       * count it computes now is the frozen one. */
      if (!c->gate && (c->mode == 0 || c->mode == 2 || c->mode == 3 || c->mode == 4))
        load += now - c->gate_off_time;
      out->channels[i] = (struct kvm_pit_channel_state){
        .count = c->count, .latched_count = c->latched_count,
        .count_latched = c->count_latched, .status_latched = c->status_latched,
        .status = c->status, .read_state = c->read_state, .write_state = c->write_state,
        .write_latch = c->write_latch, .rw_mode = c->rw_mode, .mode = c->mode,
        .bcd = c->bcd, .gate = c->gate,
        .count_load_time = (int64_t) ((uint64_t) load + (uint64_t) kvm_clock_offset),
      };
    }
  if (pit->speaker_data)
    out->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
}

static bool
pit_load_cb (void *dev, SnapReader *r, GError **error)
{
  return pit_load (dev, r, error);
}

bool
pit_from_kvm (Pit8254 *pit, const struct kvm_pit_state2 *in, int64_t kvm_clock_offset,
              GError **error)
{
  int64_t now = timer_queue_now (pit->timers);
  SnapWriter *w = snap_writer_new ();
  snap_section_begin (w, "pit", 1);
  bool out0 = false;
  for (unsigned i = 0; i < 3; i++)
    {
      const struct kvm_pit_channel_state *k = &in->channels[i];
      /* Wrapping arithmetic: hostile values are caught by pit_load. */
      int64_t load = (int64_t) ((uint64_t) k->count_load_time - (uint64_t) kvm_clock_offset);
      snap_put_u32 (w, k->count);
      snap_put_u16 (w, k->latched_count);
      snap_put_u8 (w, k->count_latched);
      snap_put_u8 (w, k->status_latched);
      snap_put_u8 (w, k->status);
      snap_put_u8 (w, k->read_state);
      snap_put_u8 (w, k->write_state);
      snap_put_u8 (w, k->write_latch);
      snap_put_u8 (w, k->rw_mode);
      snap_put_u8 (w, k->mode);
      snap_put_u8 (w, k->bcd);
      snap_put_u8 (w, k->gate);
      snap_put_u8 (w, 0); /* null count */
      snap_put_i64 (w, load);
      snap_put_i64 (w, now); /* gate_off_time: freezes from now if gated off */
      snap_put_i64 (w, 0);   /* next IRQ: recomputed */
      if (i == 0 && (k->mode == 0 || k->mode == 1) && k->count)
        {
          /* OUT of a one-shot already past terminal count holds IRQ0 high. */
          int64_t elapsed;
          out0 = !__builtin_sub_overflow (now, load, &elapsed) && elapsed > 0
                 && (unsigned __int128) elapsed * PIT_FREQ_HZ / 1000000000u >= k->count;
        }
    }
  snap_put_u8 (w, (in->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) ? 1 : 0);
  snap_put_bool (w, out0);
  snap_section_end (w);
  return load_section (snap_writer_finish (w), pit_load_cb, pit, error);
}
