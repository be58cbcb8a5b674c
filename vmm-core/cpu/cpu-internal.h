/* The software x86-64 CPU: state, decoded instructions and the interfaces
 * between decoder, executors, MMU and exception delivery.
 *
 * Execution model: decode one instruction into a compact DecodedInsn (which
 * names its handler), then run the handler. Decode never touches
 * architectural state, so a per-page cache of DecodedInsn can sit between
 * the two. Faults inside an instruction longjmp back to the run loop
 * (cpu_raise), which resets RIP to the instruction's start: handlers
 * therefore commit register changes only after every access that can fault. */
#pragma once

#include <setjmp.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/cpu-state.h"
#include "vmm-core/cpu/fx-state.h"

typedef struct SoftCpu SoftCpu;
typedef struct DecodedInsn DecodedInsn;
typedef void (*InsnHandler) (SoftCpu *c, const DecodedInsn *d);

/* Exception vectors. */
enum {
  EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
  EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
  EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* RFLAGS bits. */
enum {
  FL_CF = 1u << 0, FL_PF = 1u << 2, FL_AF = 1u << 4, FL_ZF = 1u << 6,
  FL_SF = 1u << 7, FL_TF = 1u << 8, FL_IF = 1u << 9, FL_DF = 1u << 10,
  FL_OF = 1u << 11, FL_IOPL = 3u << 12, FL_NT = 1u << 14, FL_RF = 1u << 16,
  FL_VM = 1u << 17, FL_AC = 1u << 18, FL_VIF = 1u << 19, FL_VIP = 1u << 20,
  FL_ID = 1u << 21,
};
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

enum {
  CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
  CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
  CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
};
enum {
  CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
  CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
  CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10,
  CR4_UMIP = 1u << 11,
};
enum { EFER_SCE = 1u << 0, EFER_LME = 1u << 8, EFER_LMA = 1u << 10, EFER_NXE = 1u << 11 };

/* Memory access kinds (index into TLB permission bits). */
typedef enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 } AccessKind;

/* DecodedInsn.flags */
enum {
  DI_MODRM = 1u << 0,
  DI_MEM = 1u << 1,     /* ModRM names memory */
  DI_RIPREL = 1u << 2,
  DI_LOCK = 1u << 3,
  DI_REP = 1u << 4,     /* F3 */
  DI_REPNE = 1u << 5,   /* F2 */
  DI_REX = 1u << 6,     /* any REX prefix */
  DI_REXW = 1u << 7,
  DI_SEGOVR = 1u << 8,
  DI_OPSIZE = 1u << 9,  /* 66 present */
  DI_ADSIZE = 1u << 10, /* 67 present */
};

#define DI_NO_REG 0xff

struct DecodedInsn {
  InsnHandler fn;
  uint16_t flags;
  uint8_t len;
  uint8_t map;     /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A */
  uint8_t opcode;
  uint8_t opsize;  /* 2, 4, 8 */
  uint8_t adsize;  /* 2, 4, 8 */
  uint8_t seg;     /* segment of the memory operand */
  uint8_t mod, reg, rm; /* reg/rm include REX.R/REX.B */
  uint8_t base, index, scale; /* DI_NO_REG when absent */
  uint8_t simd_prefix;
  int32_t disp;
  uint64_t imm;
  uint64_t imm2;   /* ENTER level, far pointer selector */
};

/* Direct-mapped TLB: a hit is tag compare + permission bit + add. */
#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
enum {
  TLB_R_SUP = 1u << 0, TLB_R_USR = 1u << 1, TLB_W_SUP = 1u << 2, TLB_W_USR = 1u << 3,
  TLB_X_SUP = 1u << 4, TLB_X_USR = 1u << 5, TLB_GLOBAL = 1u << 6,
};
typedef struct TlbEntry {
  uint64_t tag;      /* linear page number + 1 (0 = invalid) */
  uint8_t *host;     /* host address of the page, NULL for MMIO */
  uint64_t phys;     /* guest-physical page address */
  uint32_t perm;
} TlbEntry;

/* Decoded-instruction cache, direct-mapped by linear RIP. An entry is used
 * only if the code bytes in memory still equal the cached ones, so
 * self-modifying code, other vCPUs and DMA need no invalidation. */
#define DCACHE_BITS 12
#define DCACHE_SIZE (1u << DCACHE_BITS)
typedef struct DecodeCacheEntry {
  uint64_t lin;
  uint32_t mode;      /* decode mode key; 0 = empty */
  uint8_t bytes[16];
  DecodedInsn d;
} DecodeCacheEntry;

