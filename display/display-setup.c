/* Wiring of the display device, hub and front ends for vireo-vmx. */
#include "display/display-setup.h"

#include <string.h>
#include <gio/gio.h>

DisplaySetup *
display_setup_new (PciHost *pci, IoBus *pio, GMutex *device_lock, I8042 *kbc,
                   const DisplaySetupOptions *opts, GError **error)
{
  const char *mode = opts->display ? opts->display : "none";
  if (strcmp (mode, "sdl") != 0 && strcmp (mode, "none") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--display: expected 'sdl' or 'none', not '%s'", mode);
      return NULL;
    }

  DisplaySetup *ds = g_new0 (DisplaySetup, 1);
  ds->device_lock = device_lock;
  if (opts->spice && !spice_options_parse (opts->spice, &ds->spice_opts, error))
    {
      g_free (ds);
      return NULL;
    }
  if (!bochs_display_init (&ds->device, pio, &opts->device, error))
    {
      spice_options_clear (&ds->spice_opts);
      g_free (ds);
      return NULL;
    }

  uint32_t vram_bar = opts->vram_bar ? opts->vram_bar : 0xc0000000u;
  uint32_t mmio_bar = opts->mmio_bar ? opts->mmio_bar : vram_bar + (uint32_t)ds->device.vram_size;
  g_mutex_lock (device_lock);
  bool ok = pci_host_add_device (pci, &ds->device.pci, -1, 0, error);
  if (ok && !bochs_display_assign_bars (&ds->device, vram_bar, mmio_bar))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "display: BAR addresses %#x / %#x are not aligned", vram_bar, mmio_bar);
      ok = false;
    }
  g_mutex_unlock (device_lock);
  if (!ok)
    {
      /* Not plugged in (or plugged in unusable): the caller gives up on the
       * machine anyway, so only our own resources need freeing. */
      bochs_display_destroy (&ds->device);
      spice_options_clear (&ds->spice_opts);
      g_free (ds);
      return NULL;
    }

  DisplaySource src = bochs_display_source (&ds->device);
  ds->hub = vmm_display_new (&src, device_lock, opts->refresh_hz);
  vmm_display_start (ds->hub);
  const InputSink *sink = NULL;
  if (kbc)
    {
      i8042_sink_init (&ds->sink, kbc, device_lock);
      sink = &ds->sink.sink;
    }

  if (strcmp (mode, "sdl") == 0)
    {
      ds->sdl = sdl_window_new (ds->hub, sink, opts->title ? opts->title : "Vireo", error);
      if (!ds->sdl)
        goto fail;
    }
  if (opts->spice)
    {
      ds->spice = spice_display_new (ds->hub, sink, &ds->spice_opts, error);
      if (!ds->spice)
        goto fail;
    }
  return ds;

fail:
  /* The device is plugged into the host bridge, which has no unplug: it
   * stays (the caller gives up on the machine); only the rest goes. */
  display_setup_stop (ds);
  spice_options_clear (&ds->spice_opts);
  return NULL;
}

void
display_setup_stop (DisplaySetup *ds)
{
  if (!ds)
    return;
  g_clear_pointer (&ds->sdl, sdl_window_free);
  g_clear_pointer (&ds->spice, spice_display_free);
  if (ds->hub)
    {
      vmm_display_stop (ds->hub);
      g_clear_pointer (&ds->hub, vmm_display_free);
    }
  /* The port bus goes with the machine: leave it now. */
  if (ds->device.pio)
    {
      g_mutex_lock (ds->device_lock);
      io_bus_unregister (ds->device.pio, BOCHS_DISPI_IOPORT_INDEX, &ds->device);
      ds->device.pio = NULL;
      g_mutex_unlock (ds->device_lock);
    }
}

void
display_setup_free (DisplaySetup *ds)
{
  if (!ds)
    return;
  display_setup_stop (ds);
  spice_options_clear (&ds->spice_opts);
  /* The PCI function is part of the host bridge until the machine goes:
   * free this only after machine_free (display_setup_stop before it). The
   * device lock may be gone by now: touch nothing of the machine's. */
  bochs_display_destroy (&ds->device);
  g_free (ds);
}

bool
display_setup_boot_info (DisplaySetup *ds, BootDisplayInfo *out)
{
  g_mutex_lock (ds->device_lock);
  bool ok = bochs_display_boot_info (&ds->device, out);
  g_mutex_unlock (ds->device_lock);
  return ok;
}

VmmDisplay *
display_setup_hub (DisplaySetup *ds)
{
  return ds->hub;
}
