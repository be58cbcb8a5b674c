/* Changing the backing file of a qcow2 image (what deleting a snapshot in
 * the middle of a chain needs), over the block API.
 *
 * The image must not be open anywhere else while this runs. */
#pragma once

#include <glib.h>

/* Header only ("unsafe" rebase): records backing (as written in the image:
 * relative to the image's directory, or absolute; NULL for none) and its
 * format. The header cluster is rewritten in one write and synced. */
gboolean qcow2_set_backing (const char *path, const char *backing, const char *backing_format,
                            GError **error);

/* Safe rebase: afterwards the image reads exactly as before, but through
 * new_backing (NULL: no backing file). Every cluster where the current chain
 * and the new backing differ is copied into the image first (data written
 * there reads the same as before, so a crash midway changes nothing the
 * guest sees), then the header is switched. */
gboolean qcow2_rebase (const char *path, const char *new_backing,
                       const char *new_backing_format, GError **error);
