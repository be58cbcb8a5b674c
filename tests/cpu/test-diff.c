/* Differential tests of the whole software CPU (decoder, execution, flags,
 * exceptions) against the host CPU. Every case is one instruction, run
 * natively through diff-trampoline.S and in the engine's sandbox
 * (cpu-sandbox.h) from identical registers and memory; then all general
 * registers (but RSP), the arithmetic flags the SDM defines for that
 * instruction and operand values, XMM/MXCSR/MMX, the data page, and the
 * fault class (#DE, #GP, #UD, #XM) must agree, and the engine's RIP must
 * be just past the instruction. Classes: integer ALU, shifts/rotates, bit
 * operations, string operations, multiply/divide, flags, SSE, SSE2 (+MMX),
 * and x87 (FPU state compared through the FXSAVE image).
 * A failing case prints its bytes, inputs and both outputs. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "diff-sse-cases.h"
#include "diff-x87-cases.h"
#include "vmm-core/cpu/cpu-sandbox.h"
#include "vmm-core/log.h"

#define SANDBOX_MEM (4u << 20)
#define FL_ALL 0x8d5u /* OF SF ZF AF PF CF */
#define FL_DF 0x400u

typedef struct IntCase {
  uint8_t bytes[16];
  unsigned len;
  DiffRegs regs;
  uint32_t flag_mask; /* flags to compare */
  bool skip_gprs_if_zero_src; /* BSF/BSR: destination undefined for 0 */
} IntCase;

typedef struct Stats {
  unsigned total, failed, faulted;
} Stats;

static CpuSandbox *sb;
static uint8_t init_page[DIFF_DATA_SIZE];
static GRand *rng;

static uint64_t
rand64 (void)
{
  return (uint64_t) g_rand_int (rng) << 32 | g_rand_int (rng);
}

static unsigned
rnd (unsigned n)
{
  return g_rand_int_range (rng, 0, n);
}

/* An operand value of the given size, biased to edges. */
static uint64_t
edge_value (unsigned size)
{
  uint64_t bits = size * 8, mask = bits == 64 ? ~UINT64_C (0) : (UINT64_C (1) << bits) - 1;
  uint64_t sign = UINT64_C (1) << (bits - 1);
  switch (rnd (12))
    {
    case 0: return 0;
    case 1: return 1;
    case 2: return mask;           /* -1 */
    case 3: return sign;           /* min */
    case 4: return sign - 1;       /* max */
    case 5: return sign + 1;
    case 6: return rnd (2) ? 2 : mask - 1;
    case 7: return rnd (bits + 2); /* shift-count-like */
    default: return rand64 () & (rnd (4) ? mask : ~UINT64_C (0));
    }
}

static void
random_regs (DiffRegs *r)
{
  memset (r, 0, sizeof *r);
  for (unsigned i = 0; i < 16; i++)
    r->gpr[i] = rnd (3) ? rand64 () : edge_value (1u << rnd (4));
  r->rflags = 0x202 | (g_rand_int (rng) & FL_ALL);
  r->mxcsr = 0x1f80;
}

/* Pick a general register: never RSP (nor SPL with REX); byte registers
 * 4-7 without REX are AH..BH, which are fine. */
static unsigned
pick_gpr (unsigned size, bool rex)
{
  unsigned n;
  do
    n = rnd (size == 1 && !rex ? 8 : 16);
  while (n == 4 && (size != 1 || rex));
  return n;
}

typedef struct Enc {
  unsigned size;      /* operand size 1/2/4/8 */
  bool rex;           /* force a REX prefix (byte registers SPL.. vs AH..) */
  uint8_t rep;        /* 0, 0xf2, 0xf3 */
  const uint8_t *op;  /* opcode bytes */
  unsigned oplen;
  int reg;            /* ModRM.reg (register number or /digit), -1: no ModRM */
  int rm;             /* register number for mod 3 */
  bool mem;           /* [rbx] instead of rm */
  unsigned imm_size;
  uint64_t imm;
} Enc;

