/* Machine state for snapshots: the virtual clock, every device's section,
 * the engine's platform sections and one "cpu.N" section per vCPU, in one
 * snapshot stream. Guest RAM is not in it (the snapshot file maps the memfd
 * itself). Taken and restored while paused. */
#include "vmm-core/machine-internal.h"

#include <gio/gio.h>

#include "vmm-core/snapshot-stream.h"

#define CPU_SECTION_VERSION 1

static void
put_seg (SnapWriter *w, const CpuSegment *s)
{
  snap_put_u64 (w, s->base);
  snap_put_u32 (w, s->limit);
  snap_put_u16 (w, s->selector);
  const uint8_t f[] = { s->type, s->s, s->dpl, s->present, s->avl, s->l, s->db, s->g,
                        s->unusable };
  snap_put_bytes (w, f, sizeof f);
}

static void
get_seg (SnapReader *r, CpuSegment *s)
{
  uint8_t f[9];
  s->base = snap_get_u64 (r);
  s->limit = snap_get_u32 (r);
  s->selector = snap_get_u16 (r);
  snap_get_bytes (r, f, sizeof f);
  s->type = f[0], s->s = f[1], s->dpl = f[2], s->present = f[3], s->avl = f[4];
  s->l = f[5], s->db = f[6], s->g = f[7], s->unusable = f[8];
}

/* Every scalar u64 of CpuState after the segments, in one list so save and
 * load cannot drift apart. */
#define CPU_U64_FIELDS(X)                                                       \
  X (cr0) X (cr2) X (cr3) X (cr4) X (cr8) X (efer) X (xcr0) X (dr6) X (dr7)     \
  X (apic_base) X (star) X (lstar) X (cstar) X (sfmask) X (kernel_gs_base)      \
  X (sysenter_cs) X (sysenter_esp) X (sysenter_eip) X (tsc) X (tsc_aux)         \
  X (tsc_deadline) X (pat) X (misc_enable) X (mtrr_def_type)

static void
cpu_state_save (SnapWriter *w, unsigned index, const CpuState *s)
{
  char name[16];
  g_snprintf (name, sizeof name, "cpu.%u", index);
  snap_section_begin (w, name, CPU_SECTION_VERSION);
  for (int i = 0; i < CPU_NR_GPRS; i++)
    snap_put_u64 (w, s->regs[i]);
  snap_put_u64 (w, s->rip);
  snap_put_u64 (w, s->rflags);
  for (int i = 0; i < CPU_NR_SEGS; i++)
    put_seg (w, &s->seg[i]);
  put_seg (w, &s->tr);
  put_seg (w, &s->ldt);
  snap_put_u64 (w, s->gdt.base);
  snap_put_u16 (w, s->gdt.limit);
  snap_put_u64 (w, s->idt.base);
  snap_put_u16 (w, s->idt.limit);
#define PUT(f) snap_put_u64 (w, s->f);
  CPU_U64_FIELDS (PUT)
#undef PUT
  for (int i = 0; i < 4; i++)
    snap_put_u64 (w, s->dr[i]);
  for (int i = 0; i < 11; i++)
    snap_put_u64 (w, s->mtrr_fixed[i]);
  for (int i = 0; i < 16; i++)
    snap_put_u64 (w, s->mtrr_var[i]);
  snap_put_bytes (w, s->fxsave, sizeof s->fxsave);
  const uint8_t ev[] = { s->interrupt_shadow, s->nmi_pending, s->nmi_masked,
                         s->exception_pending, s->exception_vector, s->exception_has_error };
  snap_put_bytes (w, ev, sizeof ev);
  snap_put_u32 (w, s->exception_error);
  snap_put_u16 (w, (uint16_t) s->interrupt_pending);
  snap_put_u32 (w, s->mp_state);
  snap_put_u32 (w, s->sipi_vector);
  snap_put_bytes (w, s->lapic, sizeof s->lapic);
  snap_section_end (w);
}