typedef struct MemSlot {
  uint64_t gpa, size;
  uint8_t *host;
} MemSlot;
#define SOFT_MAX_SLOTS 16
/* Guest-physical memory map, shared by the vCPUs of one engine. A vCPU
 * flushes its TLB when the generation moves. */
typedef struct SoftMem {
  MemSlot slots[SOFT_MAX_SLOTS];
  unsigned nslots;
  int generation; /* atomic */
} SoftMem;

/* Host services (the engine glue fills them; the sandbox leaves most NULL). */
typedef struct SoftCpuHooks {
  void *opaque;
  void (*pio) (void *opaque, uint16_t port, unsigned size, bool is_write, void *data);
  void (*mmio) (void *opaque, uint64_t gpa, unsigned size, bool is_write, void *data);
  /* The vCPU's own LAPIC page (NULL = none: goes to mmio). */
  bool (*apic_access) (SoftCpu *c, uint64_t gpa, unsigned size, bool is_write, uint64_t *data);
  /* MSRs owned elsewhere (APIC base, x2APIC, TSC deadline): true if handled,
   * *ok = false for #GP. */
  bool (*msr) (SoftCpu *c, uint32_t msr, bool is_write, uint64_t *value, bool *ok);
  uint64_t (*get_cr8) (SoftCpu *c);
  void (*set_cr8) (SoftCpu *c, uint64_t v);
  /* Guest nanoseconds (virtual clock) for the TSC; NULL = host monotonic. */
  int64_t (*now_ns) (SoftCpu *c);
} SoftCpuHooks;

typedef enum {
  SOFT_STOP_NONE = 0,
  SOFT_STOP_HLT,
  SOFT_STOP_SHUTDOWN,
  SOFT_STOP_EXCEPTION, /* sandbox: exception raised, not delivered */
  SOFT_STOP_KICK,      /* the engine asked the loop to return */
} SoftStop;

struct SoftCpu {
  CpuState st;            /* architectural state (CpuState layout) */
  SoftCpuHooks hooks;
  unsigned index;

  /* Derived mode, refreshed by cpu_update_mode(). */
  bool long_mode;         /* EFER.LMA */
  bool mode64;            /* LMA && CS.L */
  bool pe, vm86, paging;
  uint8_t cpl;
  uint8_t code_size;      /* 2, 4, 8: default operand size */
  uint8_t stack_size;     /* 2, 4, 8 */

  /* Physical memory. */
  SoftMem *mem;
  int mem_gen;
  bool tlb_has_large;     /* a large page is cached: INVLPG flushes all */

  TlbEntry tlb[TLB_SIZE];
  DecodeCacheEntry *dcache; /* DCACHE_SIZE entries */
  /* The page instructions are fetched from (saves a TLB probe per insn);
   * reset whenever the TLB or CPL changes. */
  uint64_t code_page;       /* linear page | 1, 0 = none */
  uint8_t *code_host;

  /* Current instruction. */
  uint64_t insn_rip;
  uint64_t next_rip;
  uint64_t budget;        /* instructions left in this cpu_run */
  const DecodedInsn *cur;
  uint64_t old_rsp;       /* restored when an instruction faults */

  /* Exceptions. */
  jmp_buf jb;
  bool jb_valid;
  int exc_vec;            /* vector being raised */
  uint32_t exc_err;
  bool exc_has_err;
  int delivering;         /* vector being delivered, -1 when none (for #DF) */
  bool sandbox;           /* raise returns to the caller instead of delivering */
  SoftStop stop;

  /* Interrupts: set by other threads (irqchip kick), read between insns. */
  int irq_flag;           /* atomic */
  bool (*irq_poll) (SoftCpu *c); /* engine: deliver pending events, true if state changed */

  /* TSC: guest TSC = (ns - tsc_ns_base) * tsc_khz / 1e6 + tsc_offset */
  uint64_t tsc_hz;
  int64_t tsc_offset;

  /* Trace mode. */
  FILE *trace;
  uint64_t icount;
};

static inline TlbEntry *
tlb_probe (SoftCpu *c, uint64_t lin, AccessKind kind, bool user)
{
  TlbEntry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
  if (G_LIKELY (e->tag == (lin >> 12) + 1 && (e->perm & (1u << (kind * 2 + user)))))
    return e;
  return NULL;
}

