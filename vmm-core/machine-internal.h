/* The Machine struct, shared by machine*.c. Nothing outside vmm-core/machine*
 * looks inside it. */
#pragma once

#include "input/i8042.h"
#include "vmm-core/machine.h"
#include "vmm-core/machine-testdev.h"
#include "vmm-core/snapshot-stream.h"
#include "vmm-core/platform/acpi-pm.h"
#include "vmm-core/platform/acpi-tables.h"
#include "vmm-core/platform/cmos-rtc.h"
#include "vmm-core/platform/pc-reset.h"
#include "vmm-core/platform/pci-host.h"
#include "vmm-core/platform/uart-16550.h"

#define MACHINE_FIRST_BAR_SLOT 2 /* 0: low RAM, 1: high RAM */
#define MACHINE_BAR_SLOTS 16
/* ACPI in the BIOS area, where an OS scanning for the RSDP looks: the RSDP
 * at 0xE0000, the tables after it; e820 types the whole 128 KiB as ACPI. */
#define MACHINE_ACPI_BASE 0xe0000ull
#define MACHINE_ACPI_SIZE 0x20000ull
#define MACHINE_ACPI_TABLES 0xe0040ull

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SnapReader, snap_reader_free)

typedef struct MachineVcpu {
  Machine *m;
  unsigned index;
  EngineVcpu *ev;
  GThread *thread;
} MachineVcpu;

enum {
  MACHINE_EVENT_RESET = 1 << 0,
  MACHINE_EVENT_STOP = 1 << 1, /* power-off / exit / error: m->exit_status says which */
};

struct Machine {
  MachineConfig cfg;
  char *kernel_path, *initrd_path, *cmdline, *guest_elf_path, *serial;

  GuestRam ram;
  IoBus pio, mmio;
  GMutex device_lock;
  TimerQueue *timers;
  IrqRouter irq_router;
  Engine *engine;
  GBytes *pristine_platform; /* engine platform state at power-on, for reset */

  MachineVcpu *vcpus;
  unsigned ncpus;

  /* Devices. */
  Uart16550 com1;
  bool com1_ready;
  CmosRtc rtc;
  bool rtc_ready;
  PciHost pci;
  bool pci_ready;
  PcReset reset;
  bool reset_ready;
  AcpiPm pm;
  bool pm_ready;
  AcpiTables *acpi;
  I8042 kbc;
  bool kbc_ready;
  uint64_t mmio64_base, mmio64_size;
  /* Engine memory slots for RAM-backed PCI BARs (a framebuffer). */
  struct { uint64_t gpa, size; bool used; } bar_slots[MACHINE_BAR_SLOTS];
  MachineTestdev testdev;
  bool testdev_ready;

  /* Boot image, kept for reset. */
  GBytes *kernel, *initrd, *guest_elf;
  BootDisplayInfo display;
  bool has_display;

  /* Control: ctl_lock orders after the device lock. */
  GMutex ctl_lock;
  GCond ctl_cond;
  unsigned user_pause;  /* machine_pause nesting */
  bool event_hold;      /* vCPUs park while the control thread handles an event */
  bool stop;            /* vCPU threads exit */
  unsigned parked;      /* vCPU threads waiting in the park loop */
  unsigned events;      /* MACHINE_EVENT_* */
  int exit_status;
  char *exit_message;
  MachineState state;
  bool started;

  MachineStateFn state_fn;
  void *state_opaque;
};

/* machine-io.c */
void machine_io_init (Machine *m);
void machine_vcpu_host (MachineVcpu *v, VcpuHost *host);

/* machine-run.c */
void machine_post_event (Machine *m, unsigned event, int status, char *message);
void machine_notify (Machine *m, MachineState state, bool reset);

/* machine.c */
bool machine_load_boot_image (Machine *m, GError **error);
void machine_reset_devices (Machine *m);
