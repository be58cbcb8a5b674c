/* CPUID: advertises exactly what this CPU implements (plus the x87/MMX/SSE/
 * SSE2 baseline the SIMD unit provides), with an Intel-style topology and
 * the TSC frequency in leaf 0x15 so the guest needs no calibration. */
#include "vmm-core/cpu/cpu-internal.h"

#include <string.h>

unsigned soft_cpu_count = 1; /* set by the engine: CPUs in the machine */

static void
str4 (uint32_t *out, const char *s)
{
  memcpy (out, s, 4);
}

void
cpu_cpuid (SoftCpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
  uint32_t ncpus = soft_cpu_count ? soft_cpu_count : 1;
  uint32_t apic_id = c->index;
  uint32_t core_bits = 0;
  while ((1u << core_bits) < ncpus)
    core_bits++;
  memset (out, 0, 16);
  switch (leaf)
    {
    case 0:
      out[0] = 0x16;
      str4 (&out[1], "Genu");
      str4 (&out[3], "ineI");
      str4 (&out[2], "ntel");
      return;
    case 1:
      out[0] = 0x000306a9; /* family 6 model 0x3a stepping 9 */
      out[1] = (apic_id << 24) | (ncpus << 16) | (8 << 8);
      out[2] = (1u << 13)   /* CX16 */
               | (1u << 24); /* TSC-deadline */
      out[3] = (1u << 0)    /* FPU */
               | (1u << 3)  /* PSE */
               | (1u << 4)  /* TSC */
               | (1u << 5)  /* MSR */
               | (1u << 6)  /* PAE */
               | (1u << 8)  /* CX8 */
               | (1u << 9)  /* APIC */
               | (1u << 11) /* SEP */
               | (1u << 12) /* MTRR */
               | (1u << 13) /* PGE */
               | (1u << 15) /* CMOV */
               | (1u << 16) /* PAT */
               | (1u << 19) /* CLFLUSH */
               | (1u << 23) /* MMX */
               | (1u << 24) /* FXSR */
               | (1u << 25) /* SSE */
               | (1u << 26) /* SSE2 */
               | (ncpus > 1 ? (1u << 28) : 0); /* HTT: more than one logical CPU */
      return;
    case 2:
      out[0] = 1;
      return;
    case 4:
      if (sub == 0)
        {
          out[0] = ((ncpus - 1) << 26) | (1u << 8) | (1u << 5) | 1; /* L1 data */
          out[1] = (7u << 22) | 63;
          out[2] = 63;
        }
      return;
    case 0xb:
      out[3] = apic_id;
      if (sub == 0)
        {
          out[0] = 0;
          out[1] = 1;
          out[2] = (1u << 8) | sub; /* SMT level */
        }
      else if (sub == 1)
        {
          out[0] = core_bits;
          out[1] = ncpus;
          out[2] = (2u << 8) | sub; /* core level */
        }
      else
        out[2] = sub;
      return;
    case 0x15:
      out[0] = 1;
      out[1] = (uint32_t) (c->tsc_hz / 1000000);
      out[2] = 1000000;
      return;
    case 0x16:
      out[0] = (uint32_t) (c->tsc_hz / 1000000);
      out[1] = out[0];
      out[2] = 100;
      return;
    case 0x80000000:
      out[0] = 0x80000008;
      return;
    case 0x80000001:
      out[2] = 1u << 0; /* LAHF/SAHF in 64-bit mode */
      out[3] = (1u << 11)   /* SYSCALL */
               | (1u << 20) /* NX */
               | (1u << 26) /* 1 GiB pages */
               | (1u << 27) /* RDTSCP */
               | (1u << 29); /* LM */
      return;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:
      {
        static const char brand[48] = "Vireo software x86-64 CPU";
        memcpy (out, brand + (leaf - 0x80000002) * 16, 16);
        return;
      }
    case 0x80000007:
      out[3] = 1u << 8; /* invariant TSC */
      return;
    case 0x80000008:
      out[0] = 0x3028; /* 48-bit linear, 40-bit physical */
      return;
    default:
      return;
    }
}