static void
encode (IntCase *c, const Enc *e)
{
  uint8_t *b = c->bytes, rex = 0x40;
  if (e->size == 2)
    *b++ = 0x66;
  if (e->rep)
    *b++ = e->rep;
  if (e->size == 8)
    rex |= 8;
  if (e->reg >= 8)
    rex |= 4;
  if (!e->mem && e->rm >= 8)
    rex |= 1;
  if (rex != 0x40 || e->rex)
    *b++ = rex;
  memcpy (b, e->op, e->oplen);
  b += e->oplen;
  if (e->reg >= 0)
    *b++ = (e->mem ? 0x00 : 0xc0) | (e->reg & 7) << 3 | (e->mem ? 3 : e->rm & 7);
  for (unsigned i = 0; i < e->imm_size; i++)
    *b++ = e->imm >> (8 * i);
  c->len = b - c->bytes;
}

static void
set_mem_base (IntCase *c)
{
  c->regs.gpr[3] = DIFF_DATA_ADDR + 0x800 + rnd (64);
}

/* ---- classes ---- */

static void
gen_alu (IntCase *c)
{
  static const uint8_t logic[8] = { 0, 1, 0, 0, 1, 0, 1, 0 }; /* or and xor */
  unsigned size = 1u << rnd (4), k = rnd (8), form = rnd (7);
  bool rex = size != 1 ? false : rnd (2), mem = rnd (4) == 0;
  Enc e = { .size = size, .rex = rex, .mem = mem };
  uint8_t op[2];

  random_regs (&c->regs);
  for (unsigned i = 0; i < 16; i++)
    if (rnd (2))
      c->regs.gpr[i] = edge_value (size);
  if (mem)
    set_mem_base (c);
  e.reg = pick_gpr (size, rex);
  e.rm = pick_gpr (size, rex);
  c->flag_mask = logic[k] ? FL_ALL & ~0x10u : FL_ALL;
  switch (form)
    {
    case 0: case 1: /* op r/m, r  and  op r, r/m */
      op[0] = 8 * k + (form ? 2 : 0) + (size != 1);
      break;
    case 2: /* 80/81/83 /k imm */
      op[0] = size == 1 ? 0x80 : rnd (2) ? 0x83 : 0x81;
      e.reg = k;
      e.imm_size = op[0] == 0x81 ? (size == 2 ? 2 : 4) : 1;
      e.imm = edge_value (e.imm_size);
      break;
    case 3: /* TEST r/m, r and TEST r/m, imm */
      c->flag_mask = FL_ALL & ~0x10u;
      if (rnd (2))
        op[0] = 0x84 + (size != 1);
      else
        {
          op[0] = 0xf6 + (size != 1);
          e.reg = 0;
          e.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
          e.imm = edge_value (e.imm_size);
        }
      break;
    case 4: /* NOT / NEG */
      op[0] = 0xf6 + (size != 1);
      e.reg = rnd (2) ? 2 : 3;
      c->flag_mask = FL_ALL; /* NOT: unchanged; NEG: all defined */
      break;
    case 5: /* INC / DEC */
      op[0] = 0xfe + (size != 1);
      e.reg = rnd (2);
      c->flag_mask = FL_ALL;
      break;
    default: /* MOVZX/MOVSX/XCHG/MOV, no flags */
      {
        static const uint8_t ops[][2] = { { 0x0f, 0xb6 }, { 0x0f, 0xbe }, { 0x0f, 0xb7 },
                                          { 0x0f, 0xbf }, { 0x87, 0 }, { 0x89, 0 }, { 0x8b, 0 },
                                          { 0x63, 0 } };
        unsigned i = rnd (8);
        memcpy (op, ops[i], 2);
        if (size == 1)
          e.size = size = 4;
        if (i >= 2 && i < 4 && size == 1)
          e.size = 4;
        e.oplen = op[0] == 0x0f ? 2 : 1;
        e.op = op;
        e.reg = pick_gpr (size, false);
        e.rm = pick_gpr (size, false);
        if (i < 4 || i == 7) /* byte/word source forms: source register stays legal */
          e.rm = pick_gpr (4, false);
        c->flag_mask = FL_ALL;
        encode (c, &e);
        return;
      }
    }
  e.op = op;
  e.oplen = 1;
  encode (c, &e);
}

