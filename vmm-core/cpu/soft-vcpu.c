/* One software vCPU: the run loop around cpu_run(), HLT and wait-for-SIPI
 * sleeps, interrupt acceptance from the userspace irqchip, the vCPU's own
 * LAPIC page and APIC MSRs, and state get/set. */
#include "vmm-core/cpu/soft-engine.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/timer.h"

#define BATCH 200000

static inline SoftVcpu *
vcpu_of (SoftCpu *c)
{
  return (SoftVcpu *) ((char *) c - offsetof (SoftVcpu, cpu));
}

static Lapic *
my_lapic (SoftVcpu *sv)
{
  return sv->e->chip ? user_irqchip_lapic (sv->e->chip, sv->base.index) : NULL;
}

static void
dev_lock (SoftVcpu *sv)
{
  if (sv->e->cfg.device_lock)
    g_mutex_lock (sv->e->cfg.device_lock);
}

static void
dev_unlock (SoftVcpu *sv)
{
  if (sv->e->cfg.device_lock)
    g_mutex_unlock (sv->e->cfg.device_lock);
}

/* ---- hooks ---- */

static void
hook_pio (void *opaque, uint16_t port, unsigned size, bool is_write, void *data)
{
  SoftVcpu *sv = opaque;
  if (sv->host.pio)
    sv->host.pio (sv->host.opaque, port, size, is_write, data);
}

static void
hook_mmio (void *opaque, uint64_t gpa, unsigned size, bool is_write, void *data)
{
  SoftVcpu *sv = opaque;
  if (sv->host.mmio)
    sv->host.mmio (sv->host.opaque, gpa, size, is_write, data);
}

static bool
hook_apic (SoftCpu *c, uint64_t gpa, unsigned size, bool is_write, uint64_t *data)
{
  SoftVcpu *sv = vcpu_of (c);
  Lapic *l = my_lapic (sv);
  if (!l || !lapic_hw_enabled (l) || lapic_x2apic_mode (l))
    return false;
  dev_lock (sv);
  if (is_write)
    lapic_mmio_write (l, gpa & 0xfff, *data, size);
  else
    *data = lapic_mmio_read (l, gpa & 0xfff, size);
  dev_unlock (sv);
  __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
  return true;
}

static bool
hook_msr (SoftCpu *c, uint32_t msr, bool is_write, uint64_t *value, bool *ok)
{
  SoftVcpu *sv = vcpu_of (c);
  Lapic *l = my_lapic (sv);
  if (!l || !(msr == 0x1b || msr == 0x6e0 || (msr >= 0x800 && msr <= 0x8ff)))
    return false;
  dev_lock (sv);
  if (msr == 0x1b)
    {
      if (is_write)
        {
          *ok = lapic_set_apic_base (l, *value);
          if (*ok)
            c->st.apic_base = lapic_get_apic_base (l);
        }
      else
        *value = lapic_get_apic_base (l);
    }
  else if (msr == 0x6e0)
    {
      if (is_write)
        lapic_set_tsc_deadline (l, *value, cpu_rdtsc (c));
      else
        *value = lapic_get_tsc_deadline (l);
    }
  else if (is_write)
    *ok = lapic_msr_write (l, msr, *value);
  else
    *ok = lapic_msr_read (l, msr, value);
  dev_unlock (sv);
  if (msr == 0x1b && is_write)
    mmu_flush (c, true); /* the APIC page may have moved or been disabled */
  return true;
}

static uint64_t
hook_get_cr8 (SoftCpu *c)
{
  SoftVcpu *sv = vcpu_of (c);
  Lapic *l = my_lapic (sv);
  if (!l)
    return c->st.cr8;
  dev_lock (sv);
  uint64_t v = lapic_get_cr8 (l);
  dev_unlock (sv);
  return v;
}

static void
hook_set_cr8 (SoftCpu *c, uint64_t v)
{
  SoftVcpu *sv = vcpu_of (c);
  Lapic *l = my_lapic (sv);
  if (!l)
    return;
  dev_lock (sv);
  lapic_set_cr8 (l, v);
  dev_unlock (sv);
}

static int64_t
hook_now (SoftCpu *c)
{
  SoftVcpu *sv = vcpu_of (c);
  return timer_queue_now (sv->e->cfg.timers);
}

