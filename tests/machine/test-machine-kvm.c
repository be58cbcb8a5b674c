/* The machine under KVM with a guest that counts in RAM: pause stops it,
 * state get/set round-trips, dirty logging sees its page, power-off ends
 * machine_run with status 0. Skips without a usable /dev/kvm. */
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "hostdrv/host-caps.h"
#include "vmm-core/machine.h"
#include "vmm-core/snapshot-stream.h"

#define COUNTER_GPA 0x400000

typedef struct {
  GMutex lock;
  unsigned paused, running, stopped;
} StateLog;

static void
on_state (Machine *m, MachineState s, bool reset, void *opaque)
{
  StateLog *l = opaque;
  g_mutex_lock (&l->lock);
  if (s == MACHINE_STATE_PAUSED)
    l->paused++;
  else if (s == MACHINE_STATE_RUNNING)
    l->running++;
  else if (s == MACHINE_STATE_STOPPED)
    l->stopped++;
  g_mutex_unlock (&l->lock);
}

static bool
kvm_usable (void)
{
  HostCaps c;
  host_caps_probe (&c, NULL, NULL);
  bool ok = c.problem == NULL;
  if (!ok)
    g_test_skip (c.problem);
  host_caps_clear (&c);
  return ok;
}

static uint64_t
counter (Machine *m)
{
  return *(volatile uint64_t *) guest_ram_ptr (machine_ram (m), COUNTER_GPA, 8);
}

/* The engine's guest clock (KVM: the "kvm.clock" section), in ns. */
static uint64_t
engine_clock (Machine *m)
{
  Engine *e = machine_engine (m);
  SnapWriter *w = snap_writer_new ();
  e->ops->save_platform (e, w);
  GBytes *b = snap_writer_finish (w);
  SnapReader *r = snap_reader_new (b, NULL);
  uint32_t version;
  g_assert_true (snap_reader_open (r, "kvm.clock", 1, &version, NULL));
  uint64_t ns = snap_get_u64 (r);
  snap_reader_free (r);
  g_bytes_unref (b);
  return ns;
}

static gpointer
run_thread (gpointer data)
{
  return GINT_TO_POINTER (machine_run (data));
}

