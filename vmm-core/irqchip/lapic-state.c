/* LAPIC state transfer: the xAPIC register page (CpuState.lapic, KVM's
 * kvm_lapic_state layout) and the "lapic.N" snapshot section. */
#include "vmm-core/irqchip/lapic-internal.h"

#include <string.h>

#include "vmm-core/snapshot-stream.h"

#include <gio/gio.h>
#include "vmm-core/timer.h"

#define LAPIC_SECTION_VERSION 1

static void
put32 (uint8_t *page, uint32_t off, uint32_t v)
{
  page[off] = v & 0xff;
  page[off + 1] = (v >> 8) & 0xff;
  page[off + 2] = (v >> 16) & 0xff;
  page[off + 3] = v >> 24;
}

static uint32_t
get32 (const uint8_t *page, uint32_t off)
{
  return page[off] | (uint32_t) page[off + 1] << 8 | (uint32_t) page[off + 2] << 16
         | (uint32_t) page[off + 3] << 24;
}

void
lapic_get_page (Lapic *l, uint8_t page[LAPIC_PAGE_SIZE])
{
  memset (page, 0, LAPIC_PAGE_SIZE);
  bool x2 = lapic_x2apic_mode (l);
  put32 (page, LAPIC_REG_ID, x2 ? l->id : l->id << 24);
  put32 (page, LAPIC_REG_VERSION, lapic_read (l, LAPIC_REG_VERSION));
  put32 (page, LAPIC_REG_TPR, l->tpr);
  put32 (page, LAPIC_REG_PPR, lapic_ppr (l));
  put32 (page, LAPIC_REG_LDR, l->ldr);
  put32 (page, LAPIC_REG_DFR, l->dfr);
  put32 (page, LAPIC_REG_SVR, l->svr);
  for (unsigned i = 0; i < 8; i++)
    {
      put32 (page, LAPIC_REG_ISR + i * 16, l->isr[i]);
      put32 (page, LAPIC_REG_TMR + i * 16, l->tmr[i]);
      put32 (page, LAPIC_REG_IRR + i * 16, l->irr[i]);
    }
  put32 (page, LAPIC_REG_ESR, l->esr);
  put32 (page, LAPIC_REG_ICR_LO, l->icr_lo);
  put32 (page, LAPIC_REG_ICR_HI, l->icr_hi);
  for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
    put32 (page, LAPIC_REG_LVT_TIMER + i * 16, l->lvt[i]);
  put32 (page, LAPIC_REG_TIMER_INITIAL, l->timer_initial);
  put32 (page, LAPIC_REG_TIMER_CURRENT, lapic_timer_current (l));
  put32 (page, LAPIC_REG_TIMER_DIVIDE, l->timer_divide);
}

void
lapic_set_page (Lapic *l, const uint8_t page[LAPIC_PAGE_SIZE])
{
  static const uint32_t lvt_mask[LAPIC_LVT_COUNT] = {
    0x700ff, 0x107ff, 0x107ff, 0x1e7ff, 0x1e7ff, 0x100ff,
  };
  uint32_t id = get32 (page, LAPIC_REG_ID);
  l->id = lapic_x2apic_mode (l) ? id : id >> 24;
  l->tpr = get32 (page, LAPIC_REG_TPR) & 0xff;
  l->ldr = get32 (page, LAPIC_REG_LDR) & (lapic_x2apic_mode (l) ? 0xffffffffu : 0xff000000u);
  l->dfr = get32 (page, LAPIC_REG_DFR) | 0x0fffffffu;
  l->svr = get32 (page, LAPIC_REG_SVR) & 0x3ff;
  for (unsigned i = 0; i < 8; i++)
    {
      l->isr[i] = get32 (page, LAPIC_REG_ISR + i * 16);
      l->tmr[i] = get32 (page, LAPIC_REG_TMR + i * 16);
      l->irr[i] = get32 (page, LAPIC_REG_IRR + i * 16);
    }
  /* Vectors 0-15 can never be pending or in service. */
  l->isr[0] &= ~0xffffu;
  l->irr[0] &= ~0xffffu;
  l->tmr[0] &= ~0xffffu;
  l->esr = get32 (page, LAPIC_REG_ESR) & 0xef;
  l->esr_pending = 0;
  l->icr_lo = get32 (page, LAPIC_REG_ICR_LO) & 0x000ccfffu;
  l->icr_hi = get32 (page, LAPIC_REG_ICR_HI);
  for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
    l->lvt[i] = get32 (page, LAPIC_REG_LVT_TIMER + i * 16) & lvt_mask[i];
  if (((l->lvt[LAPIC_LVT_TIMER] >> 17) & 3) == 3)
    l->lvt[LAPIC_LVT_TIMER] &= ~(1u << 18);
  l->timer_divide = get32 (page, LAPIC_REG_TIMER_DIVIDE) & 0xb;
  l->timer_initial = get32 (page, LAPIC_REG_TIMER_INITIAL);
  /* Resume the count where the page says it was. */
  uint32_t cur = get32 (page, LAPIC_REG_TIMER_CURRENT);
  if (cur > l->timer_initial)
    cur = l->timer_initial;
  uint64_t d = 1ull << ((((l->timer_divide & 3) | ((l->timer_divide & 8) >> 1)) + 1) & 7);
  int64_t t = timer_queue_now (l->timers);
  if (lapic_timer_mode (l) == LAPIC_TIMER_ONESHOT && cur == 0)
    l->timer_start = t - (int64_t) ((uint64_t) l->timer_initial * d); /* expired */
  else
    l->timer_start = t - (int64_t) ((uint64_t) (l->timer_initial - cur) * d);
  if (lapic_timer_mode (l) == LAPIC_TIMER_TSC_DEADLINE)
    l->timer_initial = 0;
  lapic_timer_rearm (l);
  lapic_update (l);
}

