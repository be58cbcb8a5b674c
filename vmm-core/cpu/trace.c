/* Trace mode (VIREO_CPU_TRACE=/path): the register state before every
 * instruction, in the field format of QEMU's `-d cpu` log for x86-64, so the
 * two logs can be compared line by line (tests/cpu/trace-compare.py):
 *
 *   RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx
 *   RSI=... RDI=... RBP=... RSP=...
 *   R8 =... R9 =... R10=... R11=...
 *   R12=... R13=... R14=... R15=...
 *   RIP=%016llx RFL=%08x [DOSZAPC] CPL=%d II=0 A20=1 SMM=0 HLT=0
 *   ES =sel base(16) limit(8) flags(8)      (flags = descriptor bits 8-23 of dword 1)
 *   CS/SS/DS/FS/GS likewise, then LDT=, TR =, GDT=     base limit, IDT=
 *   CR0=%08x CR2=%016llx CR3=%016llx CR4=%08x
 *   EFER=%016llx
 * followed by an empty line. One file per vCPU: the path gets ".N" for vCPU N > 0. */
#include "vmm-core/cpu/cpu-internal.h"

#include <stdio.h>
#include <stdlib.h>

void
trace_open_from_env (SoftCpu *c)
{
  const char *path = g_getenv ("VIREO_CPU_TRACE");
  if (!path || !*path)
    return;
  g_autofree char *p = c->index ? g_strdup_printf ("%s.%u", path, c->index) : g_strdup (path);
  c->trace = fopen (p, "w");
  if (c->trace)
    setvbuf (c->trace, NULL, _IOLBF, 0);
}

static unsigned
seg_flags (const CpuSegment *s)
{
  return ((unsigned) s->type << 8) | ((unsigned) s->s << 12) | ((unsigned) s->dpl << 13)
         | ((unsigned) s->present << 15) | ((unsigned) s->avl << 20) | ((unsigned) s->l << 21)
         | ((unsigned) s->db << 22) | ((unsigned) s->g << 23);
}

static void
seg_line (FILE *f, const char *name, const CpuSegment *s)
{
  fprintf (f, "%s=%04x %016llx %08x %08x\n", name, s->selector, (unsigned long long) s->base,
           s->limit, s->unusable ? 0 : seg_flags (s));
}

void
trace_insn (SoftCpu *c)
{
  FILE *f = c->trace;
  const CpuState *s = &c->st;
  const uint64_t *r = s->regs;
  static const char *names[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                    "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15" };
  static const int order[16] = { 0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15 };
  for (int i = 0; i < 16; i++)
    fprintf (f, "%s=%016llx%c", names[order[i]], (unsigned long long) r[order[i]],
             (i & 3) == 3 ? '\n' : ' ');
  uint64_t fl = s->rflags;
  fprintf (f, "RIP=%016llx RFL=%08llx [%c%c%c%c%c%c%c] CPL=%u II=%u A20=1 SMM=0 HLT=0\n",
           (unsigned long long) s->rip, (unsigned long long) fl,
           fl & FL_DF ? 'D' : '-', fl & FL_OF ? 'O' : '-', fl & FL_SF ? 'S' : '-',
           fl & FL_ZF ? 'Z' : '-', fl & FL_AF ? 'A' : '-', fl & FL_PF ? 'P' : '-',
           fl & FL_CF ? 'C' : '-', c->cpl, s->interrupt_shadow);
  static const char *segs[6] = { "ES ", "CS ", "SS ", "DS ", "FS ", "GS " };
  for (int i = 0; i < 6; i++)
    seg_line (f, segs[i], &s->seg[i]);
  seg_line (f, "LDT", &s->ldt);
  seg_line (f, "TR ", &s->tr);
  fprintf (f, "GDT=     %016llx %08x\n", (unsigned long long) s->gdt.base, s->gdt.limit);
  fprintf (f, "IDT=     %016llx %08x\n", (unsigned long long) s->idt.base, s->idt.limit);
  fprintf (f, "CR0=%08llx CR2=%016llx CR3=%016llx CR4=%08llx\n", (unsigned long long) s->cr0,
           (unsigned long long) s->cr2, (unsigned long long) s->cr3, (unsigned long long) s->cr4);
  fprintf (f, "EFER=%016llx\n\n", (unsigned long long) s->efer);
}
