/* The engine interface: what the machine needs from a CPU back end.
 *
 * Two back ends implement it: KVM (hostdrv/kvm-engine.c) and the software
 * x86-64 engine (vmm-core/cpu/). The machine owns RAM, devices and threads;
 * an engine owns vCPU execution and (where it has one) its interrupt
 * controller. Every implementation embeds `Engine` / `EngineVcpu` as its
 * first member.
 *
 * Port and MMIO accesses reach the machine through VcpuHost callbacks, called
 * on the vCPU's own thread: KVM converts its exits into them, the software
 * engine calls them in the middle of an instruction. vcpu_run returns only
 * for events the machine must act on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/cpu-state.h"

typedef struct Engine Engine;
typedef struct EngineVcpu EngineVcpu;
typedef struct EngineOps EngineOps;
typedef struct SnapWriter SnapWriter;
typedef struct SnapReader SnapReader;

typedef enum {
  ENGINE_KIND_AUTO,
  ENGINE_KIND_KVM,
  ENGINE_KIND_SOFT,
} EngineKind;

typedef enum {
  VCPU_EXIT_KICK,     /* vcpu_kick() was called: check for pause/stop */
  VCPU_EXIT_HALT,     /* HLT with interrupts off, or halted and idle */
  VCPU_EXIT_SHUTDOWN, /* triple fault: the machine resets */
  VCPU_EXIT_RESET,    /* guest asked for a reset the engine saw itself */
  VCPU_EXIT_ERROR,    /* engine failure; message in the vCPU's error */
} VcpuExitReason;

/* Services the machine offers a vCPU. `data` is little-endian, size 1/2/4/8;
 * the callee fills it on reads. Called with no locks held. */
typedef struct VcpuHost {
  void *opaque;
  void (*pio) (void *opaque, uint16_t port, unsigned size, bool is_write, void *data);
  void (*mmio) (void *opaque, uint64_t gpa, unsigned size, bool is_write, void *data);
} VcpuHost;

typedef struct IoBus IoBus;
typedef struct TimerQueue TimerQueue;

/* What the machine hands an engine at creation. An engine that emulates its
 * interrupt controllers and timers in userspace (the software engine)
 * registers them on these buses itself; KVM creates its in-kernel ones. */
typedef struct EngineConfig {
  unsigned cpus;
  uint64_t ram_size;
  int ram_fd;          /* the guest RAM memfd, for engines that map it themselves */
  uint8_t *ram_host;
  IoBus *pio;          /* port-I/O bus */
  IoBus *mmio;         /* MMIO bus */
  TimerQueue *timers;  /* virtual clock and device timers */
  GMutex *device_lock; /* held around every bus dispatch and timer callback */
} EngineConfig;

struct EngineOps {
  const char *name; /* "kvm" or "soft" */

  Engine *(*create) (const EngineConfig *cfg, GError **error);
  void (*destroy) (Engine *e);

  /* Guest-physical [gpa, gpa + size) is host memory at `host`. Replacing a
   * slot with size 0 removes it (PCI BAR moves). */
  bool (*map_memory) (Engine *e, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                      bool log_dirty, GError **error);
  /* Copies and clears the slot's dirty bitmap (one bit per 4 KiB page). */
  bool (*get_dirty_log) (Engine *e, uint32_t slot, uint64_t *bitmap, GError **error);

  EngineVcpu *(*vcpu_create) (Engine *e, unsigned index, const VcpuHost *host,
                              GError **error);
  void (*vcpu_destroy) (EngineVcpu *v);
  VcpuExitReason (*vcpu_run) (EngineVcpu *v);
  /* Any thread: make vcpu_run return VCPU_EXIT_KICK as soon as possible. */
  void (*vcpu_kick) (EngineVcpu *v);
  bool (*vcpu_get_state) (EngineVcpu *v, CpuState *s, GError **error);
  bool (*vcpu_set_state) (EngineVcpu *v, const CpuState *s, GError **error);

  /* Interrupt inputs: the engine's irqchip (in-kernel or userspace). */
  void (*set_irq) (Engine *e, unsigned gsi, bool level);
  void (*send_msi) (Engine *e, uint64_t address, uint32_t data);

  /* Platform state the engine owns (irqchips, PIT, clock), engine-neutral
   * sections in the snapshot stream. */
  void (*save_platform) (Engine *e, SnapWriter *w);
  bool (*load_platform) (Engine *e, SnapReader *r, GError **error);

  /* Optional (NULL: nothing to do). The machine paused (true) or resumes
   * (false) every vCPU: an engine whose guest clocks run in the host kernel
   * (kvmclock) stops them here, as the TimerQueue's vclock stops. */
  void (*clock_pause) (Engine *e, bool paused);
};

struct Engine {
  const EngineOps *ops;
};

struct EngineVcpu {
  Engine *engine;
  unsigned index;
  char *error; /* set with VCPU_EXIT_ERROR */
};

/* Back ends, registered explicitly. */
extern const EngineOps kvm_engine_ops;
extern const EngineOps soft_engine_ops;
