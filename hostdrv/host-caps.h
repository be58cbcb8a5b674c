/* Host capability detection and engine choice.
 *
 * KVM comes in two flavours here: hardware-assisted (kvm_intel / kvm_amd),
 * where a stock guest kernel runs at native speed, and KVM-PVM (kvm_pvm),
 * where only PVM-enabled guest kernels do and ring-0 code of a stock kernel
 * is emulated one instruction at a time. `--engine auto` picks KVM only for
 * the first; tiny test guests force KVM with `--engine kvm` on either. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "vmm-core/engine.h"

typedef enum {
  HOST_KVM_NONE,     /* no /dev/kvm, or it cannot be opened */
  HOST_KVM_HARDWARE, /* kvm_intel or kvm_amd */
  HOST_KVM_PVM,      /* kvm_pvm: paravirtualized, stock kernels crawl */
} HostKvmKind;

typedef struct HostCaps {
  HostKvmKind kind;
  bool dev_present;  /* /dev/kvm exists */
  bool dev_openable; /* opened read-write */
  int api_version;   /* KVM_GET_API_VERSION, or -1 */
  char *problem;     /* why KVM is unusable (NULL when usable) */
} HostCaps;

/* Probes /dev/kvm and /sys/module. `sysfs_root` and `dev_path` exist for
 * tests; pass NULL for the real host. */
void host_caps_probe (HostCaps *caps, const char *sysfs_root, const char *dev_path);
void host_caps_clear (HostCaps *caps);

/* Picks the engine for `requested`. soft_available says whether the software
 * engine is linked in. Returns the chosen kind (KVM or SOFT), or
 * ENGINE_KIND_AUTO with *why set to the error when nothing can run.
 * *why always gets a one-line explanation (free it). */
EngineKind host_choose_engine (const HostCaps *caps, EngineKind requested,
                               bool soft_available, char **why);

/* "auto", "kvm", "soft" → kind; false for anything else. */
bool engine_kind_parse (const char *text, EngineKind *kind);
