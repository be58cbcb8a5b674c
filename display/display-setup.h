/* vireo-vmx's display and input front ends in one call.
 *
 * Builds the Bochs display on the PCI host (BARs assigned as firmware would,
 * so direct-booted Linux gets screen_info), the display hub, an i8042 input
 * sink, and the consumers the command line asks for:
 *   --display sdl|none       an SDL window (none: headless)
 *   --spice unix=PATH | port=N[,addr=HOST][,password=SECRET]
 * The app's shared-memory export attaches to display_setup_hub() later.
 *
 * Use (vireo-vmx, before machine_start, device lock NOT held):
 *   DisplaySetup *ds = display_setup_new (machine_pci (m), machine_pio (m),
 *                                         machine_device_lock (m), &kbc, &opts, &error);
 *   BootDisplayInfo bi;
 *   if (display_setup_boot_info (ds, &bi))
 *     { machine_set_boot_display (m, &bi); machine_reload_boot_image (m, &error); }
 *   ...
 *   display_setup_stop (ds);   // front ends and hub (they take the device lock)
 *   machine_free (m);          // the PCI host still refers to the device
 *   display_setup_free (ds); */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "display/bochs-display.h"
#include "display/sdl-window.h"
#include "display/spice-display.h"
#include "display/vmm-display.h"
#include "input/i8042.h"
#include "input/input-sink.h"
#include "vmm-core/platform/pci-host.h"

typedef struct DisplaySetupOptions
{
  const char *display;       /* "sdl", "none", or NULL (= none) */
  const char *spice;         /* the --spice argument, or NULL */
  BochsDisplayConfig device; /* zeros: 1024x768x32, 16 MiB */
  uint32_t vram_bar;         /* 0: 0xC0000000 */
  uint32_t mmio_bar;         /* 0: right after the VRAM BAR */
  unsigned refresh_hz;       /* 0: 60 */
  const char *title;         /* window title (the VM's name) */
} DisplaySetupOptions;

typedef struct DisplaySetup
{
  BochsDisplay device;
  VmmDisplay *hub;
  I8042Sink sink;
  SdlWindow *sdl;
  SpiceDisplay *spice;
  SpiceOptions spice_opts;
  GMutex *device_lock;
} DisplaySetup;

/* kbc may be NULL (no keyboard/mouse). One-line error on bad options or
 * when a front end cannot start; nothing is left half-built. */
DisplaySetup *display_setup_new (PciHost *pci, IoBus *pio, GMutex *device_lock, I8042 *kbc,
                                 const DisplaySetupOptions *opts, GError **error);
/* Closes the window and the SPICE server, stops the hub and leaves the
 * port bus (device lock not held). */
void display_setup_stop (DisplaySetup *ds);
/* Stops (if needed) and frees the device; after machine_free. */
void display_setup_free (DisplaySetup *ds);
/* screen_info data for machine_set_boot_display; false if the mode cannot
 * be described as a VESA LFB. */
bool display_setup_boot_info (DisplaySetup *ds, BootDisplayInfo *out);
VmmDisplay *display_setup_hub (DisplaySetup *ds);
