#include "config.h"

const char *vireo_ui_version (void);

const char *
vireo_ui_version (void)
{
  return VIREO_VERSION;
}
