/* Linear → physical translation (no paging, 32-bit, PAE and 4-level paging)
 * with a direct-mapped TLB, and guest-physical access (RAM slots, the vCPU's
 * own APIC page, MMIO through the host). */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/log.h"

#include <string.h>

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

void
mmu_flush (SoftCpu *c, bool include_global)
{
  c->code_page = 0;
  for (unsigned i = 0; i < TLB_SIZE; i++)
    if (include_global || !(c->tlb[i].perm & TLB_GLOBAL))
      c->tlb[i].tag = 0;
  if (include_global)
    c->tlb_has_large = false;
}

void
mmu_invlpg (SoftCpu *c, uint64_t lin)
{
  c->code_page = 0;
  if (c->tlb_has_large)
    {
      mmu_flush (c, true);
      return;
    }
  TlbEntry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
  if (e->tag == (lin >> 12) + 1)
    e->tag = 0;
}

uint8_t *
phys_host (SoftCpu *c, uint64_t gpa, uint64_t len)
{
  SoftMem *m = c->mem;
  for (unsigned i = 0; i < m->nslots; i++)
    {
      MemSlot *s = &m->slots[i];
      if (gpa >= s->gpa && gpa - s->gpa < s->size && len <= s->size - (gpa - s->gpa))
        return s->host + (gpa - s->gpa);
    }
  return NULL;
}

static bool
is_apic_page (SoftCpu *c, uint64_t gpa)
{
  return c->hooks.apic_access && (c->st.apic_base & (1u << 11))
         && (gpa & ~0xfffull) == (c->st.apic_base & 0xffffff000ull);
}

uint64_t
phys_read (SoftCpu *c, uint64_t gpa, unsigned size)
{
  uint8_t *h = phys_host (c, gpa, size);
  uint64_t v = 0;
  if (h)
    {
      memcpy (&v, h, size);
      return v;
    }
  if (is_apic_page (c, gpa) && c->hooks.apic_access (c, gpa, size, false, &v))
    return v & sz_mask (size);
  if (c->hooks.mmio)
    {
      c->hooks.mmio (c->hooks.opaque, gpa, size, false, &v);
      return v & sz_mask (size);
    }
  return sz_mask (size);
}

void
phys_write (SoftCpu *c, uint64_t gpa, unsigned size, uint64_t v)
{
  uint8_t *h = phys_host (c, gpa, size);
  if (h)
    {
      memcpy (h, &v, size);
      return;
    }
  if (is_apic_page (c, gpa) && c->hooks.apic_access (c, gpa, size, true, &v))
    return;
  if (c->hooks.mmio)
    c->hooks.mmio (c->hooks.opaque, gpa, size, true, &v);
}

/* Page-table entries are read and updated in place (A/D bits atomically,
 * since other vCPUs walk the same tables). */
static uint64_t
pte_load (SoftCpu *c, uint64_t gpa, unsigned size, uint8_t **hp)
{
  uint8_t *h = phys_host (c, gpa, size);
  *hp = h;
  if (!h)
    return phys_read (c, gpa, size);
  if (size == 8)
    return __atomic_load_n ((uint64_t *) h, __ATOMIC_RELAXED);
  return __atomic_load_n ((uint32_t *) h, __ATOMIC_RELAXED);
}

static void
pte_set_bits (uint8_t *h, unsigned size, uint64_t bits)
{
  if (!h)
    return;
  if (size == 8)
    __atomic_fetch_or ((uint64_t *) h, bits, __ATOMIC_RELAXED);
  else
    __atomic_fetch_or ((uint32_t *) h, (uint32_t) bits, __ATOMIC_RELAXED);
}

G_NORETURN static void
page_fault (SoftCpu *c, uint64_t lin, uint32_t err)
{
  c->st.cr2 = lin;
  cpu_raise (c, EXC_PF, err, true);
}

static TlbEntry *
fill (SoftCpu *c, uint64_t lin, uint64_t phys_page, uint32_t perm)
{
  TlbEntry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
  c->code_page = 0; /* the entry it came from may be replaced */
  e->tag = (lin >> 12) + 1;
  e->phys = phys_page;
  e->perm = perm;
  e->host = is_apic_page (c, phys_page) ? NULL : phys_host (c, phys_page, 4096);
  return e;
}