/* ---- events ---- */

static void
enter_wait_for_sipi (SoftVcpu *sv)
{
  CpuState *s = &sv->cpu.st;
  uint64_t apic_base = s->apic_base;
  uint64_t tsc = cpu_rdtsc (&sv->cpu);
  cpu_state_reset (s, sv->base.index, false);
  s->apic_base = apic_base;
  s->mp_state = CPU_MP_INIT_RECEIVED;
  cpu_set_tsc (&sv->cpu, tsc);
  mmu_flush (&sv->cpu, true);
  cpu_update_mode (&sv->cpu);
}

static void
start_at_sipi (SoftVcpu *sv, int vector)
{
  CpuState *s = &sv->cpu.st;
  s->seg[CPU_SEG_CS].selector = vector << 8;
  s->seg[CPU_SEG_CS].base = (uint64_t) vector << 12;
  s->rip = 0;
  s->mp_state = CPU_MP_RUNNABLE;
  cpu_update_mode (&sv->cpu);
}

/* Between instructions when irq_flag is set. May deliver an interrupt
 * (which may fault: the caller's landing pad handles that). */
static bool
poll_events (SoftCpu *c)
{
  SoftVcpu *sv = vcpu_of (c);
  __atomic_store_n (&c->irq_flag, 0, __ATOMIC_SEQ_CST);
  if (__atomic_load_n (&sv->kick_req, __ATOMIC_SEQ_CST))
    {
      c->stop = SOFT_STOP_KICK;
      return false;
    }
  if (__atomic_load_n (&c->mem_gen, __ATOMIC_RELAXED) != __atomic_load_n (&sv->e->mem.generation, __ATOMIC_RELAXED))
    {
      c->mem_gen = __atomic_load_n (&sv->e->mem.generation, __ATOMIC_RELAXED);
      mmu_flush (c, true);
    }
  UserIrqchip *chip = sv->e->chip;
  if (!chip)
    return false;
  unsigned ev = user_irqchip_pending (chip, sv->base.index);
  if (!ev)
    return false;
  Lapic *l = my_lapic (sv);
  int vec = -1;
  bool nmi = false;
  dev_lock (sv);
  if (ev & LAPIC_EVENT_INIT)
    {
      /* A pending SIPI is newer than the pending INIT (an INIT cancels
       * earlier SIPIs), and resetting the LAPIC would drop it: take it first. */
      int sipi = lapic_take_sipi (l);
      if (lapic_take_init (l))
        {
          dev_unlock (sv);
          enter_wait_for_sipi (sv);
          if (sipi >= 0)
            start_at_sipi (sv, sipi);
          c->stop = SOFT_STOP_KICK;
          return true;
        }
    }
  if ((ev & LAPIC_EVENT_SIPI))
    lapic_take_sipi (l); /* ignored while running */
  if ((ev & LAPIC_EVENT_NMI) && !c->st.nmi_masked && lapic_take_nmi (l))
    nmi = true; /* NMIs stay blocked until the handler's IRET */
  else if ((c->st.rflags & FL_IF) && !c->st.interrupt_shadow)
    vec = user_irqchip_get_interrupt (chip, sv->base.index);
  dev_unlock (sv);
  if (nmi)
    {
      vec = EXC_NMI;
      c->st.nmi_masked = 1;
    }
  if (vec < 0)
    return false;
  c->st.mp_state = CPU_MP_RUNNABLE;
  c->delivering = 256;
  cpu_deliver (c, vec, 0, false, false, c->st.rip);
  c->delivering = -1;
  /* More may be pending: look again after this instruction. */
  __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
  return true;
}

void
soft_vcpu_wake (SoftVcpu *sv)
{
  __atomic_store_n (&sv->cpu.irq_flag, 1, __ATOMIC_SEQ_CST);
  g_mutex_lock (&sv->wait_lock);
  sv->woken = true;
  g_cond_signal (&sv->wait_cond);
  g_mutex_unlock (&sv->wait_lock);
}

void
soft_vcpu_kick (EngineVcpu *v)
{
  SoftVcpu *sv = (SoftVcpu *) v;
  __atomic_store_n (&sv->kick_req, 1, __ATOMIC_SEQ_CST);
  soft_vcpu_wake (sv);
}