static inline FxState *
cpu_fx (SoftCpu *c)
{
  return (FxState *) c->st.fxsave;
}

/* ---- cpu-core.c: reset, mode, registers, flags, run loop ---- */
void cpu_init (SoftCpu *c);
void cpu_update_mode (SoftCpu *c);
/* Runs up to `budget` instructions; returns why it stopped (NONE = budget). */
SoftStop cpu_run (SoftCpu *c, uint64_t budget);
/* One instruction (used by the sandbox and the run loop). */
void cpu_step_one (SoftCpu *c);

static inline uint64_t
sz_mask (unsigned size)
{
  return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}
static inline int64_t
sext (uint64_t v, unsigned size)
{
  switch (size)
    {
    case 1: return (int8_t) v;
    case 2: return (int16_t) v;
    case 4: return (int32_t) v;
    default: return (int64_t) v;
    }
}

/* flags.c */
extern const uint8_t parity_table[256];
static inline uint64_t
flags_szp (uint64_t res, unsigned size)
{
  uint64_t f = 0;
  res &= sz_mask (size);
  if (res == 0)
    f |= FL_ZF;
  if (res >> (size * 8 - 1))
    f |= FL_SF;
  if (parity_table[res & 0xff])
    f |= FL_PF;
  return f;
}

static inline uint64_t
flags_logic (uint64_t res, unsigned size)
{
  return flags_szp (res, size);
}

static inline uint64_t
flags_add (uint64_t a, uint64_t b, uint64_t cin, uint64_t res, unsigned size)
{
  uint64_t m = sz_mask (size), top = 1ull << (size * 8 - 1);
  a &= m;
  b &= m;
  res &= m;
  uint64_t f = flags_szp (res, size);
  if (res < a || (cin && res == a))
    f |= FL_CF;
  if ((a ^ b ^ res) & 0x10)
    f |= FL_AF;
  if ((~(a ^ b) & (a ^ res)) & top)
    f |= FL_OF;
  return f;
}

static inline uint64_t
flags_sub (uint64_t a, uint64_t b, uint64_t bin, uint64_t res, unsigned size)
{
  uint64_t m = sz_mask (size), top = 1ull << (size * 8 - 1);
  a &= m;
  b &= m;
  res &= m;
  uint64_t f = flags_szp (res, size);
  if (a < b || (bin && a == b))
    f |= FL_CF;
  if ((a ^ b ^ res) & 0x10)
    f |= FL_AF;
  if (((a ^ b) & (a ^ res)) & top)
    f |= FL_OF;
  return f;
}
static inline void
cpu_set_arith (SoftCpu *c, uint64_t f)
{
  c->st.rflags = (c->st.rflags & ~(uint64_t) FL_ARITH) | f;
}
bool cpu_cond (SoftCpu *c, unsigned cc);
/* Write RFLAGS honouring privilege (POPF/IRET rules) with `mask` of bits allowed. */
void cpu_write_flags (SoftCpu *c, uint64_t v, uint64_t mask);

/* ---- mmu.c ---- */
void mmu_flush (SoftCpu *c, bool include_global);
void mmu_invlpg (SoftCpu *c, uint64_t lin);
/* Translate a linear address for `kind` at privilege `user`; raises #PF. */
TlbEntry *mmu_lookup (SoftCpu *c, uint64_t lin, AccessKind kind, bool user);
uint8_t *phys_host (SoftCpu *c, uint64_t gpa, uint64_t len);
uint64_t phys_read (SoftCpu *c, uint64_t gpa, unsigned size);
void phys_write (SoftCpu *c, uint64_t gpa, unsigned size, uint64_t v);
/* Linear memory at CPL (or supervisor for implicit system accesses). */
uint64_t lin_read_slow (SoftCpu *c, uint64_t lin, unsigned size);
void lin_write_slow (SoftCpu *c, uint64_t lin, unsigned size, uint64_t v);
uint64_t lin_read_sys (SoftCpu *c, uint64_t lin, unsigned size);
void lin_write_sys (SoftCpu *c, uint64_t lin, unsigned size, uint64_t v);
void lin_read_buf (SoftCpu *c, uint64_t lin, void *buf, unsigned len, bool sys);
void lin_write_buf (SoftCpu *c, uint64_t lin, const void *buf, unsigned len, bool sys);
/* Host pointer for an atomic read-modify-write, or NULL (MMIO, split). */
uint8_t *lin_rmw_ptr (SoftCpu *c, uint64_t lin, unsigned size);
/* Instruction fetch: copies up to `max` bytes at lin into buf, stopping at a
 * page boundary (returns count, 0 → raised). */