TlbEntry *
mmu_lookup (SoftCpu *c, uint64_t lin, AccessKind kind, bool user)
{
  uint32_t need = 1u << (kind * 2 + user);
  TlbEntry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
  if (e->tag == (lin >> 12) + 1 && (e->perm & need))
    return e;

  if (!c->paging)
    return fill (c, lin, lin & (c->long_mode ? ~0xfffull : 0xfffff000ull), 0x3f);

  const CpuState *s = &c->st;
  bool nxe = s->efer & EFER_NXE;
  bool wp = s->cr0 & CR0_WP;
  uint32_t err_base = (kind == ACC_WRITE ? 2 : 0) | (user ? 4 : 0)
                      | (kind == ACC_FETCH && nxe ? 16 : 0);
  uint64_t allow_w = 1, allow_u = 1, nx = 0;
  uint64_t pte = 0, page_phys;
  uint8_t *ph = NULL;
  unsigned esz;
  uint64_t large_mask = 0; /* offset bits within a large page */

  if (!(s->cr4 & CR4_PAE))
    {
      /* 32-bit paging: 2 levels of 4-byte entries, 4 MiB pages with PSE. */
      esz = 4;
      lin &= 0xffffffff;
      uint64_t pde_addr = (s->cr3 & 0xfffff000) + ((lin >> 22) & 0x3ff) * 4;
      uint8_t *dh;
      uint64_t pde = pte_load (c, pde_addr, 4, &dh);
      if (!(pde & PTE_P))
        page_fault (c, lin, err_base);
      allow_w &= pde >> 1;
      allow_u &= pde >> 2;
      if ((pde & PTE_PS) && (s->cr4 & CR4_PSE))
        {
          pte = pde;
          ph = dh;
          large_mask = 0x3ff000;
          page_phys = (pde & 0xffc00000) | ((pde & 0x1fe000) << 19);
        }
      else
        {
          if (!(pde & PTE_A))
            pte_set_bits (dh, 4, PTE_A);
          uint64_t pte_addr = (pde & 0xfffff000) + ((lin >> 12) & 0x3ff) * 4;
          pte = pte_load (c, pte_addr, 4, &ph);
          if (!(pte & PTE_P))
            page_fault (c, lin, err_base);
          allow_w &= pte >> 1;
          allow_u &= pte >> 2;
          page_phys = pte & 0xfffff000;
        }
    }
  else
    {
      esz = 8;
      int level;
      uint64_t table;
      if (c->long_mode)
        {
          level = 4;
          table = s->cr3 & PTE_ADDR;
        }
      else
        {
          /* PAE: the 4 PDPTEs (read at each walk, not cached at CR3 load). */
          lin &= 0xffffffff;
          uint8_t *h;
          uint64_t pdpte = pte_load (c, (s->cr3 & 0xffffffe0) + ((lin >> 30) & 3) * 8, 8, &h);
          if (!(pdpte & PTE_P))
            page_fault (c, lin, err_base);
          if (pdpte & 0x1e6)
            page_fault (c, lin, err_base | 1 | 8);
          level = 2;
          table = pdpte & PTE_ADDR;
        }
      for (;; level--)
        {
          unsigned shift = 12 + 9 * (level - 1);
          uint64_t addr = table + ((lin >> shift) & 0x1ff) * 8;
          uint8_t *h;
          uint64_t ent = pte_load (c, addr, 8, &h);
          if (!(ent & PTE_P))
            page_fault (c, lin, err_base);
          if ((ent & PTE_NX) && !nxe)
            page_fault (c, lin, err_base | 1 | 8);
          allow_w &= ent >> 1;
          allow_u &= ent >> 2;
          nx |= ent >> 63;
          bool leaf = level == 1 || ((ent & PTE_PS) && (level == 2 || (level == 3 && c->long_mode)));
          if (level == 4 && (ent & PTE_PS))
            page_fault (c, lin, err_base | 1 | 8);
          if (leaf)
            {
              pte = ent;
              ph = h;
              if (level > 1)
                {
                  large_mask = ((1ull << shift) - 1) & ~0xfffull;
                  if (ent & (((1ull << shift) - 1) & ~0x1fffull))
                    page_fault (c, lin, err_base | 1 | 8);
                  page_phys = ent & PTE_ADDR & ~((1ull << shift) - 1);
                }
              else
                page_phys = ent & PTE_ADDR;
              break;
            }
          if (!(ent & PTE_A))
            pte_set_bits (h, 8, PTE_A);
          table = ent & PTE_ADDR;
        }
    }

  allow_w &= 1;
  allow_u &= 1;
  bool nx_on = nx && nxe;
  bool fault = false;
  if (user && !allow_u)
    fault = true;
  else if (kind == ACC_WRITE && !allow_w && (user || wp))
    fault = true;
  else if (kind == ACC_FETCH && nx_on)
    fault = true;
  if (fault)
    page_fault (c, lin, err_base | 1);

  uint64_t set = PTE_A | (kind == ACC_WRITE ? PTE_D : 0);
  if ((pte & set) != set)
    pte_set_bits (ph, esz, set);
  bool dirty = (pte & PTE_D) || kind == ACC_WRITE;

  uint32_t perm = TLB_R_SUP;
  if (allow_u)
    perm |= TLB_R_USR;
  if (dirty && (allow_w || !wp))
    perm |= TLB_W_SUP;
  if (dirty && allow_w && allow_u)
    perm |= TLB_W_USR;
  if (!nx_on)
    perm |= TLB_X_SUP | (allow_u ? TLB_X_USR : 0);
  if ((pte & PTE_G) && (s->cr4 & CR4_PGE))
    perm |= TLB_GLOBAL;
  if (large_mask)
    c->tlb_has_large = true;
  return fill (c, lin, page_phys | (lin & large_mask), perm);
}

static inline bool
cpl_user (SoftCpu *c)
{
  return c->cpl == 3;
}