/* Can the halted / waiting CPU continue? Handles SIPI and INIT. */
static bool
wake_condition (SoftVcpu *sv)
{
  SoftCpu *c = &sv->cpu;
  UserIrqchip *chip = sv->e->chip;
  if (!chip)
    return false;
  unsigned ev = user_irqchip_pending (chip, sv->base.index);
  if (!ev)
    return false;
  Lapic *l = my_lapic (sv);
  if (c->st.mp_state == CPU_MP_INIT_RECEIVED)
    {
      dev_lock (sv);
      int vec = lapic_take_sipi (l); /* before the INIT reset can drop it */
      if (ev & LAPIC_EVENT_INIT)
        lapic_take_init (l);
      dev_unlock (sv);
      if (vec >= 0)
        {
          start_at_sipi (sv, vec);
          return true;
        }
      return false;
    }
  if (ev & (LAPIC_EVENT_INIT | LAPIC_EVENT_NMI))
    return true;
  if ((ev & (LAPIC_EVENT_INTR | LAPIC_EVENT_EXTINT)) && (c->st.rflags & FL_IF))
    {
      dev_lock (sv);
      bool has = user_irqchip_has_interrupt (chip, sv->base.index);
      dev_unlock (sv);
      return has;
    }
  return false;
}

/* Sleeps until woken, a kick, or the timeout (ms). */
static void
sleep_until_woken (SoftVcpu *sv, int ms)
{
  gint64 until = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&sv->wait_lock);
  while (!sv->woken && !__atomic_load_n (&sv->kick_req, __ATOMIC_SEQ_CST))
    if (!g_cond_wait_until (&sv->wait_cond, &sv->wait_lock, until))
      break;
  g_mutex_unlock (&sv->wait_lock);
}

/* VIREO_CPU_PROGRESS=1: one line per second per vCPU on stderr (instructions,
 * RIP, mode), to see how far a guest gets without a full trace. */
static void
report_progress (SoftVcpu *sv)
{
  gint64 now = g_get_monotonic_time ();
  if (now - sv->last_report < G_USEC_PER_SEC)
    return;
  SoftCpu *c = &sv->cpu;
  g_printerr ("vireo-cpu%u: %" G_GUINT64_FORMAT " insns (+%.1f M/s) rip %04x:%016llx cpl %u %s%s\n",
              c->index, c->icount,
              (double) (c->icount - sv->last_icount) / ((now - sv->last_report) / 1e6) / 1e6,
              c->st.seg[CPU_SEG_CS].selector, (unsigned long long) c->st.rip, c->cpl,
              c->mode64 ? "64-bit" : c->long_mode ? "compat" : c->pe ? "protected" : "real",
              c->st.mp_state == CPU_MP_HALTED ? " halted" : "");
  sv->last_report = now;
  sv->last_icount = c->icount;
}

VcpuExitReason
soft_vcpu_run (EngineVcpu *v)
{
  SoftVcpu *sv = (SoftVcpu *) v;
  SoftCpu *c = &sv->cpu;
  for (;;)
    {
      if (__atomic_exchange_n (&sv->kick_req, 0, __ATOMIC_SEQ_CST))
        return VCPU_EXIT_KICK;
      if (c->st.mp_state == CPU_MP_INIT_RECEIVED || c->st.mp_state == CPU_MP_HALTED)
        {
          g_mutex_lock (&sv->wait_lock);
          sv->woken = false;
          g_mutex_unlock (&sv->wait_lock);
          if (!wake_condition (sv))
            {
              if (c->st.mp_state == CPU_MP_HALTED && !(c->st.rflags & FL_IF) && sv->e->chip
                  && !(user_irqchip_pending (sv->e->chip, sv->base.index) & LAPIC_EVENT_NMI))
                return VCPU_EXIT_HALT;
              sleep_until_woken (sv, 100);
              if (G_UNLIKELY (sv->progress))
                report_progress (sv);
              continue;
            }
          if (c->st.mp_state == CPU_MP_HALTED)
            c->st.mp_state = CPU_MP_RUNNABLE;
          __atomic_store_n (&c->irq_flag, 1, __ATOMIC_SEQ_CST);
        }
      SoftStop r = cpu_run (c, BATCH);
      if (G_UNLIKELY (sv->progress))
        report_progress (sv);
      switch (r)
        {
        case SOFT_STOP_HLT:
          c->st.mp_state = CPU_MP_HALTED;
          __atomic_store_n (&c->irq_flag, 1, __ATOMIC_SEQ_CST);
          break;
        case SOFT_STOP_SHUTDOWN:
          return VCPU_EXIT_SHUTDOWN;
        default:
          /* Budget used up or a kick: loop (checks kick_req). */
          __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
          break;
        }
    }
}

