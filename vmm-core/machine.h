/* The machine: one PC-like virtual machine run by vireo-vmx.
 *
 * It owns guest RAM, the port-I/O and MMIO buses, the device lock, the timer
 * queue, the interrupt router to the engine, the platform devices and one
 * thread per vCPU. Everything else (the command line, the D-Bus server, the
 * display export) drives it through this header.
 *
 * Threads: machine_run() blocks the calling thread, which then serves reset
 * and power-off requests; pause/resume/reset/power-off requests may come
 * from any thread, including device callbacks on vCPU threads (requests) —
 * but machine_pause() waits for every vCPU to park, so it must not be called
 * from a vCPU thread or with the device lock held. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/boot-linux.h"
#include "vmm-core/cpu-state.h"
#include "vmm-core/engine.h"
#include "vmm-core/guest-ram.h"
#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/timer.h"

#define MACHINE_MAX_CPUS 64

typedef struct MachineConfig {
  uint64_t ram_size;      /* bytes */
  unsigned cpus;
  const char *kernel;     /* bzImage, or NULL */
  const char *initrd;     /* NULL for none */
  const char *cmdline;    /* NULL for empty */
  const char *guest_elf;  /* tiny test guest (ELF64/ELF32), instead of kernel */
  const char *serial;     /* "stdio", "file:PATH", "unix:PATH", "none" (NULL: none) */
  EngineKind engine;
  bool no_reboot;         /* a triple fault or guest reset stops the machine */
  bool test_device;       /* the test device (machine-testdev.h) for tiny guests */
} MachineConfig;

/* Exit status of vireo-vmx, also machine_run()'s result. */
typedef enum {
  MACHINE_EXIT_POWEROFF = 0,     /* guest powered off (ACPI S5), or host asked */
  MACHINE_EXIT_SETUP_ERROR = 1,  /* bad input: files, sizes, no engine */
  MACHINE_EXIT_USAGE = 2,        /* bad command line */
  MACHINE_EXIT_ENGINE_ERROR = 3, /* the engine failed while running */
  MACHINE_EXIT_TRIPLE_FAULT = 4, /* triple fault or reset with no_reboot */
  MACHINE_EXIT_DEBUG_BASE = 16,  /* test device exit value v: 16 + (v & 63) */
  /* The debug-exit port 0x501 (QEMU's isa-debug-exit convention) ends with
   * ((v << 1) | 1) & 0xff: odd statuses, so v = 0 and 1 read as 1 and 3. */
} MachineExitStatus;

typedef enum {
  MACHINE_STATE_CREATED,
  MACHINE_STATE_RUNNING,
  MACHINE_STATE_PAUSED,
  MACHINE_STATE_STOPPED,
} MachineState;

typedef struct Machine Machine;

/* Called (from any thread, no machine locks held) when the state changes or
 * the machine resets (state stays RUNNING, `reset` true). */
typedef void (*MachineStateFn) (Machine *m, MachineState state, bool reset, void *opaque);

/* Builds everything and loads the boot image; vCPUs do not run yet.
 * *engine_why (if non-NULL) gets the one-line reason for the engine choice,
 * also when creation fails. */
Machine *machine_new (const MachineConfig *cfg, char **engine_why, GError **error);
void machine_free (Machine *m);

/* Hooks before machine_start(). */
void machine_set_state_callback (Machine *m, MachineStateFn fn, void *opaque);
/* A framebuffer for the Linux loader's screen_info (display device). Takes
 * effect at the next (re)load of the boot image, so set it before start. */
void machine_set_boot_display (Machine *m, const BootDisplayInfo *info);
/* Reload the boot image (after machine_set_boot_display). */
bool machine_reload_boot_image (Machine *m, GError **error);

/* Starts the vCPU threads. */
bool machine_start (Machine *m, GError **error);
/* Serves resets until the machine stops; returns the exit status. Joins the
 * vCPU threads before returning. */
int machine_run (Machine *m);

/* Any thread except vCPU threads, without the device lock: returns once no
 * vCPU runs guest code and the virtual clock stands still. Nests. */
void machine_pause (Machine *m);
void machine_resume (Machine *m);
MachineState machine_get_state (Machine *m);

/* Requests: any thread, including device callbacks (device lock held). */
void machine_request_reset (Machine *m);
void machine_request_poweroff (Machine *m);
void machine_request_exit (Machine *m, int status);
/* ACPI power button (a clean guest shutdown); false without ACPI PM. */
bool machine_press_power_button (Machine *m);

/* For devices and front ends added later (display, virtio, D-Bus). */
GuestRam *machine_ram (Machine *m);
IoBus *machine_pio (Machine *m);
IoBus *machine_mmio (Machine *m);
GMutex *machine_device_lock (Machine *m);
TimerQueue *machine_timers (Machine *m);
const IrqRouter *machine_irq_router (Machine *m);
Engine *machine_engine (Machine *m);
/* The PCI host bridge: display and virtio devices plug in here with
 * pci_host_add_device() (device lock held, before machine_start). */
typedef struct PciHost PciHost;
PciHost *machine_pci (Machine *m);
/* The keyboard controller: front ends feed keys and pointer motion with the
 * i8042 input calls (input/i8042.h), device lock held. */
typedef struct I8042 I8042;
I8042 *machine_i8042 (Machine *m);
unsigned machine_cpu_count (Machine *m);
/* Dirty-page tracking of guest RAM (live snapshots, migration). The bitmap
 * has one bit per 4 KiB page of the RAM memfd (low RAM first, then high
 * RAM: guest_ram_offset order), ram.size / 4096 bits rounded up to whole
 * uint64_t words. fetch copies and clears. */
bool machine_dirty_log_start (Machine *m, GError **error);
bool machine_dirty_log_fetch (Machine *m, uint64_t *bitmap, GError **error);
bool machine_dirty_log_stop (Machine *m, GError **error);

/* While paused: the whole machine state except RAM as a snapshot stream
 * (sections "machine", each device's, the engine's platform sections, and
 * "cpu.N" per vCPU). Loading needs the same vCPU count and RAM size; the
 * caller restores RAM itself (it is the memfd). Engine platform sections are
 * engine-specific for now ("kvm.*" under KVM), so a state loads under the
 * engine that saved it. */
GBytes *machine_save_state (Machine *m, GError **error);
bool machine_load_state (Machine *m, GBytes *state, GError **error);

/* While paused: architectural state of vCPU i. */
bool machine_get_cpu_state (Machine *m, unsigned i, CpuState *s, GError **error);
bool machine_set_cpu_state (Machine *m, unsigned i, const CpuState *s, GError **error);