void
lapic_save (Lapic *l, SnapWriter *w)
{
  char name[32];
  uint8_t page[LAPIC_PAGE_SIZE];
  g_snprintf (name, sizeof name, "lapic.%u", l->index);
  snap_section_begin (w, name, LAPIC_SECTION_VERSION);
  snap_put_u64 (w, l->apic_base);
  lapic_get_page (l, page);
  snap_put_bytes (w, page, sizeof page);
  snap_put_u32 (w, l->esr_pending);
  snap_put_i64 (w, l->timer_start);
  snap_put_u64 (w, l->tsc_deadline);
  snap_put_i64 (w, l->deadline_ns);
  snap_put_bool (w, l->nmi_pending);
  snap_put_bool (w, l->init_pending);
  snap_put_bool (w, l->sipi_pending);
  snap_put_u8 (w, l->sipi_vector);
  snap_put_bool (w, l->lint_level[0]);
  snap_put_bool (w, l->lint_level[1]);
  snap_put_bool (w, l->extint_msg);
  snap_section_end (w);
}

bool
lapic_load (Lapic *l, SnapReader *r, GError **error)
{
  char name[32];
  uint32_t version;
  uint8_t page[LAPIC_PAGE_SIZE];
  g_snprintf (name, sizeof name, "lapic.%u", l->index);
  if (!snap_reader_open (r, name, LAPIC_SECTION_VERSION, &version, error))
    return false;
  uint64_t base = snap_get_u64 (r);
  snap_get_bytes (r, page, sizeof page);
  uint32_t esr_pending = snap_get_u32 (r);
  int64_t timer_start = snap_get_i64 (r);
  uint64_t tsc_deadline = snap_get_u64 (r);
  int64_t deadline_ns = snap_get_i64 (r);
  bool nmi = snap_get_bool (r), init = snap_get_bool (r), sipi = snap_get_bool (r);
  uint8_t sipi_vector = snap_get_u8 (r);
  bool lint0 = snap_get_bool (r), lint1 = snap_get_bool (r);
  bool extint = snap_get_bool (r);
  if (!snap_reader_check (r, error))
    return false;
  const uint64_t reserved = 0xfff00000000002ffull;
  const int64_t far = INT64_MAX / 4; /* times stay clear of overflow */
  if ((base & reserved)
      || (base & (LAPIC_BASE_ENABLE | LAPIC_BASE_X2APIC)) == LAPIC_BASE_X2APIC
      || timer_start < -far || timer_start > far || deadline_ns < -far || deadline_ns > far)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "section %s: invalid APIC base or timer state", name);
      return false;
    }
  l->apic_base = base; /* first: the page is read in the loaded mode */
  lapic_set_page (l, page);
  l->esr_pending = esr_pending & 0xef;
  l->timer_start = timer_start;
  l->tsc_deadline = lapic_timer_mode (l) == LAPIC_TIMER_TSC_DEADLINE ? tsc_deadline : 0;
  l->deadline_ns = deadline_ns;
  l->nmi_pending = nmi;
  l->init_pending = init;
  l->sipi_pending = sipi;
  l->sipi_vector = sipi_vector;
  l->lint_level[0] = lint0;
  l->lint_level[1] = lint1;
  l->extint_msg = extint;
  lapic_timer_rearm (l);
  lapic_update (l);
  return true;
}
