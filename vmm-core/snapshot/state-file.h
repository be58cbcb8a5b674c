/* The memory + device state file of a snapshot or a suspended VM.
 *
 * Layout (all integers little-endian):
 *   [0, 4096)          header: magic "VIREOSTA", format version, flags, host
 *                      page size, RAM size and layout, vCPU count, the engine
 *                      that saved it, creation time, section offsets, and a
 *                      SHA-256 over the header, the device blob and the RAM
 *                      hash table
 *   device section     the machine's device+CPU state stream (GBytes)
 *   RAM hash table     one 64-bit hash per 2 MiB chunk of RAM
 *   RAM image          page-aligned, memfd order (low RAM then high RAM);
 *                      all-zero pages are holes, so the file is sparse
 *
 * Written to "<path>.tmp-XXXXXX", fsynced, then renamed: a crash never
 * leaves a half-written file under the final name. Opening verifies the
 * header, device blob and hash table; RAM chunk hashes are verified before a
 * single byte of guest RAM is written, so a refused file changes nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/guest-ram.h"

#define STATE_FILE_MAGIC "VIREOSTA"
#define STATE_FILE_VERSION 1
#define STATE_FILE_HEADER_SIZE 4096u
#define STATE_FILE_CHUNK_SIZE (2u << 20)

typedef enum {
  STATE_FILE_FLAG_SUSPEND = 1 << 0, /* suspend-to-disk rather than a snapshot */
} StateFileFlags;

typedef struct StateFileInfo {
  uint32_t version;
  uint32_t flags;
  uint32_t page_size;
  uint32_t cpus;
  uint64_t ram_size;
  uint64_t low_size;
  uint64_t high_size;
  int64_t created; /* Unix time, seconds */
  char engine[32]; /* "kvm", "soft" */
} StateFileInfo;

/* How RAM goes from the file into the memfd (see bench/snapshot-revert). */
typedef enum {
  STATE_LOAD_PREAD,           /* pread into the RAM mapping */
  STATE_LOAD_MMAP,            /* map the file and copy from the mapping */
  STATE_LOAD_COPY_FILE_RANGE, /* copy_file_range into the memfd (pread where unsupported) */
} StateLoadMethod;

typedef struct StateFile StateFile;

/* Writes RAM (ram->host, ram->size) and device_state to path, replacing
 * an existing file only once the new one is complete and durable. flags,
 * cpus and engine are taken from the arguments; sizes from ram. */
bool state_file_write (const char *path, const GuestRam *ram, GBytes *device_state,
                       unsigned cpus, const char *engine, uint32_t flags, GError **error);
/* The same, without fsync: the file is complete under its final name (a
 * process crash cannot lose it) but a power loss may leave it partial,
 * which its checksums then refuse. For the pause of a live snapshot; call
 * state_file_sync once the VM runs again. */
bool state_file_write_nosync (const char *path, const GuestRam *ram, GBytes *device_state,
                              unsigned cpus, const char *engine, uint32_t flags,
                              GError **error);
bool state_file_sync (const char *path, GError **error);

/* Opens and checks the header, the device blob and the RAM hash table. A
 * foreign, newer, truncated or corrupt file fails with a one-line message. */
StateFile *state_file_open (const char *path, GError **error);
void state_file_close (StateFile *sf);

const StateFileInfo *state_file_get_info (StateFile *sf);
GBytes *state_file_get_device_state (StateFile *sf); /* a new reference */

/* False with a message unless the file fits a VM with this RAM layout and
 * vCPU count. */
bool state_file_check_machine (StateFile *sf, uint64_t ram_size, uint64_t low_size,
                               uint64_t high_size, unsigned cpus, GError **error);

/* Hashes every RAM chunk in the file against the table. */
bool state_file_verify_ram (StateFile *sf, GError **error);

/* Copies the RAM image into ram (which must match the file's layout). With
 * verify, state_file_verify_ram runs first and a mismatch leaves ram
 * untouched; pass false only when the caller verified it already (e.g.
 * before pausing the VM, to keep the pause short). */
bool state_file_load_ram (StateFile *sf, GuestRam *ram, StateLoadMethod method, bool verify,
                          GError **error);

/* The 64-bit hash used for RAM chunks (exposed for tests). */
uint64_t state_hash64 (const void *data, size_t len, uint64_t seed);
