/* The section stream every device saves into and loads from.
 *
 * A stream is a sequence of named, versioned sections:
 *   u32 name_len, name bytes, u32 version, u64 payload_len, payload
 * all little-endian. A device writes one section (or one per instance, e.g.
 * "uart.0") with snap_section_begin/end and plain put calls; on load it asks
 * for its section by name and reads the same fields back. Reads past the end
 * of a section never touch memory outside it: they return zero and set the
 * reader's error, which the loader reports once.
 *
 * The state file around the stream (magic, format version, checksum, RAM) is
 * the snapshot module's business; this is only the device-state container. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef struct SnapWriter SnapWriter;
typedef struct SnapReader SnapReader;

SnapWriter *snap_writer_new (void);
void snap_writer_free (SnapWriter *w);
void snap_section_begin (SnapWriter *w, const char *name, uint32_t version);
void snap_section_end (SnapWriter *w);
void snap_put_u8 (SnapWriter *w, uint8_t v);
void snap_put_u16 (SnapWriter *w, uint16_t v);
void snap_put_u32 (SnapWriter *w, uint32_t v);
void snap_put_u64 (SnapWriter *w, uint64_t v);
static inline void snap_put_i64 (SnapWriter *w, int64_t v) { snap_put_u64 (w, (uint64_t) v); }
static inline void snap_put_bool (SnapWriter *w, bool v) { snap_put_u8 (w, v ? 1 : 0); }
void snap_put_bytes (SnapWriter *w, const void *data, size_t len);
/* The finished stream (the writer is consumed). */
GBytes *snap_writer_finish (SnapWriter *w);

/* Indexes the stream; fails on a malformed one. Keeps a ref on bytes. */
SnapReader *snap_reader_new (GBytes *bytes, GError **error);
void snap_reader_free (SnapReader *r);
/* Positions at the named section. False (with error) if absent, or if its
 * version is newer than max_version. *version gets the stored version. */
bool snap_reader_open (SnapReader *r, const char *name, uint32_t max_version,
                       uint32_t *version, GError **error);
bool snap_reader_has (SnapReader *r, const char *name);
uint8_t snap_get_u8 (SnapReader *r);
uint16_t snap_get_u16 (SnapReader *r);
uint32_t snap_get_u32 (SnapReader *r);
uint64_t snap_get_u64 (SnapReader *r);
static inline int64_t snap_get_i64 (SnapReader *r) { return (int64_t) snap_get_u64 (r); }
static inline bool snap_get_bool (SnapReader *r) { return snap_get_u8 (r) != 0; }
void snap_get_bytes (SnapReader *r, void *data, size_t len);
size_t snap_remaining (SnapReader *r);
/* After the gets: false (with a message naming the section) if any read ran
 * past the section's end. */
bool snap_reader_check (SnapReader *r, GError **error);