EngineVcpu *
soft_vcpu_create (Engine *e, unsigned index, const VcpuHost *host, GError **error)
{
  SoftEngine *se = (SoftEngine *) e;
  if (index >= SOFT_MAX_CPUS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "vCPU index %u too large",
                   index);
      return NULL;
    }
  SoftVcpu *sv = g_new0 (SoftVcpu, 1);
  sv->base.engine = e;
  sv->base.index = index;
  sv->e = se;
  sv->host = *host;
  g_mutex_init (&sv->wait_lock);
  g_cond_init (&sv->wait_cond);
  SoftCpu *c = &sv->cpu;
  c->index = index;
  c->mem = &se->mem;
  c->hooks = (SoftCpuHooks){
    .opaque = sv, .pio = hook_pio, .mmio = hook_mmio, .apic_access = hook_apic,
    .msr = hook_msr, .get_cr8 = hook_get_cr8, .set_cr8 = hook_set_cr8,
    .now_ns = se->cfg.timers ? hook_now : NULL,
  };
  c->irq_poll = poll_events;
  cpu_state_reset (&c->st, index, index == 0);
  cpu_init (c);
  c->tsc_hz = se->tsc_hz;
  trace_open_from_env (c);
  sv->progress = g_getenv ("VIREO_CPU_PROGRESS") != NULL;
  se->vcpus[index] = sv;
  return &sv->base;
}

void
soft_vcpu_destroy (EngineVcpu *v)
{
  SoftVcpu *sv = (SoftVcpu *) v;
  if (!sv)
    return;
  sv->e->vcpus[v->index] = NULL;
  if (sv->cpu.trace)
    fclose (sv->cpu.trace);
  g_mutex_clear (&sv->wait_lock);
  g_cond_clear (&sv->wait_cond);
  g_free (sv->cpu.dcache);
  g_free (v->error);
  g_free (sv);
}

bool
soft_vcpu_get_state (EngineVcpu *v, CpuState *s, GError **error)
{
  SoftVcpu *sv = (SoftVcpu *) v;
  *s = sv->cpu.st;
  s->tsc = cpu_rdtsc (&sv->cpu);
  Lapic *l = my_lapic (sv);
  if (l)
    {
      dev_lock (sv);
      lapic_get_page (l, s->lapic);
      s->apic_base = lapic_get_apic_base (l);
      s->tsc_deadline = lapic_get_tsc_deadline (l);
      dev_unlock (sv);
    }
  return true;
}

bool
soft_vcpu_set_state (EngineVcpu *v, const CpuState *s, GError **error)
{
  SoftVcpu *sv = (SoftVcpu *) v;
  SoftCpu *c = &sv->cpu;
  c->st = *s;
  cpu_set_tsc (c, s->tsc);
  Lapic *l = my_lapic (sv);
  if (l)
    {
      /* A freshly reset CpuState carries a reset register page; the LAPIC's
       * own reset state (LINT0 ExtINT on the BSP) is the better one then. */
      g_autofree CpuState *fresh = g_new (CpuState, 1);
      cpu_state_reset (fresh, v->index, v->index == 0);
      dev_lock (sv);
      lapic_set_apic_base (l, s->apic_base);
      if (memcmp (fresh->lapic, s->lapic, sizeof s->lapic) != 0)
        lapic_set_page (l, s->lapic);
      dev_unlock (sv);
    }
  mmu_flush (c, true);
  cpu_update_mode (c);
  __atomic_store_n (&c->irq_flag, 1, __ATOMIC_SEQ_CST);
  return true;
}
