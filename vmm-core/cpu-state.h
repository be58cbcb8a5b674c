/* The architectural state of one x86-64 vCPU, engine-neutral.
 *
 * Both engines get and set this struct, and snapshots save it, so a snapshot
 * taken under KVM restores under the software engine and back. Field meaning
 * follows the Intel SDM; layouts that already have a standard form use it
 * (FXSAVE image, the xAPIC register page). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum { CPU_REG_RAX, CPU_REG_RCX, CPU_REG_RDX, CPU_REG_RBX, CPU_REG_RSP, CPU_REG_RBP,
       CPU_REG_RSI, CPU_REG_RDI, CPU_REG_R8, CPU_REG_R9, CPU_REG_R10, CPU_REG_R11,
       CPU_REG_R12, CPU_REG_R13, CPU_REG_R14, CPU_REG_R15, CPU_NR_GPRS };

/* Segment registers in instruction-encoding order. */
enum { CPU_SEG_ES, CPU_SEG_CS, CPU_SEG_SS, CPU_SEG_DS, CPU_SEG_FS, CPU_SEG_GS,
       CPU_NR_SEGS };

typedef struct CpuSegment {
  uint64_t base;
  uint32_t limit; /* effective byte limit (granularity already applied) */
  uint16_t selector;
  uint8_t type;   /* descriptor type, 4 bits */
  uint8_t s;      /* 1 = code/data, 0 = system */
  uint8_t dpl;
  uint8_t present;
  uint8_t avl;
  uint8_t l;      /* 64-bit code segment */
  uint8_t db;
  uint8_t g;
  uint8_t unusable; /* null selector loaded (protected mode) */
} CpuSegment;

typedef struct CpuDtable {
  uint64_t base;
  uint16_t limit;
} CpuDtable;

/* vCPU run state, as in KVM_MP_STATE_*: an AP starts in INIT_RECEIVED and
 * waits for a SIPI. */
typedef enum {
  CPU_MP_RUNNABLE = 0,
  CPU_MP_UNINITIALIZED = 1,
  CPU_MP_INIT_RECEIVED = 2,
  CPU_MP_HALTED = 3,
  CPU_MP_SIPI_RECEIVED = 4,
} CpuMpState;

typedef struct CpuState {
  uint64_t regs[CPU_NR_GPRS];
  uint64_t rip;
  uint64_t rflags;

  CpuSegment seg[CPU_NR_SEGS];
  CpuSegment tr;
  CpuSegment ldt;
  CpuDtable gdt;
  CpuDtable idt;

  uint64_t cr0, cr2, cr3, cr4, cr8;
  uint64_t efer;
  uint64_t xcr0;
  uint64_t dr[4];
  uint64_t dr6, dr7;

  /* MSRs the kernel uses. */
  uint64_t apic_base;
  uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
  uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
  uint64_t tsc;           /* guest TSC value at the time of the get */
  uint64_t tsc_aux;
  uint64_t tsc_deadline;
  uint64_t pat;
  uint64_t misc_enable;
  uint64_t mtrr_def_type;
  uint64_t mtrr_fixed[11];
  uint64_t mtrr_var[16]; /* base, mask pairs for 8 ranges */

  /* x87/MMX/SSE: the 512-byte FXSAVE image (legacy region of XSAVE). */
  uint8_t fxsave[512] __attribute__ ((aligned (16)));

  /* Pending events. */
  uint8_t interrupt_shadow; /* after MOV SS / STI */
  uint8_t nmi_pending;
  uint8_t nmi_masked;
  uint8_t exception_pending;
  uint8_t exception_vector;
  uint8_t exception_has_error;
  uint32_t exception_error;
  int16_t interrupt_pending; /* vector being injected, or -1 */

  uint32_t mp_state; /* CpuMpState */
  uint32_t sipi_vector;

  /* Local APIC register page (xAPIC layout, as KVM's kvm_lapic_state). */
  uint8_t lapic[1024];
} CpuState;

/* Reset values (SDM vol. 3, "Processor state after reset"): real mode at
 * F000:FFF0. bsp marks the bootstrap processor in apic_base. */
void cpu_state_reset (CpuState *s, unsigned apic_id, bool bsp);
