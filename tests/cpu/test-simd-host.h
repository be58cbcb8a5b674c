/* A fake SimdHost for the SIMD unit's tests: general registers, RFLAGS and
 * a window of guest memory backed by a host buffer; any access outside the
 * window "faults". */
#pragma once

#include <string.h>
#include <glib.h>

#include "vmm-core/cpu/simd.h"

typedef struct FakeCpu {
  uint64_t gpr[16];
  uint64_t rflags;
  uint8_t *mem;
  uint64_t mem_base;
  uint64_t mem_size;
  unsigned faults;
} FakeCpu;

static inline bool
fake_in_window (FakeCpu *c, uint64_t addr, unsigned len)
{
  return addr >= c->mem_base && len <= c->mem_size && addr - c->mem_base <= c->mem_size - len;
}

static inline bool
fake_read (void *cpu, uint64_t addr, void *buf, unsigned len)
{
  FakeCpu *c = cpu;
  if (!fake_in_window (c, addr, len))
    {
      c->faults++;
      return false;
    }
  memcpy (buf, c->mem + (addr - c->mem_base), len);
  return true;
}

static inline bool
fake_write (void *cpu, uint64_t addr, const void *buf, unsigned len)
{
  FakeCpu *c = cpu;
  if (!fake_in_window (c, addr, len))
    {
      c->faults++;
      return false;
    }
  memcpy (c->mem + (addr - c->mem_base), buf, len);
  return true;
}

static inline uint64_t
fake_get_gpr (void *cpu, unsigned n)
{
  return ((FakeCpu *) cpu)->gpr[n & 15];
}

static inline void
fake_set_gpr (void *cpu, unsigned n, uint64_t v, unsigned size)
{
  FakeCpu *c = cpu;
  uint64_t *r = &c->gpr[n & 15];
  switch (size)
    {
    case 1: *r = (*r & ~UINT64_C (0xff)) | (v & 0xff); break;
    case 2: *r = (*r & ~UINT64_C (0xffff)) | (v & 0xffff); break;
    case 4: *r = (uint32_t) v; break;
    default: *r = v; break;
    }
}

static inline uint64_t
fake_get_rflags (void *cpu)
{
  return ((FakeCpu *) cpu)->rflags;
}

static inline void
fake_set_rflags (void *cpu, uint64_t v)
{
  ((FakeCpu *) cpu)->rflags = v;
}

static inline SimdHost
fake_host (FakeCpu *c)
{
  return (SimdHost){ c, fake_read, fake_write, fake_get_gpr, fake_set_gpr, fake_get_rflags,
                     fake_set_rflags };
}
