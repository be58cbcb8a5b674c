/* Private structures of the KVM engine, shared by its source files. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <linux/kvm.h>

#include "vmm-core/engine.h"

#define KVM_MAX_SLOTS 32
#define KVM_MAX_MSRS 64

typedef struct KvmSlot {
  uint64_t gpa;
  uint64_t size;
  void *host;
  bool used;
} KvmSlot;

typedef struct KvmEngine {
  Engine base;
  int sys_fd; /* /dev/kvm */
  int vm_fd;
  int vcpu_mmap_size;
  unsigned cpus;
  KvmSlot slots[KVM_MAX_SLOTS];
  struct kvm_cpuid2 *cpuid; /* filtered template for every vCPU */
  uint32_t msrs[KVM_MAX_MSRS]; /* MSRs of CpuState the host supports */
  unsigned nr_msrs;
  bool has_xsave;
  bool has_debugregs;
  bool msrs_probed;
  bool clock_frozen;
  uint64_t frozen_clock; /* KVM_GET_CLOCK at pause */
} KvmEngine;

typedef struct KvmVcpu {
  EngineVcpu base;
  KvmEngine *kvm;
  int fd;
  struct kvm_run *run;
  VcpuHost host;
  pthread_t thread;
  atomic_bool thread_known;
} KvmVcpu;

/* kvm-cpuid.c */
struct kvm_cpuid2 *kvm_cpuid_template (int sys_fd, GError **error);
bool kvm_cpuid_apply (KvmVcpu *v, GError **error);

/* kvm-state.c */
void kvm_state_probe_msrs (KvmVcpu *v);
bool kvm_vcpu_get_state (EngineVcpu *ev, CpuState *s, GError **error);
bool kvm_vcpu_set_state (EngineVcpu *ev, const CpuState *s, GError **error);

/* kvm-vcpu.c */
EngineVcpu *kvm_vcpu_create (Engine *e, unsigned index, const VcpuHost *host, GError **error);
void kvm_vcpu_destroy (EngineVcpu *ev);
VcpuExitReason kvm_vcpu_run (EngineVcpu *ev);
void kvm_vcpu_kick (EngineVcpu *ev);

/* kvm-platform.c */
void kvm_save_platform (Engine *e, SnapWriter *w);
bool kvm_load_platform (Engine *e, SnapReader *r, GError **error);
void kvm_clock_pause (Engine *e, bool paused);

/* errno → GError with the ioctl's name. */
bool kvm_fail (GError **error, const char *what);
