/* SDL2 window: a texture updated from damage, keyboard and grabbed mouse. */
#include "display/sdl-window.h"

#include <string.h>
#include <gio/gio.h>
#include <linux/input-event-codes.h>
#include <SDL2/SDL.h>
#include <SDL2/SDL_syswm.h>

struct SdlWindow
{
  DisplayListener listener; /* first */
  VmmDisplay *display;
  const InputSink *sink;
  char *title;
  void (*quit_fn) (void *);
  void *quit_opaque;

  GThread *thread;
  GMutex lock; /* the fields below, shared with the hub thread */
  GCond cond;
  bool ready, stop;
  char *init_error;
  Uint32 wake_event;
  DisplaySurface surface; /* latest from the hub */
  bool surface_changed;
  bool dirty;
  DisplayRect dirty_rect; /* union of damage since the last frame */
  uint64_t frames;
  unsigned long x11_id;
  bool grabbed;

  /* SDL thread only. */
  SDL_Window *window;
  SDL_Renderer *renderer;
  SDL_Texture *texture;
  DisplaySurface shown;
  uint32_t *convert;
  uint8_t held[(KEY_MAX + 1) / 8];
  gint64 settle_until; /* keep re-presenting while the window settles */
};

static void
rect_union (DisplayRect *acc, DisplayRect r)
{
  uint32_t x0 = MIN (acc->x, r.x), y0 = MIN (acc->y, r.y);
  uint32_t x1 = MAX (acc->x + acc->w, r.x + r.w), y1 = MAX (acc->y + acc->h, r.y + r.h);
  *acc = (DisplayRect){ x0, y0, x1 - x0, y1 - y0 };
}

static void
wake (SdlWindow *w)
{
  SDL_Event ev = { .type = w->wake_event };
  SDL_PushEvent (&ev);
}

/* ---- hub thread ---- */

static void
on_surface_changed (DisplayListener *l, const DisplaySurface *s)
{
  SdlWindow *w = (SdlWindow *)l;
  g_mutex_lock (&w->lock);
  w->surface = *s;
  w->surface_changed = true;
  w->dirty = true;
  w->dirty_rect = (DisplayRect){ 0, 0, s->width, s->height };
  g_mutex_unlock (&w->lock);
  wake (w);
}

static void
on_update (DisplayListener *l, const DisplaySurface *s, const DisplayRect *rects, size_t n)
{
  SdlWindow *w = (SdlWindow *)l;
  g_mutex_lock (&w->lock);
  w->surface = *s; /* same geometry; after a page flip, new pixels */
  for (size_t i = 0; i < n; i++)
    {
      if (!w->dirty)
        w->dirty_rect = rects[i];
      else
        rect_union (&w->dirty_rect, rects[i]);
      w->dirty = true;
    }
  g_mutex_unlock (&w->lock);
  wake (w);
}

/* ---- SDL thread ---- */

static void
set_grab (SdlWindow *w, bool on)
{
  SDL_SetRelativeMouseMode (on ? SDL_TRUE : SDL_FALSE);
  g_autofree char *title
      = on ? g_strdup_printf ("%s — press Ctrl+Alt to release the mouse", w->title)
           : g_strdup (w->title);
  SDL_SetWindowTitle (w->window, title);
  g_mutex_lock (&w->lock);
  w->grabbed = on;
  g_mutex_unlock (&w->lock);
}

static void
release_all_keys (SdlWindow *w)
{
  for (unsigned k = 0; k <= KEY_MAX; k++)
    if (w->held[k / 8] & (1u << (k % 8)))
      {
        w->held[k / 8] &= (uint8_t) ~(1u << (k % 8));
        input_sink_key (w->sink, (PcKeycode)k, false);
      }
}

static void
handle_key (SdlWindow *w, const SDL_KeyboardEvent *ev)
{
  PcKeycode key = keymap_sdl_to_evdev (ev->keysym.scancode);
  if (key == PC_KEYCODE_NONE || key > KEY_MAX)
    return;
  bool down = ev->type == SDL_KEYDOWN;
  if (down)
    w->held[key / 8] |= (uint8_t)(1u << (key % 8));
  else
    w->held[key / 8] &= (uint8_t) ~(1u << (key % 8));
  /* Repeats go through as make codes, as a keyboard's typematic does. */
  input_sink_key (w->sink, key, down);

  SDL_Keymod mod = SDL_GetModState ();
  if (down && w->grabbed && (mod & KMOD_CTRL) && (mod & KMOD_ALT))
    set_grab (w, false);
}

