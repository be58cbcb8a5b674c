/* The software engine's objects (soft-engine.c, soft-vcpu.c). */
#pragma once

#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/engine.h"
#include "vmm-core/irqchip/user-irqchip.h"

#define SOFT_MAX_CPUS 64

typedef struct SoftEngine SoftEngine;

typedef struct SoftVcpu {
  EngineVcpu base;
  SoftEngine *e;
  SoftCpu cpu;
  VcpuHost host;
  GMutex wait_lock;
  GCond wait_cond;
  bool woken;    /* under wait_lock */
  int kick_req;  /* atomic: the machine wants vcpu_run to return */
  bool progress; /* VIREO_CPU_PROGRESS */
  gint64 last_report;
  uint64_t last_icount;
} SoftVcpu;

struct SoftEngine {
  Engine base;
  EngineConfig cfg;
  SoftMem mem;
  UserIrqchip *chip;
  SoftVcpu *vcpus[SOFT_MAX_CPUS];
  uint64_t tsc_hz;
};

extern unsigned soft_cpu_count;

EngineVcpu *soft_vcpu_create (Engine *e, unsigned index, const VcpuHost *host, GError **error);
void soft_vcpu_destroy (EngineVcpu *v);
VcpuExitReason soft_vcpu_run (EngineVcpu *v);
void soft_vcpu_kick (EngineVcpu *v);
bool soft_vcpu_get_state (EngineVcpu *v, CpuState *s, GError **error);
bool soft_vcpu_set_state (EngineVcpu *v, const CpuState *s, GError **error);
/* Irqchip hook: something became pending for vCPU `cpu`. */
void soft_vcpu_wake (SoftVcpu *sv);
