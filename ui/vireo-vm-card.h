/* VireoVmCard: one VM in the library grid. */
#pragma once

#include <gtk/gtk.h>

#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_TYPE_VM_CARD (vireo_vm_card_get_type ())
G_DECLARE_FINAL_TYPE (VireoVmCard, vireo_vm_card, VIREO, VM_CARD, GtkWidget)

GtkWidget *vireo_vm_card_new (void);
void       vireo_vm_card_set_vm (VireoVmCard *self, VireoVm *vm, GdkPaintable *thumbnail);

const char *vireo_state_to_label (const char *state);

G_END_DECLS
