/* Host detection and --engine auto|kvm|soft. */
#include <string.h>
#include <glib/gstdio.h>

#include "hostdrv/host-caps.h"

static HostCaps
caps (HostKvmKind kind, bool usable)
{
  HostCaps c = { .kind = kind, .dev_present = usable, .dev_openable = usable,
                 .api_version = usable ? 12 : -1,
                 .problem = usable ? NULL : (char *) "no permission to open /dev/kvm" };
  return c;
}

static void
check (HostCaps c, EngineKind req, bool soft, EngineKind want, const char *fragment)
{
  g_autofree char *why = NULL;
  EngineKind got = host_choose_engine (&c, req, soft, &why);
  g_assert_cmpint (got, ==, want);
  g_assert_nonnull (why);
  g_assert_null (strchr (why, '\n'));
  if (!strstr (why, fragment))
    g_error ("reason '%s' lacks '%s'", why, fragment);
}

static void
test_choice (void)
{
  check (caps (HOST_KVM_HARDWARE, true), ENGINE_KIND_AUTO, true, ENGINE_KIND_KVM, "hardware");
  check (caps (HOST_KVM_PVM, true), ENGINE_KIND_AUTO, true, ENGINE_KIND_SOFT, "KVM-PVM");
  check (caps (HOST_KVM_PVM, true), ENGINE_KIND_KVM, true, ENGINE_KIND_KVM, "forced");
  check (caps (HOST_KVM_NONE, false), ENGINE_KIND_AUTO, true, ENGINE_KIND_SOFT, "permission");
  check (caps (HOST_KVM_NONE, false), ENGINE_KIND_KVM, true, ENGINE_KIND_AUTO, "permission");
  check (caps (HOST_KVM_HARDWARE, true), ENGINE_KIND_SOFT, true, ENGINE_KIND_SOFT, "forced");
  check (caps (HOST_KVM_HARDWARE, true), ENGINE_KIND_SOFT, false, ENGINE_KIND_AUTO, "not built");
  check (caps (HOST_KVM_PVM, true), ENGINE_KIND_AUTO, false, ENGINE_KIND_KVM, "not built");
  check (caps (HOST_KVM_NONE, false), ENGINE_KIND_AUTO, false, ENGINE_KIND_AUTO, "no engine");
}

static void
test_probe_missing_device (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vireo-caps-XXXXXX", NULL);
  g_autofree char *dev = g_build_filename (dir, "kvm", NULL);
  HostCaps c;
  host_caps_probe (&c, dir, dev);
  g_assert_cmpint (c.kind, ==, HOST_KVM_NONE);
  g_assert_false (c.dev_present);
  g_assert_nonnull (strstr (c.problem, "does not exist"));
  host_caps_clear (&c);
  g_rmdir (dir);
}

static void
test_probe_not_kvm (void)
{
  /* A device node that is not KVM: /dev/null opens, the API ioctl fails. */
  g_autofree char *dir = g_dir_make_tmp ("vireo-caps-XXXXXX", NULL);
  HostCaps c;
  host_caps_probe (&c, dir, "/dev/null");
  g_assert_true (c.dev_present);
  g_assert_true (c.dev_openable);
  g_assert_cmpint (c.kind, ==, HOST_KVM_NONE);
  g_assert_nonnull (strstr (c.problem, "API"));
  host_caps_clear (&c);
  g_rmdir (dir);
}

static void
test_probe_real_host (void)
{
  HostCaps c;
  host_caps_probe (&c, NULL, NULL);
  if (!c.dev_openable)
    {
      g_test_skip (c.problem);
      host_caps_clear (&c);
      return;
    }
  g_assert_cmpint (c.api_version, ==, 12);
  gboolean pvm = g_file_test ("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR);
  g_assert_cmpint (c.kind, ==, pvm ? HOST_KVM_PVM : HOST_KVM_HARDWARE);
  host_caps_clear (&c);
}

static void
test_parse (void)
{
  EngineKind k;
  g_assert_true (engine_kind_parse ("kvm", &k));
  g_assert_cmpint (k, ==, ENGINE_KIND_KVM);
  g_assert_true (engine_kind_parse ("soft", &k));
  g_assert_cmpint (k, ==, ENGINE_KIND_SOFT);
  g_assert_true (engine_kind_parse ("auto", &k));
  g_assert_cmpint (k, ==, ENGINE_KIND_AUTO);
  g_assert_false (engine_kind_parse ("KVM", &k));
  g_assert_false (engine_kind_parse ("", &k));
  g_assert_false (engine_kind_parse (NULL, &k));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine-choice/choice", test_choice);
  g_test_add_func ("/engine-choice/probe-missing-device", test_probe_missing_device);
  g_test_add_func ("/engine-choice/probe-not-kvm", test_probe_not_kvm);
  g_test_add_func ("/engine-choice/probe-real-host", test_probe_real_host);
  g_test_add_func ("/engine-choice/parse", test_parse);
  return g_test_run ();
}