unsigned lin_fetch (SoftCpu *c, uint64_t lin, uint8_t *buf, unsigned max);

/* ---- segment.c ---- */
/* Segment-relative offset → linear, with limit/canonical checks. */
uint64_t seg_lin_slow (SoftCpu *c, unsigned seg, uint64_t off, unsigned size, AccessKind kind);
bool canonical (uint64_t a);
static inline uint64_t
seg_lin (SoftCpu *c, unsigned seg, uint64_t off, unsigned size, AccessKind kind)
{
  if (G_LIKELY (c->mode64))
    {
      uint64_t lin = off + (seg >= CPU_SEG_FS ? c->st.seg[seg].base : 0);
      if (G_LIKELY ((uint64_t) ((int64_t) (lin << 16) >> 16) == lin
                    && (uint64_t) ((int64_t) ((lin + size - 1) << 16) >> 16) == lin + size - 1))
        return lin;
    }
  return seg_lin_slow (c, seg, off, size, kind);
}
/* MOV/POP Sreg, LDS...: loads with all protected-mode checks. */
void seg_load (SoftCpu *c, unsigned seg, uint16_t sel);
void seg_load_real (SoftCpu *c, unsigned seg, uint16_t sel);
/* Reads the 8 (or 16 for system descriptors in long mode) descriptor bytes. */
bool desc_fetch (SoftCpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi, bool need_hi);
void desc_to_seg (CpuSegment *s, uint16_t sel, uint64_t lo, uint64_t hi);
void desc_set_accessed (SoftCpu *c, uint16_t sel, uint64_t lo);
bool canonical (uint64_t a);
/* Stack. */
void cpu_push (SoftCpu *c, unsigned size, uint64_t v);
uint64_t cpu_pop (SoftCpu *c, unsigned size);
uint64_t stack_read (SoftCpu *c, uint64_t rsp_off, unsigned size);
void stack_write (SoftCpu *c, uint64_t rsp_off, unsigned size, uint64_t v);
uint64_t sp_mask (SoftCpu *c);

/* ---- exception.c ---- */
G_NORETURN void cpu_raise (SoftCpu *c, int vec, uint32_t err, bool has_err);
G_NORETURN void cpu_raise_gp (SoftCpu *c, uint32_t err);
G_NORETURN void cpu_raise_ud (SoftCpu *c);
/* Deliver an exception or interrupt (soft = INT n). */
void cpu_deliver (SoftCpu *c, int vec, uint32_t err, bool has_err, bool soft, uint64_t ret_rip);
void cpu_handle_exception (SoftCpu *c);
void cpu_iret (SoftCpu *c, unsigned opsize);
void cpu_far_jump (SoftCpu *c, uint16_t sel, uint64_t off, bool call, unsigned opsize);
void cpu_far_ret (SoftCpu *c, unsigned opsize, uint16_t pop_extra);
/* Logs once (rate-limited) and raises #UD. */
G_NORETURN void cpu_unimplemented (SoftCpu *c);

/* ---- decode.c ---- */
/* Decodes the instruction at c->st.rip; raises on fetch fault / too long. */
void cpu_decode (SoftCpu *c, DecodedInsn *d);

