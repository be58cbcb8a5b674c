#include "hostdrv/host-caps.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static bool
module_loaded (const char *sysfs_root, const char *name)
{
  g_autofree char *path = g_build_filename (sysfs_root, "module", name, NULL);
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

void
host_caps_probe (HostCaps *caps, const char *sysfs_root, const char *dev_path)
{
  memset (caps, 0, sizeof *caps);
  caps->api_version = -1;
  caps->kind = HOST_KVM_NONE;
  if (!sysfs_root)
    sysfs_root = "/sys";
  if (!dev_path)
    dev_path = "/dev/kvm";

  caps->dev_present = g_file_test (dev_path, G_FILE_TEST_EXISTS);
  if (!caps->dev_present)
    {
      caps->problem = g_strdup_printf ("%s does not exist (no KVM module loaded)", dev_path);
      return;
    }
  int fd = open (dev_path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      if (e == EACCES || e == EPERM)
        caps->problem = g_strdup_printf ("no permission to open %s (join the 'kvm' group)",
                                         dev_path);
      else
        caps->problem = g_strdup_printf ("cannot open %s: %s", dev_path, g_strerror (e));
      return;
    }
  caps->dev_openable = true;
  caps->api_version = ioctl (fd, KVM_GET_API_VERSION, 0);
  close (fd);
  if (caps->api_version != KVM_API_VERSION)
    {
      caps->problem = g_strdup_printf ("%s speaks KVM API %d, not %d", dev_path,
                                       caps->api_version, KVM_API_VERSION);
      return;
    }
  /* PVM first: a host can have kvm_intel loaded for its own use and still
   * hand its guests only PVM (nested, no VMX exposed). */
  if (module_loaded (sysfs_root, "kvm_pvm"))
    caps->kind = HOST_KVM_PVM;
  else if (module_loaded (sysfs_root, "kvm_intel") || module_loaded (sysfs_root, "kvm_amd"))
    caps->kind = HOST_KVM_HARDWARE;
  else
    {
      /* /dev/kvm works but no vendor module we know: assume hardware. */
      caps->kind = HOST_KVM_HARDWARE;
    }
}

void
host_caps_clear (HostCaps *caps)
{
  g_clear_pointer (&caps->problem, g_free);
}

EngineKind
host_choose_engine (const HostCaps *caps, EngineKind requested, bool soft_available,
                    char **why)
{
  bool kvm_usable = caps->dev_openable && caps->problem == NULL;

  switch (requested)
    {
    case ENGINE_KIND_KVM:
      if (!kvm_usable)
        {
          *why = g_strdup_printf ("KVM requested but %s", caps->problem);
          return ENGINE_KIND_AUTO;
        }
      *why = g_strdup (caps->kind == HOST_KVM_PVM
                           ? "kvm (forced; KVM-PVM host: stock guest kernels run slowly)"
                           : "kvm (forced)");
      return ENGINE_KIND_KVM;
    case ENGINE_KIND_SOFT:
      if (!soft_available)
        {
          *why = g_strdup ("software engine requested but not built into this vireo-vmx");
          return ENGINE_KIND_AUTO;
        }
      *why = g_strdup ("soft (forced)");
      return ENGINE_KIND_SOFT;
    case ENGINE_KIND_AUTO:
    default:
      break;
    }

  if (kvm_usable && caps->kind == HOST_KVM_HARDWARE)
    {
      *why = g_strdup ("kvm (hardware-assisted KVM)");
      return ENGINE_KIND_KVM;
    }
  const char *reason = kvm_usable
                           ? "KVM-PVM host: stock guest kernels cannot run at speed under KVM here"
                           : caps->problem;
  if (!soft_available)
    {
      if (kvm_usable)
        {
          *why = g_strdup_printf ("kvm (%s, but the software engine is not built yet)", reason);
          return ENGINE_KIND_KVM;
        }
      *why = g_strdup_printf ("no engine can run: %s, and the software engine is not built",
                              reason);
      return ENGINE_KIND_AUTO;
    }
  *why = g_strdup_printf ("soft (%s)", reason);
  return ENGINE_KIND_SOFT;
}

bool
engine_kind_parse (const char *text, EngineKind *kind)
{
  if (g_strcmp0 (text, "auto") == 0)
    *kind = ENGINE_KIND_AUTO;
  else if (g_strcmp0 (text, "kvm") == 0)
    *kind = ENGINE_KIND_KVM;
  else if (g_strcmp0 (text, "soft") == 0)
    *kind = ENGINE_KIND_SOFT;
  else
    return false;
  return true;
}
