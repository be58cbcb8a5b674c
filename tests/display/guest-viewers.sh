#!/bin/sh
# Issue 5's done criterion, end to end: the demo guest (console=tty0) boots
# once under the software engine with the SDL window and our SPICE server both
# on, under a private Xvfb. For each viewer (the SDL window, then
# remote-viewer on the SPICE socket):
#  - its screenshot must show the guest's console text and match the
#    framebuffer as read through an independent path (the VM's D-Bus
#    Screenshot method), text pixels compared after binarising;
#  - a command typed into it with xdotool runs in tty1's shell, and its
#    output (redirected to /dev/ttyS0) shows up in the serial log.
# usage: guest-viewers.sh VIREO-VMX VM1-CLIENT GUEST-DIR
set -u
vmx=$1 client=$2 guest=$3

for tool in Xvfb xdotool import convert compare remote-viewer; do
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -f "$guest/vmlinuz" ] && [ -f "$guest/initrd.img" ] \
  || { echo "SKIP: demo guest not built (ninja demo-guest)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vireo-gv-XXXXXX")
pids=
cleanup ()
{
  for p in $pids; do kill "$p" 2>/dev/null; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail ()
{
  echo "FAIL: $*"
  echo "--- serial (tail) ---"; tail -n 20 "$tmp/serial" 2>/dev/null
  echo "--- vireo-vmx stderr (tail) ---"; tail -n 20 "$tmp/vmx.err" 2>/dev/null
  mkdir -p "${MESON_BUILD_ROOT:-$tmp}/guest-viewers-fail" 2>/dev/null \
    && cp "$tmp"/*.png "${MESON_BUILD_ROOT:-$tmp}/guest-viewers-fail/" 2>/dev/null
  exit 1
}

# poll SECONDS CMD...: run CMD every second until it succeeds.
poll ()
{
  limit=$1; shift
  i=0
  until "$@"; do
    i=$((i + 1))
    [ "$i" -ge "$limit" ] && return 1
    sleep 1
  done
}

# A free display number: the lock file tells.
n=90
while [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ]; do n=$((n + 1)); done
Xvfb ":$n" -screen 0 1600x1200x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids="$!"
export DISPLAY=":$n" GDK_BACKEND=x11
poll 30 xdotool getdisplaygeometry >/dev/null 2>&1 || { echo "SKIP: Xvfb did not start"; exit 77; }

"$vmx" --engine soft --memory 512M --name vireo-gv-sdl \
  --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" \
  --append "console=ttyS0 console=tty0" --serial "file:$tmp/serial" \
  --display=sdl --spice "unix=$tmp/spice.sock" --socket "$tmp/vm.sock" \
  >"$tmp/vmx.out" 2>"$tmp/vmx.err" &
vmx_pid=$!
pids="$vmx_pid $pids"
alive () { kill -0 "$vmx_pid" 2>/dev/null; }

poll 60 test -S "$tmp/vm.sock" || fail "no control socket"
"$client" "$tmp/vm.sock" start || fail "Start over D-Bus"

# Both shells are up once the serial one prompts; then give tty1 the time
# to draw its own prompt (the framebuffer must show text, checked below).
serial_has () { alive && grep -q "$1" "$tmp/serial" 2>/dev/null; }
poll 900 serial_has 'vireo-demo:.*# ' || fail "no shell prompt on the serial console"

# Text pixels: grey level above 25% (the console is light on black).
text_pixels ()
{
  convert "$1" -colorspace gray -threshold 25% -format '%[fx:int(mean*w*h+0.5)]' info:
}

# match VIEWER-PNG NAME: compare with a fresh framebuffer screenshot. The
# viewer's image is located as the framebuffer-sized area at the bottom
# centre (remote-viewer has a menu and toolbar above it), or scaled to the
# framebuffer's size when the window is smaller (the SDL window scales).
match ()
{
  ref="$tmp/$2-ref.png"
  "$client" "$tmp/vm.sock" screenshot "$ref" || return 1
  fw=$(identify -format %w "$ref") fh=$(identify -format %h "$ref")
  vw=$(identify -format %w "$1") vh=$(identify -format %h "$1")
  if [ "$vw" -ge "$fw" ] && [ "$vh" -ge "$fh" ]; then
    # remote-viewer: the display widget is centred with an equal border
    # left, right and below (5 px in virt-viewer 11).
    x0=$(((vw - fw) / 2))
    y0=$((vh - fh - x0))
    [ "$y0" -ge 0 ] || y0=0
    convert "$1" -crop "${fw}x${fh}+$x0+$y0" +repage "$tmp/$2-view.png"
  else
    convert "$1" -resize "${fw}x${fh}!" "$tmp/$2-view.png"
  fi
  for f in ref view; do
    convert "$tmp/$2-$f.png" -colorspace gray -threshold 25% "$tmp/$2-$f-bw.png"
  done
  text=$(text_pixels "$ref")
  view_text=$(text_pixels "$tmp/$2-view.png")
  diff=$(compare -metric AE "$tmp/$2-ref-bw.png" "$tmp/$2-view-bw.png" null: 2>&1)
  diff=${diff%% *}
  echo "$2: framebuffer ${fw}x${fh}, window ${vw}x${vh}," \
    "text pixels ${text} (framebuffer) ${view_text} (viewer), differing ${diff}"
  # Real text on both, and the differences (cursor blink, scaling edges)
  # well under the text itself.
  [ "$text" -ge 2000 ] && [ "$view_text" -ge 2000 ] \
    && [ "$(printf '%.0f' "$diff")" -le $((text / 5)) ]
}

# shoot WINDOW-ID NAME: screenshot a window and compare it (a few tries:
# the guest may still be drawing, the viewer may lag one frame).
shoot ()
{
  tries=0
  until import -window "$1" "png:$tmp/$2.png" 2>/dev/null && match "$tmp/$2.png" "$2"; do
    tries=$((tries + 1))
    [ "$tries" -ge 20 ] && return 1
    alive || return 1
    sleep 2
  done
}

# type_into WINDOW-ID WORD: type a command into tty1's shell through the
# viewer; its output goes to the serial log. Retried: the first keys can
# arrive before tty1's shell has started reading.
type_into ()
{
  tries=0
  while :; do
    xdotool windowactivate --sync "$1" 2>/dev/null || xdotool windowfocus --sync "$1"
    xdotool mousemove --window "$1" 200 200 click 1
    xdotool type --delay 60 "echo $2-\$((6*7)) > /dev/ttyS0"
    xdotool key Return
    poll 30 serial_has "$2-42" && return 0
    tries=$((tries + 1))
    [ "$tries" -ge 5 ] && return 1
    xdotool key ctrl+c
  done
}

# 1. The SDL window.
sdl_win=$(poll 60 xdotool search --name vireo-gv-sdl | head -n 1)
[ -n "$sdl_win" ] || fail "no SDL window"
shoot "$sdl_win" sdl || fail "the SDL window does not show the framebuffer"
type_into "$sdl_win" sdl || fail "typed into the SDL window, no sdl-42 on the serial console"
echo "ok: SDL window shows the console and takes keys"

# 2. remote-viewer on the SPICE socket.
remote-viewer --zoom=100 --title=vireo-gv-rv "spice+unix://$tmp/spice.sock" \
  >"$tmp/rv.log" 2>&1 &
pids="$! $pids"
rv_win=$(poll 60 xdotool search --onlyvisible --name vireo-gv-rv | head -n 1)
[ -n "$rv_win" ] || fail "no remote-viewer window"
shoot "$rv_win" rv || fail "remote-viewer does not show the framebuffer"
type_into "$rv_win" spice || fail "typed into remote-viewer, no spice-42 on the serial console"
echo "ok: remote-viewer shows the console and takes keys"
exit 0