static void
gen_shift (IntCase *c)
{
  unsigned size = 1u << rnd (4), bits = size * 8, k = rnd (8), form = rnd (4), count;
  bool rex = size != 1 ? false : rnd (2), mem = rnd (4) == 0;
  Enc e = { .size = size, .rex = rex, .mem = mem, .reg = k };
  uint8_t op[2];

  random_regs (&c->regs);
  for (unsigned i = 0; i < 16; i++)
    if (rnd (2))
      c->regs.gpr[i] = edge_value (size);
  if (mem)
    set_mem_base (c);
  e.rm = pick_gpr (size, rex);
  static const uint8_t counts[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
  count = rnd (3) ? counts[rnd (G_N_ELEMENTS (counts))] : rnd (256);

  if (form == 3 && size != 1) /* SHLD / SHRD by imm or CL */
    {
      bool left = rnd (2), cl = rnd (2);
      op[0] = 0x0f;
      op[1] = (left ? 0xa4 : 0xac) + cl;
      e.op = op;
      e.oplen = 2;
      e.reg = pick_gpr (size, false);
      if (cl)
        c->regs.gpr[1] = (c->regs.gpr[1] & ~UINT64_C (0xff)) | count;
      else
        {
          e.imm_size = 1;
          e.imm = count;
        }
      unsigned m = count & (size == 8 ? 63 : 31);
      if (size == 2 && m > 16)
        count = m = 16; /* result undefined beyond the operand size */
      if (cl)
        c->regs.gpr[1] = (c->regs.gpr[1] & ~UINT64_C (0xff)) | count;
      else
        e.imm = count;
      c->flag_mask = m == 0 ? FL_ALL : (FL_ALL & ~0x10u & ~(m == 1 ? 0 : 0x800u));
      encode (c, &e);
      return;
    }
  if (form == 0)
    op[0] = size == 1 ? 0xd0 : 0xd1, count = 1;
  else if (form == 1)
    {
      op[0] = size == 1 ? 0xc0 : 0xc1;
      e.imm_size = 1;
      e.imm = count;
    }
  else
    {
      op[0] = size == 1 ? 0xd2 : 0xd3;
      if (e.rm == 1 && !mem && !(size == 1 && !rex))
        e.rm = 0;
      c->regs.gpr[1] = (c->regs.gpr[1] & ~UINT64_C (0xff)) | count;
    }
  e.op = op;
  e.oplen = 1;
  unsigned m = count & (size == 8 ? 63 : 31);
  if (m == 0)
    c->flag_mask = FL_ALL;
  else if (k < 4) /* rotates: CF, OF (count 1); others unaffected */
    {
      c->flag_mask = FL_ALL & ~(m == 1 ? 0 : 0x800u);
      if (k >= 2 && (m % (bits + 1)) == 0) /* RCL/RCR by a multiple of width+1: nothing moves */
        c->flag_mask = FL_ALL & ~0x800u;
    }
  else
    {
      c->flag_mask = FL_ALL & ~0x10u & ~(m == 1 ? 0 : 0x800u);
      if (m >= bits) /* CF undefined once everything is shifted out (8/16-bit) */
        c->flag_mask &= ~0x1u;
    }
  encode (c, &e);
}

static void
gen_bit (IntCase *c)
{
  unsigned size = 2u << rnd (3), form = rnd (6);
  Enc e = { .size = size, .mem = form < 3 && rnd (4) == 0 };
  uint8_t op[2] = { 0x0f, 0 };

  random_regs (&c->regs);
  if (e.mem)
    set_mem_base (c);
  do
    e.reg = pick_gpr (size, false);
  while (e.mem && e.reg == 3); /* RBX is the memory base */
  e.rm = pick_gpr (size, false);
  e.op = op;
  e.oplen = 2;
  switch (form)
    {
    case 0: case 1: /* BT/BTS/BTR/BTC r/m, r (memory forms: small bit offsets) */
      op[1] = 0xa3 + 8 * rnd (4);
      if (e.mem)
        c->regs.gpr[e.reg] = rnd (size * 8);
      c->flag_mask = 0x1;
      break;
    case 2: /* BT* r/m, imm8 */
      op[1] = 0xba;
      e.reg = 4 + rnd (4);
      e.imm_size = 1;
      e.imm = rnd (256);
      c->flag_mask = 0x1;
      break;
    case 3: /* BSF / BSR */
      op[1] = 0xbc + rnd (2);
      if (rnd (4) == 0)
        c->regs.gpr[e.rm] = 0;
      else if (rnd (2))
        c->regs.gpr[e.rm] = UINT64_C (1) << rnd (64);
      c->flag_mask = 0x40;
      break;
    case 4: /* BSWAP (32/64) */
      op[1] = 0xc8;
      e.reg = -1;
      if (size == 2)
        e.size = size = 4;
      {
        unsigned r = pick_gpr (size, false);
        op[1] = 0xc8 + (r & 7);
        if (r >= 8)
          e.rm = r, e.mem = false;
        Enc b = e;
        b.rm = r;
        /* REX.B selects R8-R15 for the register-in-opcode form */
        b.reg = -1;
        encode (c, &b);
        if (r >= 8 && size != 8)
          {
            c->bytes[0] = 0x41;
            memcpy (c->bytes + 1, op, 2);
            c->len = 3;
          }
        c->flag_mask = FL_ALL;
        return;
      }
    default: /* SETcc / CMOVcc */
      if (rnd (2))
        {
          op[1] = 0x90 + rnd (16);
          e.size = 1;
          e.reg = 0;
          e.rm = pick_gpr (1, false);
        }
      else
        op[1] = 0x40 + rnd (16);
      c->flag_mask = FL_ALL;
      break;
    }
  encode (c, &e);
}

static void
gen_string (IntCase *c)
{
  static const uint8_t ops[] = { 0xa4, 0xaa, 0xac, 0xae, 0xa6 };
  unsigned size = 1u << rnd (4), which = rnd (5);
  uint8_t op = ops[which] + (size != 1);
  Enc e = { .size = size, .op = &op, .oplen = 1, .reg = -1 };

  random_regs (&c->regs);
  c->regs.gpr[6] = DIFF_DATA_ADDR + 0x400 + rnd (0x200); /* RSI */
  c->regs.gpr[7] = DIFF_DATA_ADDR + 0x900 + rnd (0x200); /* RDI */
  if (rnd (4) == 0) /* overlapping copies */
    c->regs.gpr[7] = c->regs.gpr[6] + rnd (16) - 8;
  c->regs.gpr[1] = rnd (4) ? rnd (24) : 0; /* RCX */
  if (rnd (2))
    c->regs.rflags |= FL_DF;
  if (rnd (3))
    e.rep = which >= 3 ? (rnd (2) ? 0xf3 : 0xf2) : 0xf3;
  if (which >= 3 && rnd (2)) /* make SCAS/CMPS stop early sometimes */
    c->regs.gpr[0] = init_page[c->regs.gpr[7] - DIFF_DATA_ADDR + rnd (8)];
  c->flag_mask = FL_ALL | FL_DF;
  encode (c, &e);
}

static void
gen_muldiv (IntCase *c)
{
  unsigned size = 1u << rnd (4), form = rnd (5);
  bool rex = size != 1 ? false : rnd (2), mem = rnd (4) == 0;
  Enc e = { .size = size, .rex = rex, .mem = mem };
  uint8_t op[2];

  random_regs (&c->regs);
  for (unsigned i = 0; i < 16; i++)
    if (rnd (2))
      c->regs.gpr[i] = edge_value (size);
  if (mem)
    set_mem_base (c);
  e.rm = pick_gpr (size, rex);
  e.op = op;
  e.oplen = 1;
  if (form < 3) /* F6/F7 /4-/7: MUL IMUL DIV IDIV */
    {
      op[0] = 0xf6 + (size != 1);
      e.reg = 4 + rnd (4);
      c->flag_mask = e.reg < 6 ? 0x801u : 0;
      if (e.reg >= 6 && rnd (2)) /* mostly quotients that fit */
        c->regs.gpr[2] = rnd (2) ? 0 : ~UINT64_C (0);
    }
  else
    {
      if (size == 1)
        e.size = size = 4;
      e.reg = pick_gpr (size, false);
      e.rm = pick_gpr (size, false);
      c->flag_mask = 0x801u;
      if (form == 3)
        {
          op[0] = 0x0f;
          op[1] = 0xaf;
          e.oplen = 2;
        }
      else
        {
          op[0] = rnd (2) ? 0x69 : 0x6b;
          e.imm_size = op[0] == 0x6b ? 1 : size == 2 ? 2 : 4;
          e.imm = edge_value (e.imm_size);
        }
    }
  encode (c, &e);
}

static void
gen_flags (IntCase *c)
{
  static const uint8_t simple[] = { 0xf5, 0xf8, 0xf9, 0xfc, 0xfd, 0x9e, 0x9f };
  unsigned form = rnd (3);

  random_regs (&c->regs);
  if (rnd (2))
    c->regs.rflags |= FL_DF;
  c->flag_mask = FL_ALL | FL_DF;
  if (form == 0)
    {
      c->bytes[0] = simple[rnd (G_N_ELEMENTS (simple))];
      c->len = 1;
      return;
    }
  /* ADC/SBB chains and flag consumers: carry in from random flags */
  unsigned size = 1u << rnd (4);
  bool rex = size != 1 ? false : rnd (2);
  uint8_t op[2] = { form == 1 ? 0x11 : 0x19, 0 };
  if (size == 1)
    op[0]--;
  Enc e = { .size = size, .rex = rex, .op = op, .oplen = 1, .reg = pick_gpr (size, rex),
            .rm = pick_gpr (size, rex) };
  for (unsigned i = 0; i < 16; i++)
    if (rnd (2))
      c->regs.gpr[i] = edge_value (size);
  encode (c, &e);
}

/* ---- running ---- */

static int
signal_of_vector (int vec)
{
  switch (vec)
    {
    case -1: return -1;
    case 0: case 16: case 19: return SIGFPE;
    case 6: return SIGILL;
    case 13: case 14: case 17: return SIGSEGV;
    default: return 1000 + vec;
    }
}

static int
engine_run (const uint8_t *code, unsigned len, const DiffRegs *in, const uint8_t *data,
            DiffRegs *out, uint8_t *out_data, uint64_t *rip)
{
  CpuState *s = cpu_sandbox_state (sb);
  uint8_t *mem = cpu_sandbox_mem (sb);
  FxState *fx = (FxState *) s->fxsave;
  uint64_t rsp = s->regs[CPU_REG_RSP];
  int vec = -1;

  memcpy (mem + DIFF_CODE_ADDR, code, len);
  memset (mem + DIFF_CODE_ADDR + len, 0x90, 16);
  memcpy (mem + DIFF_DATA_ADDR, data, DIFF_DATA_SIZE);
  memcpy (s->regs, in->gpr, sizeof in->gpr);
  s->regs[CPU_REG_RSP] = rsp;
  s->rip = DIFF_CODE_ADDR;
  s->rflags = (in->rflags & ~UINT64_C (0x200)) | 2;
  simd_reset (fx);
  fx->mxcsr = in->mxcsr;
  memcpy (fx->xmm, in->xmm, sizeof fx->xmm);
  for (unsigned i = 0; i < 8; i++)
    memcpy (fx->st[i].v, &in->mm[i], 8);

  /* A REP string instruction may take one step per iteration. */
  for (unsigned steps = 0; steps < 4096; steps++)
    {
      vec = cpu_sandbox_step (sb);
      if (vec != -1 || s->rip != DIFF_CODE_ADDR)
        break;
    }
  *out = *in;
  memcpy (out->gpr, s->regs, sizeof out->gpr);
  out->gpr[CPU_REG_RSP] = in->gpr[CPU_REG_RSP];
  s->regs[CPU_REG_RSP] = rsp;
  out->rflags = s->rflags;
  out->mxcsr = fx->mxcsr;
  memcpy (out->xmm, fx->xmm, sizeof out->xmm);
  for (unsigned i = 0; i < 8; i++)
    memcpy (&out->mm[i], fx->st[i].v, 8);
  memcpy (out_data, mem + DIFF_DATA_ADDR, DIFF_DATA_SIZE);
  *rip = s->rip;
  return vec;
}

static void
print_bytes (const uint8_t *b, unsigned len)
{
  printf ("# bytes:");
  for (unsigned i = 0; i < len; i++)
    printf (" %02x", b[i]);
  printf ("\n");
}

static void
print_page_diff (const uint8_t *a, const uint8_t *b)
{
  for (unsigned i = 0; i < DIFF_DATA_SIZE; i++)
    if (a[i] != b[i])
      {
        printf ("#  data differs at +%#x: host %02x engine %02x\n", i, a[i], b[i]);
        return;
      }
}

/* Run one case both ways; returns true if they agree. */
static bool
compare_case (const char *cls, const uint8_t *code, unsigned len, const DiffRegs *in,
              const uint8_t *data, uint32_t flag_mask, bool vector_regs, Stats *st)
{
  static uint8_t host_data[DIFF_DATA_SIZE], eng_data[DIFF_DATA_SIZE];
  DiffRegs host = *in, eng;
  uint64_t rip;

  memcpy (diff_host_data (), data, DIFF_DATA_SIZE);
  int sig = diff_host_run (&host, code, len);
  memcpy (host_data, diff_host_data (), DIFF_DATA_SIZE);
  int vec = engine_run (code, len, in, data, &eng, eng_data, &rip);

  st->total++;
  st->faulted += sig != -1;
  bool ok = sig == signal_of_vector (vec) || (sig == SIGBUS && vec == 13);
  if (ok && sig == -1)
    {
      ok = rip == DIFF_CODE_ADDR + len && !memcmp (host.gpr, eng.gpr, sizeof host.gpr)
           && !((host.rflags ^ eng.rflags) & flag_mask) && !memcmp (host_data, eng_data, DIFF_DATA_SIZE);
      if (vector_regs)
        ok = ok && host.mxcsr == eng.mxcsr && !memcmp (host.xmm, eng.xmm, sizeof host.xmm)
             && !memcmp (host.mm, eng.mm, sizeof host.mm);
    }
  if (!ok && st->failed >= 6 && g_getenv ("VIREO_DIFF_ALL"))
    {
      printf ("# also differs [%s]:", cls);
      print_bytes (code, len);
    }
  if (!ok && st->failed++ < 6)
    {
      printf ("# MISMATCH [%s]: host signal %d, engine vector %d, engine rip +%" G_GINT64_MODIFIER
              "d (len %u), flag mask %#x\n", cls, sig, vec, rip - DIFF_CODE_ADDR, len, flag_mask);
      print_bytes (code, len);
      diff_print_regs ("inputs", in, NULL);
      diff_print_regs ("host", &host, NULL);
      diff_print_regs ("engine", &eng, NULL);
      print_page_diff (host_data, eng_data);
    }
  return ok;
}

static void
run_int_class (const char *name, void (*gen) (IntCase *), unsigned n)
{
  Stats st = { 0 };
  for (unsigned i = 0; i < n; i++)
    {
      IntCase c = { 0 };
      gen (&c);
      compare_case (name, c.bytes, c.len, &c.regs, init_page, c.flag_mask, false, &st);
    }
  printf ("# %s: %u cases, %u passed (%u faulted on the host, compared as fault class)\n", name,
          st.total, st.total - st.failed, st.faulted);
  if (st.failed)
    g_test_fail_printf ("%s: %u of %u cases differ from the host", name, st.failed, st.total);
}

static bool
setup (void)
{
  const char *why;
  if (!diff_host_init (&why))
    {
      g_test_skip (why);
      return false;
    }
  if (!sb)
    {
      const char *seed_env = g_getenv ("VIREO_DIFF_SEED");
      rng = g_rand_new_with_seed (seed_env ? (guint32) g_ascii_strtoull (seed_env, NULL, 0) : 0xd1ff);
      sb = cpu_sandbox_new (SANDBOX_MEM);
      for (unsigned i = 0; i < DIFF_DATA_SIZE; i++)
        init_page[i] = rnd (4) ? g_rand_int (rng) : (rnd (2) ? 0 : 0xff);
    }
  vmm_log_set_quiet (TRUE);
  return true;
}

#define INT_TEST(fn, name, n)                                                                  \
  static void                                                                                 \
  test_##fn (void)                                                                            \
  {                                                                                           \
    if (setup ())                                                                             \
      run_int_class (name, gen_##fn, n);                                                      \
  }

INT_TEST (alu, "integer ALU", 20000)
INT_TEST (shift, "shifts/rotates", 15000)
INT_TEST (bit, "bit ops", 10000)
INT_TEST (string, "string ops", 8000)
INT_TEST (muldiv, "multiply/divide", 10000)
INT_TEST (flags, "flags", 6000)

static void
run_sse_class (unsigned cls, const char *name, unsigned per_op)
{
  Stats st = { 0 };
  static uint8_t page[DIFF_DATA_SIZE];

  for (unsigned o = 0; o < diff_sse_nops; o++)
    {
      if (diff_sse_ops[o].cls != cls)
        continue;
      for (unsigned n = 0; n < per_op; n++)
        {
          DiffCase c;
          diff_sse_make (&diff_sse_ops[o], rng, &c);
          memcpy (page, init_page, sizeof page);
          memcpy (page, c.data, sizeof c.data);
          compare_case (name, c.bytes, c.len, &c.regs, page, FL_ALL, true, &st);
        }
    }
  printf ("# %s: %u cases, %u passed (%u faulted on the host, compared as fault class)\n", name,
          st.total, st.total - st.failed, st.faulted);
  if (st.failed)
    g_test_fail_printf ("%s: %u of %u cases differ from the host", name, st.failed, st.total);
}

static void
test_sse (void)
{
  if (setup ())
    run_sse_class (DC_SSE, "SSE", 100);
}

static void
test_sse2 (void)
{
  if (setup ())
    {
      run_sse_class (DC_SSE2, "SSE2", 50);
      run_sse_class (DC_MMX, "MMX", 50);
    }
}

/* x87: the host runs with the state FXRSTORed, the engine with the same
 * image as CpuState.fxsave; FPU state, RAX, flags and memory compared. */
static void
test_x87 (void)
{
  static FxState host_fx;
  static uint8_t page[DIFF_DATA_SIZE];
  Stats st = { 0 };

  if (!setup ())
    return;
  for (unsigned n = 0; n < 20000; n++)
    {
      X87Case c;
      DiffRegs in, eng;
      uint64_t hio[3], rip;
      static uint8_t eng_page[DIFF_DATA_SIZE];

      diff_x87_make (rng, &c);
      memcpy (page, init_page, sizeof page);
      memcpy (page, c.data, sizeof c.data);
      host_fx = c.fx;
      memcpy (hio, c.io, sizeof hio);
      memcpy (diff_host_data (), page, sizeof page);
      int sig = diff_host_run_fx (&host_fx, hio, c.bytes, c.len);

      random_regs (&in);
      in.gpr[0] = c.io[0];
      in.gpr[3] = c.io[1];
      in.rflags = c.io[2];
      CpuState *s = cpu_sandbox_state (sb);
      FxState *efx = (FxState *) s->fxsave;
      /* engine_run resets the FPU; load the case's x87 state afterwards */
      uint8_t *mem = cpu_sandbox_mem (sb);
      memcpy (mem + DIFF_CODE_ADDR, c.bytes, c.len);
      memset (mem + DIFF_CODE_ADDR + c.len, 0x90, 16);
      memcpy (mem + DIFF_DATA_ADDR, page, sizeof page);
      uint64_t rsp = s->regs[CPU_REG_RSP];
      memcpy (s->regs, in.gpr, sizeof in.gpr);
      s->regs[CPU_REG_RSP] = rsp;
      s->rip = DIFF_CODE_ADDR;
      s->rflags = (in.rflags & ~UINT64_C (0x200)) | 2;
      *efx = c.fx;
      int vec = cpu_sandbox_step (sb);
      rip = s->rip;
      memcpy (eng.gpr, s->regs, sizeof eng.gpr);
      eng.rflags = s->rflags;
      memcpy (eng_page, mem + DIFF_DATA_ADDR, sizeof eng_page);

      st.total++;
      st.faulted += sig != -1;
      bool ok = sig == signal_of_vector (vec);
      if (ok && sig == -1)
        ok = rip == DIFF_CODE_ADDR + c.len
             && diff_x87_same (&host_fx, efx, diff_x87_fsw_ignore (&c)) && hio[0] == eng.gpr[0]
             && !((hio[2] ^ eng.rflags) & FL_ALL) && !memcmp (diff_host_data (), eng_page, 64);
      if (!ok && st.failed++ < 6)
        {
          uint64_t eio[3] = { eng.gpr[0], eng.gpr[3], eng.rflags };
          printf ("# MISMATCH [x87]: host signal %d, engine vector %d, engine rip +%" G_GINT64_MODIFIER
                  "d\n", sig, vec, rip - DIFF_CODE_ADDR);
          print_bytes (c.bytes, c.len);
          diff_x87_print ("input", &c.fx, c.io, c.data);
          diff_x87_print ("host", &host_fx, hio, diff_host_data ());
          diff_x87_print ("engine", efx, eio, eng_page);
        }
    }
  printf ("# x87: %u cases, %u passed (%u faulted on the host, compared as fault class)\n",
          st.total, st.total - st.failed, st.faulted);
  if (st.failed)
    g_test_fail_printf ("x87: %u of %u cases differ from the host", st.failed, st.total);
}

int
main (int argc, char **argv)
{
  /* Keep going after a failing class, so every class reports its count. */
  char **args = g_new0 (char *, argc + 2);
  memcpy (args, argv, argc * sizeof *argv);
  args[argc++] = (char *) "--keep-going";
  argv = args;
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/diff/integer-alu", test_alu);
  g_test_add_func ("/diff/shifts-rotates", test_shift);
  g_test_add_func ("/diff/bit-ops", test_bit);
  g_test_add_func ("/diff/string-ops", test_string);
  g_test_add_func ("/diff/multiply-divide", test_muldiv);
  g_test_add_func ("/diff/flags", test_flags);
  g_test_add_func ("/diff/sse", test_sse);
  g_test_add_func ("/diff/sse2-mmx", test_sse2);
  g_test_add_func ("/diff/x87", test_x87);
  int r = g_test_run ();
  cpu_sandbox_free (sb);
  if (rng)
    g_rand_free (rng);
  g_free (args);
  return r;
}
