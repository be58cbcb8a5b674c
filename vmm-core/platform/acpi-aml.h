/* A small AML (ACPI Machine Language) byte-code builder for the DSDT.
 *
 * Every constructor returns a new Aml (a byte string). Constructors that take
 * Aml arguments consume them (and accept NULL for "empty"), so a tree is
 * written as nested calls:
 *
 *   Aml *dsdt = aml_cat (
 *       aml_name_decl ("\\_S5", aml_package (aml_cat (aml_int (5), aml_int (5), NULL), 2)),
 *       aml_scope ("\\_SB", aml_device ("PCI0", aml_name_decl ("_HID", aml_eisaid ("PNP0A03")))),
 *       NULL);
 *
 * Encodings follow the ACPI specification's AML grammar (chapter 20):
 * PkgLength, NameString (root/parent prefixes, dual/multi name paths),
 * the shortest integer form, and small/large resource descriptors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef GByteArray Aml;

void aml_free (Aml *a);
/* Appends each argument (consumed) to first; NULL-terminated. */
Aml *aml_cat (Aml *first, ...) G_GNUC_NULL_TERMINATED;

/* Data objects. */
Aml *aml_int (uint64_t v);
Aml *aml_string (const char *s);
Aml *aml_buffer (const uint8_t *data, size_t len);
/* Package with `count` elements already concatenated in `elements`. */
Aml *aml_package (Aml *elements, unsigned count);
/* "PNP0A03" → its compressed EISA ID integer. */
Aml *aml_eisaid (const char *id);

/* Names and namespace. */
Aml *aml_name (const char *path); /* a reference: "\\_SB.PCI0", "^FOO", "_S5" */
Aml *aml_name_decl (const char *path, Aml *value);
Aml *aml_scope (const char *path, Aml *body);
Aml *aml_device (const char *path, Aml *body);
Aml *aml_method (const char *path, unsigned nargs, bool serialized, Aml *body);
Aml *aml_return (Aml *value);

/* Resource templates: descriptors concatenated, then wrapped (adds the end tag). */
Aml *aml_resource_template (Aml *descriptors);
Aml *aml_res_io (uint16_t min, uint16_t max, uint8_t align, uint8_t len); /* Decode16 */
Aml *aml_res_irq_noflags (uint16_t mask);
Aml *aml_res_word_bus_number (uint16_t min, uint16_t max);
Aml *aml_res_word_io (uint16_t min, uint16_t max);
Aml *aml_res_dword_memory (uint32_t min, uint32_t max, bool cacheable);
Aml *aml_res_qword_memory (uint64_t min, uint64_t max, bool cacheable);

/* PkgLength encoding of a body of `len` bytes (the count includes the
 * encoding itself); returns bytes written to out[4]. Exposed for tests. */
unsigned aml_pkglength (size_t len, uint8_t out[4]);