static void
test_pause_state_dirty (void)
{
  if (!kvm_usable ())
    return;
  const char *guest = g_getenv ("VIREO_GUEST_COUNTER");
  g_assert_nonnull (guest);

  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  MachineConfig cfg = { .ram_size = 64 << 20, .cpus = 2, .guest_elf = guest, .serial = "none",
                        .engine = ENGINE_KIND_KVM, .test_device = true };
  Machine *m = machine_new (&cfg, &why, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
  StateLog log = { 0 };
  g_mutex_init (&log.lock);
  machine_set_state_callback (m, on_state, &log);

  g_assert_true (machine_dirty_log_start (m, &error));
  g_assert_no_error (error);
  g_assert_true (machine_start (m, &error));
  GThread *runner = g_thread_new ("run", run_thread, m);

  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (counter (m) < 1000 && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_cmpuint (counter (m), >=, 1000);

  /* Paused: the counter stands still. */
  machine_pause (m);
  machine_pause (m); /* nests */
  g_assert_cmpint (machine_get_state (m), ==, MACHINE_STATE_PAUSED);
  uint64_t c1 = counter (m);
  uint64_t clock1 = engine_clock (m);
  g_usleep (100000);
  g_assert_cmpuint (counter (m), ==, c1);
  /* kvmclock keeps host time; the machine freezes it for the pause. After
   * resume the guest clock continues from where it stopped. */
  machine_resume (m); /* still paused once */
  g_usleep (50000);
  g_assert_cmpuint (counter (m), ==, c1);

  /* State of the BSP: 64-bit code inside the image; a set/get round trip. */
  g_autofree CpuState *s = g_new0 (CpuState, 1);
  g_autofree CpuState *s2 = g_new0 (CpuState, 1);
  g_assert_true (machine_get_cpu_state (m, 0, s, &error));
  g_assert_no_error (error);
  g_assert_cmphex (s->rip, >=, 0x100000);
  g_assert_cmphex (s->rip, <, 0x110000);
  g_assert_cmpuint (s->seg[CPU_SEG_CS].l, ==, 1);
  g_assert_cmphex (s->efer & 0x400, ==, 0x400);
  g_assert_cmphex (s->apic_base & 0xfffff000, ==, 0xfee00000);
  g_assert_cmpuint (s->mp_state, ==, CPU_MP_RUNNABLE);
  g_assert_true (machine_set_cpu_state (m, 0, s, &error));
  g_assert_no_error (error);
  g_assert_true (machine_get_cpu_state (m, 0, s2, &error));
  g_assert_cmphex (s2->rip, ==, s->rip);
  g_assert_cmpmem (s2->regs, sizeof s2->regs, s->regs, sizeof s->regs);
  g_assert_cmphex (s2->cr3, ==, s->cr3);
  g_assert_cmpmem (s2->fxsave, 512, s->fxsave, 512);
  g_assert_cmphex (s2->pat, ==, s->pat);

  /* The AP never got a SIPI: it still waits for one. */
  g_assert_true (machine_get_cpu_state (m, 1, s2, &error));
  g_assert_cmpuint (s2->mp_state, ==, CPU_MP_INIT_RECEIVED);

  /* Dirty log: the counter's page (and the stack) were written. */
  size_t words = ((64 << 20) / 4096 + 63) / 64;
  g_autofree uint64_t *bits = g_new0 (uint64_t, words);
  g_assert_true (machine_dirty_log_fetch (m, bits, &error));
  g_assert_no_error (error);
  unsigned page = COUNTER_GPA >> 12;
  g_assert_true (bits[page / 64] >> (page % 64) & 1);
  /* Fetched means cleared; nothing runs while paused. */
  g_assert_true (machine_dirty_log_fetch (m, bits, &error));
  g_assert_false (bits[page / 64] >> (page % 64) & 1);

  machine_resume (m);
  uint64_t clock2 = engine_clock (m);
  g_assert_cmpuint (clock2, >=, clock1);
  g_assert_cmpuint (clock2 - clock1, <, 100000000); /* the 150 ms paused do not count */
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (counter (m) == c1 && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_cmpuint (counter (m), >, c1);

  /* Save the state (and RAM, as a snapshot would), run on, restore: the
   * guest is back where it was and continues from there. */
  machine_pause (m);
  GuestRam *ram = machine_ram (m);
  g_autofree uint8_t *ram_copy = g_memdup2 (ram->host, ram->size);
  uint64_t c_saved = counter (m);
  g_assert_true (machine_get_cpu_state (m, 0, s, &error));
  GBytes *state = machine_save_state (m, &error);
  g_assert_no_error (error);
  g_assert_nonnull (state);
  machine_resume (m);
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (counter (m) < c_saved + 100000 && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  machine_pause (m);
  g_assert_cmpuint (counter (m), >=, c_saved + 100000);
  memcpy (ram->host, ram_copy, ram->size);
  g_assert_true (machine_load_state (m, state, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counter (m), ==, c_saved);
  g_assert_true (machine_get_cpu_state (m, 0, s2, &error));
  g_assert_cmphex (s2->rip, ==, s->rip);
  g_assert_cmpmem (s2->regs, sizeof s2->regs, s->regs, sizeof s->regs);
  g_assert_cmpuint (s2->mp_state, ==, s->mp_state);
  /* A state for another shape of machine is refused. */
  GBytes *junk = g_bytes_new_static ("nonsense", 8);
  g_assert_false (machine_load_state (m, junk, NULL));
  g_bytes_unref (junk);
  g_bytes_unref (state);
  machine_resume (m);
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (counter (m) <= c_saved && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_cmpuint (counter (m), >, c_saved);

  machine_request_poweroff (m);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (runner)), ==, MACHINE_EXIT_POWEROFF);
  g_assert_cmpint (machine_get_state (m), ==, MACHINE_STATE_STOPPED);
  g_assert_cmpuint (log.paused, ==, 3);
  g_assert_cmpuint (log.running, ==, 4); /* start, three resumes */
  g_assert_cmpuint (log.stopped, ==, 1);
  machine_free (m);
  g_mutex_clear (&log.lock);
}

static void
test_power_button (void)
{
  if (!kvm_usable ())
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vireo-pwrbtn-XXXXXX", NULL);
  g_autofree char *serial_path = g_build_filename (dir, "serial", NULL);
  g_autofree char *serial = g_strconcat ("file:", serial_path, NULL);
  MachineConfig cfg = { .ram_size = 64 << 20, .cpus = 1,
                        .guest_elf = g_getenv ("VIREO_GUEST_POWER_BUTTON"), .serial = serial,
                        .engine = ENGINE_KIND_KVM, .test_device = true };
  Machine *m = machine_new (&cfg, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (machine_start (m, &error));
  GThread *runner = g_thread_new ("run", run_thread, m);

  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  bool waiting = false;
  while (!waiting && g_get_monotonic_time () < deadline)
    {
      g_autofree char *text = NULL;
      waiting = g_file_get_contents (serial_path, &text, NULL, NULL)
                && strstr (text, "waiting for the power button");
      if (!waiting)
        g_usleep (10000);
    }
  g_assert_true (waiting);
  g_assert_true (machine_press_power_button (m)); /* the guest listens */
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (runner)), ==, MACHINE_EXIT_POWEROFF);

  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (serial_path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "pressed, shutting down"));
  machine_free (m);
  g_unlink (serial_path);
  g_rmdir (dir);
}

static void
test_bad_input (void)
{
  g_autoptr (GError) error = NULL;
  MachineConfig cfg = { .ram_size = 64 << 20, .cpus = 1, .kernel = "/nonexistent/bzImage",
                        .serial = "none", .engine = ENGINE_KIND_KVM };
  g_assert_null (machine_new (&cfg, NULL, &error));
  g_assert_nonnull (strstr (error->message, "cannot read kernel"));
  g_clear_error (&error);

  cfg.kernel = "/dev/null";
  g_assert_null (machine_new (&cfg, NULL, &error));
  g_assert_nonnull (strstr (error->message, "not a bzImage"));
  g_clear_error (&error);

  cfg.kernel = NULL;
  cfg.guest_elf = g_getenv ("VIREO_GUEST_COUNTER");
  cfg.ram_size = 1ull << 50;
  g_assert_null (machine_new (&cfg, NULL, &error));
  g_assert_nonnull (strstr (error->message, "more than the host"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/machine-kvm/pause-state-dirty", test_pause_state_dirty);
  g_test_add_func ("/machine-kvm/power-button", test_power_button);
  g_test_add_func ("/machine-kvm/bad-input", test_bad_input);
  return g_test_run ();
}
