/* A bare software CPU for tests: one vCPU in 64-bit mode over flat RAM.
 *
 * Differential tests (host CPU vs engine) and unit tests use it to run single
 * instructions on the engine's real execution path: the same decoder,
 * handlers, MMU and exception delivery a booted guest uses.
 *
 * State after cpu_sandbox_new(): long mode, CPL 0, flat 64-bit code and data
 * segments, identity-mapped 4-level paging (2 MiB pages, RW, user, executable)
 * over the first mem_size bytes of guest-physical RAM, CR0.PE|PG|NE|MP, CR4
 * PAE|OSFXSR|OSXMMEXCPT, EFER LME|LMA|NXE|SCE, RFLAGS 0x2 (interrupts off),
 * RSP at the top of RAM, RIP 0. The page tables live in the last 64 KiB of
 * RAM (do not overwrite them), so size mem_size at least 1 MiB. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vmm-core/cpu-state.h"

typedef struct CpuSandbox CpuSandbox;

CpuSandbox *cpu_sandbox_new (size_t mem_size);
void cpu_sandbox_free (CpuSandbox *sb);

/* Host pointer to guest-physical (= linear) address 0. */
uint8_t *cpu_sandbox_mem (CpuSandbox *sb);

/* The architectural state; read or modify it freely between steps
 * (including fxsave[]). Changes to CR0/CR3/CR4/EFER or segments take effect
 * at the next step (the sandbox flushes its TLB before every step). */
CpuState *cpu_sandbox_state (CpuSandbox *sb);

/* Executes exactly one instruction at state->rip. Returns -1 when it
 * completed, or the exception vector it raised; the state is then as the CPU
 * left it before delivery (RIP at the faulting instruction, CR2 set for #PF)
 * and cpu_sandbox_error_code() gives the error code. No delivery through the
 * IDT happens in the sandbox. */
int cpu_sandbox_step (CpuSandbox *sb);

/* Error code of the last exception cpu_sandbox_step() returned (0 if it has none). */
uint32_t cpu_sandbox_error_code (CpuSandbox *sb);