static unsigned
ps2_buttons (Uint32 state)
{
  return ((state & SDL_BUTTON_LMASK) ? 1u : 0u) | ((state & SDL_BUTTON_RMASK) ? 2u : 0u)
         | ((state & SDL_BUTTON_MMASK) ? 4u : 0u);
}

static void
handle_event (SdlWindow *w, const SDL_Event *ev)
{
  switch (ev->type)
    {
    case SDL_KEYDOWN:
    case SDL_KEYUP:
      handle_key (w, &ev->key);
      break;
    case SDL_MOUSEBUTTONDOWN:
      if (!w->grabbed)
        {
          set_grab (w, true); /* the grabbing click is not the guest's */
          break;
        }
      G_GNUC_FALLTHROUGH;
    case SDL_MOUSEBUTTONUP:
      if (w->grabbed)
        input_sink_mouse (w->sink, 0, 0, 0, ps2_buttons (SDL_GetMouseState (NULL, NULL)));
      break;
    case SDL_MOUSEMOTION:
      if (w->grabbed && (ev->motion.xrel || ev->motion.yrel))
        input_sink_mouse (w->sink, ev->motion.xrel, ev->motion.yrel, 0,
                          ps2_buttons (ev->motion.state));
      break;
    case SDL_MOUSEWHEEL:
      if (w->grabbed && ev->wheel.y)
        input_sink_mouse (w->sink, 0, 0, -ev->wheel.y,
                          ps2_buttons (SDL_GetMouseState (NULL, NULL)));
      break;
    case SDL_WINDOWEVENT:
      if (ev->window.event == SDL_WINDOWEVENT_FOCUS_LOST)
        {
          if (w->grabbed)
            set_grab (w, false);
          release_all_keys (w);
        }
      else if (ev->window.event == SDL_WINDOWEVENT_EXPOSED
               || ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
        {
          g_mutex_lock (&w->lock);
          w->dirty = true; /* redraw from the texture */
          g_mutex_unlock (&w->lock);
        }
      break;
    case SDL_QUIT:
      if (w->quit_fn)
        w->quit_fn (w->quit_opaque);
      break;
    default:
      break;
    }
}

static void
upload (SdlWindow *w, const DisplaySurface *s, DisplayRect r)
{
  if (r.x >= s->width || r.y >= s->height)
    return;
  r.w = MIN (r.w, s->width - r.x);
  r.h = MIN (r.h, s->height - r.y);
  SDL_Rect dst = { (int)r.x, (int)r.y, (int)r.w, (int)r.h };
  if (s->format == DISPLAY_FORMAT_XRGB8888)
    {
      SDL_UpdateTexture (w->texture, &dst, s->data + (size_t)r.y * s->stride + (size_t)r.x * 4,
                         (int)s->stride);
      return;
    }
  /* Other depths: convert the rectangle to XRGB8888 first. */
  w->convert = g_renew (uint32_t, w->convert, (size_t)r.w * r.h);
  for (uint32_t y = 0; y < r.h; y++)
    display_surface_row_xrgb (s, r.x, r.y + y, r.w, w->convert + (size_t)y * r.w);
  SDL_UpdateTexture (w->texture, &dst, w->convert, (int)r.w * 4);
}

static void
render (SdlWindow *w, bool present_anyway)
{
  g_mutex_lock (&w->lock);
  bool changed = w->surface_changed, dirty = w->dirty;
  DisplaySurface s = w->surface;
  DisplayRect r = w->dirty_rect;
  w->surface_changed = w->dirty = false;
  g_mutex_unlock (&w->lock);
  if (!changed && !dirty && !present_anyway)
    return;

  if (changed)
    {
      g_clear_pointer (&w->texture, SDL_DestroyTexture);
      w->shown = s;
      if (s.format != DISPLAY_FORMAT_NONE && s.width && s.height)
        {
          w->texture = SDL_CreateTexture (w->renderer, SDL_PIXELFORMAT_RGB888,
                                          SDL_TEXTUREACCESS_STREAMING, (int)s.width, (int)s.height);
          SDL_RenderSetLogicalSize (w->renderer, (int)s.width, (int)s.height);
          SDL_SetWindowSize (w->window, (int)s.width, (int)s.height);
          r = (DisplayRect){ 0, 0, s.width, s.height };
          /* The X server clears a resized window and the expose may come
           * before SDL knows the new size: present again for a while. */
          w->settle_until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
        }
    }
  if (w->texture && dirty && display_surface_same_mode (&s, &w->shown))
    upload (w, &s, r);
  else if (w->texture && dirty && s.format == w->shown.format && s.width == w->shown.width
           && s.height == w->shown.height && s.stride == w->shown.stride)
    {
      w->shown = s; /* page flip */
      upload (w, &s, r);
    }

  SDL_SetRenderDrawColor (w->renderer, 0, 0, 0, 255);
  SDL_RenderClear (w->renderer);
  if (w->texture)
    SDL_RenderCopy (w->renderer, w->texture, NULL, NULL);
  SDL_RenderPresent (w->renderer);
  g_mutex_lock (&w->lock);
  w->frames++;
  g_mutex_unlock (&w->lock);
}

static bool
sdl_setup (SdlWindow *w)
{
  SDL_SetHint (SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  SDL_SetHint (SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
  if (SDL_Init (SDL_INIT_VIDEO) != 0)
    {
      w->init_error = g_strdup_printf ("SDL: %s", SDL_GetError ());
      return false;
    }
  w->wake_event = SDL_RegisterEvents (1);
  w->window = SDL_CreateWindow (w->title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, 640, 480,
                                SDL_WINDOW_RESIZABLE);
  if (w->window)
    w->renderer = SDL_CreateRenderer (w->window, -1, 0);
  if (!w->window || !w->renderer)
    {
      w->init_error = g_strdup_printf ("SDL: cannot open a window: %s", SDL_GetError ());
      if (w->window)
        SDL_DestroyWindow (w->window);
      SDL_Quit ();
      return false;
    }
  SDL_SysWMinfo info;
  SDL_VERSION (&info.version);
  if (SDL_GetWindowWMInfo (w->window, &info) && info.subsystem == SDL_SYSWM_X11)
    w->x11_id = (unsigned long)info.info.x11.window;
  return true;
}

static gpointer
sdl_thread (gpointer data)
{
  SdlWindow *w = data;
  bool ok = sdl_setup (w);
  g_mutex_lock (&w->lock);
  w->ready = true;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  if (!ok)
    return NULL;

  for (;;)
    {
      SDL_Event ev;
      bool got = SDL_WaitEventTimeout (&ev, 100);
      g_mutex_lock (&w->lock);
      bool stop = w->stop;
      g_mutex_unlock (&w->lock);
      if (stop)
        break;
      while (got)
        {
          if (ev.type != w->wake_event)
            handle_event (w, &ev);
          got = SDL_PollEvent (&ev);
        }
      render (w, g_get_monotonic_time () < w->settle_until);
    }

  if (w->grabbed)
    set_grab (w, false);
  release_all_keys (w);
  g_clear_pointer (&w->texture, SDL_DestroyTexture);
  SDL_DestroyRenderer (w->renderer);
  SDL_DestroyWindow (w->window);
  SDL_Quit ();
  return NULL;
}

SdlWindow *
sdl_window_new (VmmDisplay *display, const InputSink *sink, const char *title, GError **error)
{
  SdlWindow *w = g_new0 (SdlWindow, 1);
  w->listener = (DisplayListener){ on_surface_changed, on_update };
  w->display = display;
  w->sink = sink;
  w->title = g_strdup (title ? title : "Vireo");
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->thread = g_thread_new ("sdl-window", sdl_thread, w);
  g_mutex_lock (&w->lock);
  while (!w->ready)
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
  if (w->init_error)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, w->init_error);
      g_thread_join (w->thread);
      g_free (w->init_error);
      g_free (w->title);
      g_mutex_clear (&w->lock);
      g_cond_clear (&w->cond);
      g_free (w);
      return NULL;
    }
  vmm_display_add_listener (display, &w->listener);
  return w;
}

void
sdl_window_free (SdlWindow *w)
{
  if (!w)
    return;
  vmm_display_remove_listener (w->display, &w->listener);
  g_mutex_lock (&w->lock);
  w->stop = true;
  g_mutex_unlock (&w->lock);
  wake (w);
  g_thread_join (w->thread);
  g_free (w->convert);
  g_free (w->title);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

void
sdl_window_set_quit_callback (SdlWindow *w, void (*fn) (void *), void *opaque)
{
  w->quit_fn = fn;
  w->quit_opaque = opaque;
}

uint64_t
sdl_window_frame_count (SdlWindow *w)
{
  g_mutex_lock (&w->lock);
  uint64_t n = w->frames;
  g_mutex_unlock (&w->lock);
  return n;
}

unsigned long
sdl_window_x11_id (SdlWindow *w)
{
  return w->x11_id;
}

bool
sdl_window_grabbed (SdlWindow *w)
{
  g_mutex_lock (&w->lock);
  bool g = w->grabbed;
  g_mutex_unlock (&w->lock);
  return g;
}