static bool
cpu_state_load (SnapReader *r, unsigned index, CpuState *s, GError **error)
{
  char name[16];
  uint32_t version;
  g_snprintf (name, sizeof name, "cpu.%u", index);
  if (!snap_reader_open (r, name, CPU_SECTION_VERSION, &version, error))
    return false;
  for (int i = 0; i < CPU_NR_GPRS; i++)
    s->regs[i] = snap_get_u64 (r);
  s->rip = snap_get_u64 (r);
  s->rflags = snap_get_u64 (r);
  for (int i = 0; i < CPU_NR_SEGS; i++)
    get_seg (r, &s->seg[i]);
  get_seg (r, &s->tr);
  get_seg (r, &s->ldt);
  s->gdt.base = snap_get_u64 (r);
  s->gdt.limit = snap_get_u16 (r);
  s->idt.base = snap_get_u64 (r);
  s->idt.limit = snap_get_u16 (r);
#define GET(f) s->f = snap_get_u64 (r);
  CPU_U64_FIELDS (GET)
#undef GET
  for (int i = 0; i < 4; i++)
    s->dr[i] = snap_get_u64 (r);
  for (int i = 0; i < 11; i++)
    s->mtrr_fixed[i] = snap_get_u64 (r);
  for (int i = 0; i < 16; i++)
    s->mtrr_var[i] = snap_get_u64 (r);
  snap_get_bytes (r, s->fxsave, sizeof s->fxsave);
  uint8_t ev[6];
  snap_get_bytes (r, ev, sizeof ev);
  s->interrupt_shadow = ev[0], s->nmi_pending = ev[1], s->nmi_masked = ev[2];
  s->exception_pending = ev[3], s->exception_vector = ev[4], s->exception_has_error = ev[5];
  s->exception_error = snap_get_u32 (r);
  s->interrupt_pending = (int16_t) snap_get_u16 (r);
  s->mp_state = snap_get_u32 (r);
  s->sipi_vector = snap_get_u32 (r);
  snap_get_bytes (r, s->lapic, sizeof s->lapic);
  if (!snap_reader_check (r, error))
    return false;
  if (s->mp_state > CPU_MP_SIPI_RECEIVED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: bad MP state %u", name,
                   s->mp_state);
      return false;
    }
  return true;
}

GBytes *
machine_save_state (Machine *m, GError **error)
{
  SnapWriter *w = snap_writer_new ();
  g_autofree CpuState *s = g_new0 (CpuState, 1);

  snap_section_begin (w, "machine", 1);
  snap_put_u32 (w, m->ncpus);
  snap_put_u64 (w, m->ram.size);
  snap_put_i64 (w, timer_queue_now (m->timers));
  snap_section_end (w);

  g_mutex_lock (&m->device_lock);
  uart_save (&m->com1, w);
  cmos_rtc_save (&m->rtc, w);
  pci_host_save (&m->pci, w);
  pc_reset_save (&m->reset, w);
  acpi_pm_save (&m->pm, w);
  i8042_save (&m->kbc, w);
  g_mutex_unlock (&m->device_lock);

  m->engine->ops->save_platform (m->engine, w);
  for (unsigned i = 0; i < m->ncpus; i++)
    {
      if (!m->engine->ops->vcpu_get_state (m->vcpus[i].ev, s, error))
        {
          snap_writer_free (w);
          return NULL;
        }
      cpu_state_save (w, i, s);
    }
  return snap_writer_finish (w);
}

bool
machine_load_state (Machine *m, GBytes *state, GError **error)
{
  g_autoptr (SnapReader) r = snap_reader_new (state, error);
  g_autofree CpuState *s = g_new0 (CpuState, 1);
  uint32_t version;

  if (!r || !snap_reader_open (r, "machine", 1, &version, error))
    return false;
  uint32_t cpus = snap_get_u32 (r);
  uint64_t ram = snap_get_u64 (r);
  int64_t now = snap_get_i64 (r);
  if (!snap_reader_check (r, error))
    return false;
  if (cpus != m->ncpus || ram != m->ram.size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "saved state is for %u vCPUs and %" G_GUINT64_FORMAT
                   " MiB, this machine has %u and %" G_GUINT64_FORMAT " MiB",
                   cpus, ram >> 20, m->ncpus, m->ram.size >> 20);
      return false;
    }

  g_mutex_lock (&m->device_lock);
  timer_queue_set_now (m->timers, now);
  bool ok = uart_load (&m->com1, r, error) && cmos_rtc_load (&m->rtc, r, error)
            && pci_host_load (&m->pci, r, error) && pc_reset_load (&m->reset, r, error)
            && acpi_pm_load (&m->pm, r, error) && i8042_load (&m->kbc, r, error);
  g_mutex_unlock (&m->device_lock);
  if (!ok || !m->engine->ops->load_platform (m->engine, r, error))
    return false;
  for (unsigned i = 0; i < m->ncpus; i++)
    if (!cpu_state_load (r, i, s, error)
        || !m->engine->ops->vcpu_set_state (m->vcpus[i].ev, s, error))
      return false;
  return true;
}
