/* SSE/SSE2 floating-point operations executed on the host's own SSE unit.
 *
 * The host is x86-64, so running the guest's operation on the host with the
 * guest's rounding, DAZ and FTZ settings (exceptions masked) gives the
 * architectural result bit for bit, NaN propagation included; the raised
 * exception flags are returned for the caller to fold into guest MXCSR. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/cpu/fx-state.h"

typedef enum {
  HF_ADDPS, HF_ADDSS, HF_ADDPD, HF_ADDSD,
  HF_SUBPS, HF_SUBSS, HF_SUBPD, HF_SUBSD,
  HF_MULPS, HF_MULSS, HF_MULPD, HF_MULSD,
  HF_DIVPS, HF_DIVSS, HF_DIVPD, HF_DIVSD,
  HF_MINPS, HF_MINSS, HF_MINPD, HF_MINSD,
  HF_MAXPS, HF_MAXSS, HF_MAXPD, HF_MAXSD,
  HF_SQRTPS, HF_SQRTSS, HF_SQRTPD, HF_SQRTSD,
  HF_RCPPS, HF_RCPSS, HF_RSQRTPS, HF_RSQRTSS,
  HF_CVTPS2PD, HF_CVTPD2PS, HF_CVTSS2SD, HF_CVTSD2SS,
  HF_CVTDQ2PS, HF_CVTPS2DQ, HF_CVTTPS2DQ,
  HF_CVTDQ2PD, HF_CVTPD2DQ, HF_CVTTPD2DQ,
  HF_CMPPS, HF_CMPSS, HF_CMPPD, HF_CMPSD, /* predicate in imm (0-7) */
} HostFpOp;

/* dst = dst OP src. Returns the exception flags raised (MXCSR bits 0-5). */
uint32_t host_fp_op (HostFpOp op, FxXmm *dst, const FxXmm *src, uint32_t mxcsr, uint8_t imm);

/* COMISS/UCOMISS/COMISD/UCOMISD: *zpc gets ZF (bit 6), PF (bit 2), CF (bit 0). */
typedef enum { HF_COMISS, HF_UCOMISS, HF_COMISD, HF_UCOMISD } HostFpCompare;
uint32_t host_fp_compare (HostFpCompare op, const FxXmm *a, const FxXmm *b, uint32_t mxcsr,
                          uint64_t *zpc);

/* CVT(T)SS2SI / CVT(T)SD2SI to a 32- or 64-bit integer. */
typedef enum { HF_CVTSS2SI, HF_CVTTSS2SI, HF_CVTSD2SI, HF_CVTTSD2SI } HostFpToInt;
uint32_t host_fp_to_int (HostFpToInt op, const FxXmm *src, bool wide, uint32_t mxcsr,
                         uint64_t *out);

/* CVTSI2SS / CVTSI2SD from a 32- or 64-bit integer into dst's low element. */
uint32_t host_fp_from_int (bool to_double, FxXmm *dst, uint64_t value, bool wide, uint32_t mxcsr);
