/* Native execution for the differential tests (see diff-host.h). Faults of
 * the instruction under test (#DE, #GP from misalignment...) come back as
 * signals, caught with sigsetjmp so the run reports them instead of dying. */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "diff-host.h"

void diff_trampoline (DiffRegs *regs, void *code);
void diff_fx_trampoline (void *fximg, void *code, uint64_t io[3]);

static uint8_t *code_page, *data_page;
static bool code_rwx;
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_signal;

static void
on_fault (int sig)
{
  fault_signal = sig;
  siglongjmp (fault_jmp, 1);
}

bool
diff_host_init (const char **why)
{
  if (code_page)
    return true;
  code_page = mmap ((void *) (uintptr_t) DIFF_CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  code_rwx = code_page != MAP_FAILED;
  if (!code_rwx)
    code_page = mmap ((void *) (uintptr_t) DIFF_CODE_ADDR, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  data_page = mmap ((void *) (uintptr_t) DIFF_DATA_ADDR, DIFF_DATA_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code_page == MAP_FAILED || data_page == MAP_FAILED
      || code_page != (void *) (uintptr_t) DIFF_CODE_ADDR
      || data_page != (void *) (uintptr_t) DIFF_DATA_ADDR)
    {
      *why = "cannot map the fixed code/data pages for native execution";
      code_page = NULL;
      return false;
    }
  return true;
}

uint8_t *
diff_host_data (void)
{
  return data_page;
}

static int run_code (DiffRegs *regs, void *fximg, uint64_t io[3], const uint8_t *code,
                     unsigned len);

int
diff_host_run (DiffRegs *regs, const uint8_t *code, unsigned len)
{
  return run_code (regs, NULL, NULL, code, len);
}

int
diff_host_run_fx (void *fximg, uint64_t io[3], const uint8_t *code, unsigned len)
{
  return run_code (NULL, fximg, io, code, len);
}

static int
run_code (DiffRegs *regs, void *fximg, uint64_t io[3], const uint8_t *code, unsigned len)
{
  struct sigaction sa = { .sa_handler = on_fault, .sa_flags = SA_NODEFER }, old[4];
  static const int sigs[4] = { SIGFPE, SIGSEGV, SIGBUS, SIGILL };
  DiffRegs saved;

  if (regs)
    saved = *regs;

  if (!code_rwx)
    mprotect (code_page, 4096, PROT_READ | PROT_WRITE);
  memcpy (code_page, code, len);
  code_page[len] = 0xc3; /* RET */
  if (!code_rwx)
    mprotect (code_page, 4096, PROT_READ | PROT_EXEC);

  for (unsigned i = 0; i < 4; i++)
    sigaction (sigs[i], &sa, &old[i]);
  fault_signal = 0;
  if (sigsetjmp (fault_jmp, 1) == 0)
    {
      if (regs)
        diff_trampoline (regs, code_page);
      else
        diff_fx_trampoline (fximg, code_page, io);
    }
  else
    {
      /* The trampoline never finished: put the host MXCSR and x87 back. */
      unsigned m = 0x1f80;
      asm volatile ("fninit\n\tldmxcsr %0\n\tcld" : : "m"(m));
      if (regs)
        *regs = saved;
    }
  for (unsigned i = 0; i < 4; i++)
    sigaction (sigs[i], &old[i], NULL);
  return fault_signal ? fault_signal : -1;
}

uint32_t
diff_host_mxcsr_mask (void)
{
  static uint8_t img[512] __attribute__ ((aligned (16)));
  uint32_t mask;

  asm volatile ("fxsave %0" : "=m"(img));
  memcpy (&mask, img + 28, 4);
  return mask ? mask : 0xffbf;
}