/* ---- msr.c / cpuid.c ---- */
bool cpu_rdmsr (SoftCpu *c, uint32_t msr, uint64_t *v);
bool cpu_wrmsr (SoftCpu *c, uint32_t msr, uint64_t v);
void cpu_cpuid (SoftCpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
uint64_t cpu_rdtsc (SoftCpu *c);
void cpu_set_tsc (SoftCpu *c, uint64_t tsc);

/* ---- control registers (exec-system.c) ---- */
void cpu_write_cr0 (SoftCpu *c, uint64_t v);
void cpu_write_cr4 (SoftCpu *c, uint64_t v);
void cpu_write_cr3 (SoftCpu *c, uint64_t v);

/* ---- trace.c ---- */
void trace_open_from_env (SoftCpu *c);
void trace_insn (SoftCpu *c);

/* Handlers (exec-*.c), named in decode.c's tables. */
#define H(name) void name (SoftCpu *c, const DecodedInsn *d)
H (op_alu);       H (op_alu_grp1);  H (op_test);     H (op_incdec);
H (op_grp3);      H (op_grp4);      H (op_grp5);
H (op_shift_grp2); H (op_shld);     H (op_shrd);
H (op_imul2);     H (op_imul3);
H (op_bt);        H (op_bt_grp8);   H (op_bsf);      H (op_bsr);
H (op_bswap);     H (op_mov);       H (op_mov_imm);  H (op_mov_rm_imm);
H (op_mov_moffs); H (op_movzx);     H (op_movsx);    H (op_movsxd);
H (op_lea);       H (op_xchg);      H (op_xchg_ax);  H (op_xadd);
H (op_cmpxchg);   H (op_grp9);      H (op_cbw);      H (op_cwd);
H (op_setcc);     H (op_cmov);      H (op_lahf);     H (op_sahf);
H (op_flagop);    H (op_nop);       H (op_xlat);     H (op_daa_das);
H (op_aaa_aas);   H (op_aam);       H (op_aad);      H (op_salc);
H (op_push_reg);  H (op_pop_reg);   H (op_push_imm); H (op_pop_rm);
H (op_push_seg);  H (op_pop_seg);   H (op_pusha);    H (op_popa);
H (op_pushf);     H (op_popf);      H (op_enter);    H (op_leave);
H (op_jcc);       H (op_jmp);       H (op_call);     H (op_ret);
H (op_retf);      H (op_jmpf);      H (op_callf);    H (op_loop);
H (op_jcxz);      H (op_int);       H (op_int3);     H (op_into);
H (op_int1);      H (op_iret);      H (op_hlt);
H (op_movs);      H (op_cmps);      H (op_stos);     H (op_lods);
H (op_scas);      H (op_ins);       H (op_outs);     H (op_in);
H (op_out);       H (op_mov_sreg_to); H (op_mov_to_sreg); H (op_lxs);
H (op_grp6);      H (op_grp7);      H (op_lar_lsl);  H (op_clts);
H (op_mov_cr);    H (op_mov_dr);    H (op_rdmsr);    H (op_wrmsr);
H (op_rdtsc);     H (op_rdpmc);     H (op_cpuid);    H (op_syscall);
H (op_sysret);    H (op_sysenter);  H (op_sysexit);  H (op_invd);
H (op_grp15);     H (op_ud);        H (op_nop_modrm); H (op_simd);
H (op_wait);      H (op_bound);     H (op_arpl);
#undef H

/* Read-modify-write of the r/m operand (exec-alu.c). fn computes the new
 * value and the arithmetic flags; with LOCK on RAM it runs in a CAS loop so
 * the update is atomic across vCPU threads. Flags in flag_mask are committed
 * after the write. Returns the old value. */
typedef uint64_t (*RmwFn) (SoftCpu *c, uint64_t old, uint64_t src, unsigned size,
                           uint64_t *flags);
uint64_t op_rmw (SoftCpu *c, const DecodedInsn *d, unsigned size, RmwFn fn, uint64_t src,
                 uint64_t flag_mask);
/* Near branch: checks canonical form (64-bit) or the CS limit. */
void cpu_jump_near (SoftCpu *c, uint64_t target, unsigned opsize);
/* I/O permission (IOPL, TSS bitmap); raises #GP(0). */
void cpu_check_io (SoftCpu *c, uint16_t port, unsigned size);
uint64_t cpu_pio_in (SoftCpu *c, uint16_t port, unsigned size);
void cpu_pio_out (SoftCpu *c, uint16_t port, unsigned size, uint64_t v);

/* cpu-sandbox.c: decoder length at RIP for tests, or -(vector + 1). */
typedef struct CpuSandbox CpuSandbox;
int cpu_sandbox_insn_length (CpuSandbox *sb);

/* Fast paths: TLB hit on a RAM page, access within the page. */
static inline uint64_t
host_load (const uint8_t *p, unsigned size)
{
  switch (size)
    {
    case 1: return *p;
    case 2: { uint16_t v; __builtin_memcpy (&v, p, 2); return v; }
    case 4: { uint32_t v; __builtin_memcpy (&v, p, 4); return v; }
    default: { uint64_t v; __builtin_memcpy (&v, p, 8); return v; }
    }
}

static inline void
host_store (uint8_t *p, unsigned size, uint64_t v)
{
  switch (size)
    {
    case 1: *p = v; break;
    case 2: { uint16_t x = v; __builtin_memcpy (p, &x, 2); break; }
    case 4: { uint32_t x = v; __builtin_memcpy (p, &x, 4); break; }
    default: __builtin_memcpy (p, &v, 8); break;
    }
}

static inline uint64_t
lin_read (SoftCpu *c, uint64_t lin, unsigned size)
{
  if (c->long_mode || lin <= 0xffffffffull)
    {
      TlbEntry *e = tlb_probe (c, lin, ACC_READ, c->cpl == 3);
      if (G_LIKELY (e && e->host && (lin & 0xfff) + size <= 0x1000))
        return host_load (e->host + (lin & 0xfff), size);
    }
  return lin_read_slow (c, lin, size);
}

static inline void
lin_write (SoftCpu *c, uint64_t lin, unsigned size, uint64_t v)
{
  if (c->long_mode || lin <= 0xffffffffull)
    {
      TlbEntry *e = tlb_probe (c, lin, ACC_WRITE, c->cpl == 3);
      if (G_LIKELY (e && e->host && (lin & 0xfff) + size <= 0x1000))
        {
          host_store (e->host + (lin & 0xfff), size, v);
          return;
        }
    }
  lin_write_slow (c, lin, size, v);
}

/* Segment-relative access: 64-bit mode needs no limit checks, only the
 * FS/GS base and a canonical check. */
static inline uint64_t
seg_read (SoftCpu *c, unsigned seg, uint64_t off, unsigned size)
{
  return lin_read (c, seg_lin (c, seg, off, size, ACC_READ), size);
}

static inline void
seg_write (SoftCpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t v)
{
  lin_write (c, seg_lin (c, seg, off, size, ACC_WRITE), size, v);
}
/* Runs with exceptions delivered through the IDT (0 stop_rip, 1 HLT, 2 shutdown, 3 budget). */
int cpu_sandbox_run_system (CpuSandbox *sb, unsigned max, uint64_t stop_rip);

/* ---- register and operand access (hot: inline) ---- */
static inline uint64_t
cpu_get_reg (SoftCpu *c, unsigned n, unsigned size, bool rex)
{
  if (size == 1 && !rex && n >= 4 && n < 8)
    return (c->st.regs[n - 4] >> 8) & 0xff;
  return c->st.regs[n] & sz_mask (size);
}

static inline void
cpu_set_reg (SoftCpu *c, unsigned n, unsigned size, bool rex, uint64_t v)
{
  uint64_t *r;
  switch (size)
    {
    case 1:
      if (!rex && n >= 4 && n < 8)
        {
          r = &c->st.regs[n - 4];
          *r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
        }
      else
        {
          r = &c->st.regs[n];
          *r = (*r & ~0xffull) | (v & 0xff);
        }
      break;
    case 2:
      r = &c->st.regs[n];
      *r = (*r & ~0xffffull) | (v & 0xffff);
      break;
    case 4:
      c->st.regs[n] = v & 0xffffffff;
      break;
    default:
      c->st.regs[n] = v;
      break;
    }
}

/* GPR access for operands of the current instruction (byte regs honour REX). */
static inline uint64_t
op_reg (SoftCpu *c, const DecodedInsn *d, unsigned n, unsigned size)
{
  return cpu_get_reg (c, n, size, d->flags & DI_REX);
}

static inline void
op_set_reg (SoftCpu *c, const DecodedInsn *d, unsigned n, unsigned size, uint64_t v)
{
  cpu_set_reg (c, n, size, d->flags & DI_REX, v);
}

/* Effective address offset (before the segment base). */
static inline uint64_t
op_ea (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t a = (uint64_t) (int64_t) d->disp;
  if (d->flags & DI_RIPREL)
    a += c->next_rip;
  if (d->base != DI_NO_REG)
    a += c->st.regs[d->base];
  if (d->index != DI_NO_REG)
    a += c->st.regs[d->index] << d->scale;
  return a & sz_mask (d->adsize);
}

/* The ModRM r/m operand. */
static inline uint64_t
op_rm (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  if (!(d->flags & DI_MEM))
    return op_reg (c, d, d->rm, size);
  return seg_read (c, d->seg, op_ea (c, d), size);
}

static inline void
op_set_rm (SoftCpu *c, const DecodedInsn *d, unsigned size, uint64_t v)
{
  if (!(d->flags & DI_MEM))
    op_set_reg (c, d, d->rm, size, v);
  else
    seg_write (c, d->seg, op_ea (c, d), size, v);
}
