/* The software engine behind the engine interface (stub until the core lands). */
#include "vmm-core/engine.h"

static Engine *
soft_create (const EngineConfig *cfg, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "the software CPU engine is not finished yet");
  return NULL;
}

const EngineOps soft_engine_ops = {
  .name = "soft",
  .create = soft_create,
};