static uint64_t
read_one_page (SoftCpu *c, uint64_t lin, unsigned size, bool user)
{
  TlbEntry *e = mmu_lookup (c, lin, ACC_READ, user);
  unsigned off = lin & 0xfff;
  if (e->host)
    {
      uint64_t v = 0;
      memcpy (&v, e->host + off, size);
      return v;
    }
  return phys_read (c, e->phys + off, size);
}

static uint64_t
lin_read_mode (SoftCpu *c, uint64_t lin, unsigned size, bool user)
{
  if (!c->long_mode)
    lin &= 0xffffffff;
  if (G_LIKELY ((lin & 0xfff) + size <= 0x1000))
    return read_one_page (c, lin, size, user);
  unsigned first = 0x1000 - (lin & 0xfff);
  uint64_t lo = read_one_page (c, lin, first, user);
  uint64_t hi = read_one_page (c, lin + first, size - first, user);
  return lo | (hi << (first * 8));
}

static void
lin_write_mode (SoftCpu *c, uint64_t lin, unsigned size, uint64_t v, bool user)
{
  if (!c->long_mode)
    lin &= 0xffffffff;
  unsigned off = lin & 0xfff;
  if (G_LIKELY (off + size <= 0x1000))
    {
      TlbEntry *e = mmu_lookup (c, lin, ACC_WRITE, user);
      if (e->host)
        memcpy (e->host + off, &v, size);
      else
        phys_write (c, e->phys + off, size, v);
      return;
    }
  /* Split: translate both pages before writing any byte. */
  unsigned first = 0x1000 - off;
  TlbEntry *e1 = mmu_lookup (c, lin, ACC_WRITE, user);
  uint8_t *h1 = e1->host;
  uint64_t p1 = e1->phys;
  TlbEntry *e2 = mmu_lookup (c, lin + first, ACC_WRITE, user);
  for (unsigned i = 0; i < size; i++)
    {
      uint8_t byte = v >> (8 * i);
      if (i < first)
        {
          if (h1)
            h1[off + i] = byte;
          else
            phys_write (c, p1 + off + i, 1, byte);
        }
      else if (e2->host)
        e2->host[i - first] = byte;
      else
        phys_write (c, e2->phys + i - first, 1, byte);
    }
}

uint64_t
lin_read_slow (SoftCpu *c, uint64_t lin, unsigned size)
{
  return lin_read_mode (c, lin, size, cpl_user (c));
}

void
lin_write_slow (SoftCpu *c, uint64_t lin, unsigned size, uint64_t v)
{
  lin_write_mode (c, lin, size, v, cpl_user (c));
}

uint64_t
lin_read_sys (SoftCpu *c, uint64_t lin, unsigned size)
{
  return lin_read_mode (c, lin, size, false);
}

void
lin_write_sys (SoftCpu *c, uint64_t lin, unsigned size, uint64_t v)
{
  lin_write_mode (c, lin, size, v, false);
}

void
lin_read_buf (SoftCpu *c, uint64_t lin, void *buf, unsigned len, bool sys)
{
  uint8_t *b = buf;
  bool user = !sys && cpl_user (c);
  while (len)
    {
      unsigned n = len > 8 ? 8 : len;
      uint64_t v = lin_read_mode (c, lin, n, user);
      memcpy (b, &v, n);
      b += n;
      lin += n;
      len -= n;
    }
}

void
lin_write_buf (SoftCpu *c, uint64_t lin, const void *buf, unsigned len, bool sys)
{
  const uint8_t *b = buf;
  bool user = !sys && cpl_user (c);
  /* Probe every page first so a fault leaves memory untouched. */
  for (uint64_t p = lin & ~0xfffull; p < lin + len; p += 0x1000)
    mmu_lookup (c, p < lin ? lin : p, ACC_WRITE, user);
  while (len)
    {
      unsigned n = len > 8 ? 8 : len;
      uint64_t v = 0;
      memcpy (&v, b, n);
      lin_write_mode (c, lin, n, v, user);
      b += n;
      lin += n;
      len -= n;
    }
}

uint8_t *
lin_rmw_ptr (SoftCpu *c, uint64_t lin, unsigned size)
{
  if (!c->long_mode)
    lin &= 0xffffffff;
  if ((lin & 0xfff) + size > 0x1000)
    return NULL;
  TlbEntry *e = mmu_lookup (c, lin, ACC_WRITE, cpl_user (c));
  return e->host ? e->host + (lin & 0xfff) : NULL;
}

unsigned
lin_fetch (SoftCpu *c, uint64_t lin, uint8_t *buf, unsigned max)
{
  if (!c->long_mode)
    lin &= 0xffffffff;
  TlbEntry *e = mmu_lookup (c, lin, ACC_FETCH, cpl_user (c));
  unsigned off = lin & 0xfff;
  unsigned n = 0x1000 - off;
  if (n > max)
    n = max;
  if (e->host)
    memcpy (buf, e->host + off, n);
  else
    {
      /* Executing from MMIO: fetch bytewise. */
      for (unsigned i = 0; i < n; i++)
        buf[i] = phys_read (c, e->phys + off + i, 1);
    }
  return n;
}
