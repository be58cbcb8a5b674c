/* VireoVmConfig: the `.vireo` key file of one virtual machine (like a .vmx). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIREO_VM_CONFIG_ERROR (vireo_vm_config_error_quark ())

typedef enum {
  VIREO_VM_CONFIG_ERROR_PARSE,         /* not a key file, or not UTF-8 */
  VIREO_VM_CONFIG_ERROR_MISSING_KEY,   /* a required key is absent */
  VIREO_VM_CONFIG_ERROR_INVALID_VALUE, /* a key has a value out of range */
} VireoVmConfigError;

#define VIREO_GUEST_TYPE_LINUX_DIRECT "linux-direct"

/* Limits the wizard and the parser share. */
#define VIREO_VM_NAME_MAX 64
#define VIREO_VM_MEMORY_MIN_MIB 16
#define VIREO_VM_MEMORY_MAX_MIB 65536
#define VIREO_VM_CPUS_MAX 64
#define VIREO_VM_DISK_MAX_GIB 16384
#define VIREO_VM_DISPLAY_MIN_W 320
#define VIREO_VM_DISPLAY_MIN_H 200
#define VIREO_VM_DISPLAY_MAX 8192

typedef struct {
  char *name;
  char *guest_type;   /* VIREO_GUEST_TYPE_* */
  char *kernel;       /* linux-direct: bzImage path */
  char *initrd;       /* optional */
  char *cmdline;      /* optional */
  guint memory_mib;
  guint cpus;
  guint disk_gib;     /* 0: no disk */
  guint display_width;
  guint display_height;
  char *engine;       /* "auto", "kvm" or "soft" */
} VireoVmConfig;

GQuark         vireo_vm_config_error_quark (void);
VireoVmConfig *vireo_vm_config_new_default (const char *name);
VireoVmConfig *vireo_vm_config_copy (const VireoVmConfig *config);
void           vireo_vm_config_free (VireoVmConfig *config);

VireoVmConfig *vireo_vm_config_parse (const char *data, gsize length, GError **error);
VireoVmConfig *vireo_vm_config_load (const char *path, GError **error);
gboolean       vireo_vm_config_validate (const VireoVmConfig *config, GError **error);
char          *vireo_vm_config_serialize (const VireoVmConfig *config);
gboolean       vireo_vm_config_save (const VireoVmConfig *config, const char *path,
                                     GError **error);

gboolean vireo_vm_name_is_valid (const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VireoVmConfig, vireo_vm_config_free)

G_END_DECLS
