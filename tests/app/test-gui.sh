#!/bin/sh
# The app under Xvfb with the mock helper: the demo VM is created through
# app.demo-vm (over the app's D-Bus interface), started, its console shows
# the mock's test pattern (screenshot compared with the expected colours),
# keys typed with xdotool reach the helper, and power off returns the VM to
# stopped. Exit 77 (skip) when a tool is missing.
set -u
build=${VIREO_BUILDDIR:?}
for tool in Xvfb xdotool import convert dbus-run-session gdbus; do
  command -v "$tool" >/dev/null 2>&1 || { echo "skip: $tool is not installed"; exit 77; }
done

if [ -z "${VIREO_GUI_INNER:-}" ]; then
  tmp=$(mktemp -d /tmp/vireo-gui-XXXXXX)
  trap 'kill $xvfb 2>/dev/null; rm -rf "$tmp"' EXIT
  # A free display number: no lock file and no socket.
  n=90
  while [ -e /tmp/.X$n-lock ] || [ -e /tmp/.X11-unix/X$n ]; do n=$((n + 1)); done
  Xvfb :$n -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
  xvfb=$!
  i=0
  while [ ! -e /tmp/.X11-unix/X$n ]; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "skip: Xvfb did not start"; exit 77; }
    sleep 0.1
  done
  VIREO_GUI_INNER=1 VIREO_GUI_TMP=$tmp DISPLAY=:$n dbus-run-session -- "$0"
  exit $?
fi

tmp=$VIREO_GUI_TMP
mkdir -p "$tmp/data" "$tmp/demo" "$tmp/run"
chmod 700 "$tmp/run"
echo "not a kernel" >"$tmp/demo/vmlinuz"
echo "not an initrd" >"$tmp/demo/initrd.img"
export GDK_BACKEND=x11 GTK_A11Y=none GSETTINGS_BACKEND=memory LANGUAGE=C LC_ALL=C
export XDG_DATA_HOME=$tmp/data XDG_RUNTIME_DIR=$tmp/run
export GSETTINGS_SCHEMA_DIR=$build/resources
export VIREO_DEMO_GUEST_DIR=$tmp/demo VIREO_VMX=$build/tests/app/mock-vmx
export VIREO_MOCK_KEY_LOG=$tmp/keys.log VIREO_MOCK_LIFETIME=180

fail() { echo "FAIL: $*"; cat "$tmp/app.log"; exit 1; }
act() { # act OBJECT-PATH ACTION
  gdbus call --session --dest org.vireo.Vireo --object-path "$1" \
    --method org.gtk.Actions.Activate "$2" "[]" "{}" >/dev/null
}
wait_for() { # wait_for SECONDS COMMAND...
  t=$(($1 * 10)); shift
  while ! "$@" >/dev/null 2>&1; do
    t=$((t - 1)); [ $t -le 0 ] && return 1; sleep 0.1
  done
}
pixel() { # pixel X Y -> "r,g,b" of the screen
  import -window root "$tmp/shot.png" 2>/dev/null
  convert "$tmp/shot.png" -format "%[fx:int(255*p{$1,$2}.r)],%[fx:int(255*p{$1,$2}.g)],%[fx:int(255*p{$1,$2}.b)]" info:
}
vm_state() {
  "$build/app/vireo-run" state "Demo VM"
}

"$build/app/vireo" >"$tmp/app.log" 2>&1 &
app=$!
wait_for 20 gdbus introspect --session --dest org.vireo.Vireo --object-path /org/vireo/Vireo/window/1 \
  || fail "the app did not start"

act /org/vireo/Vireo demo-vm
wait_for 5 sh -c "ls '$tmp/data/vireo/vms/'*/'Demo VM.vireo'" || fail "no demo VM in the library"
[ "$(ls "$tmp/data/vireo/vms" | wc -l)" -eq 1 ] || fail "expected exactly one VM"
[ "$(vm_state)" = stopped ] || fail "demo VM not stopped before start"

act /org/vireo/Vireo/window/1 start
wait_for 10 sh -c "[ \"\$('$build/app/vireo-run' state 'Demo VM')\" = running ]" || fail "VM did not start"
sleep 1

# The console fills the window below the tab bar; find the pattern's bars by
# sampling a row across the window and checking the colour sequence.
import -window root "$tmp/shot.png"
row=$(convert "$tmp/shot.png" -crop 1280x1+0+400 -depth 8 txt:- | awk 'NR>1 {print $3}' | uniq | tr '\n' ' ')
echo "row 400: $row"
seq=$(echo "$row" | tr ' ' '\n' | grep -E '^#(FFFFFF|FFFF00|00FFFF|00FF00|FF00FF|FF0000|0000FF)$' | uniq | tr '\n' ' ')
[ "$seq" = "#FFFFFF #FFFF00 #00FFFF #00FF00 #FF00FF #FF0000 #0000FF " ] \
  || fail "console does not show the test pattern (got: $seq)"

# Click to grab, type, and check the evdev codes the helper received.
xdotool mousemove 640 450 click 1
sleep 0.5
xdotool type --delay 80 vireo
sleep 1
keys=$(grep ' down$' "$tmp/keys.log" | cut -d' ' -f1 | tr '\n' ' ')
# evdev: v=47 i=23 r=19 e=18 o=24
[ "$keys" = "47 23 19 18 24 " ] || fail "keys at the helper: '$keys'"
# The mock paints the last key's colour into its top-left block: damage
# made it to the screen (o = 24 -> 0x80, 24*37&255=0x78, 24*101&255=0x78).
import -window root "$tmp/shot.png"
convert "$tmp/shot.png" -depth 8 txt:- | grep -q '#807878' || fail "key damage not drawn"

# Grabbed, the app's own shortcuts go to the guest: Ctrl+E (power off) and
# Ctrl+R (reset) must not act on the VM.
lines=$(wc -l <"$tmp/keys.log")
xdotool key ctrl+e ctrl+r
sleep 0.5
[ "$(vm_state)" = running ] || fail "an app shortcut acted while the console was grabbed"
new=$(tail -n +$((lines + 1)) "$tmp/keys.log" | grep ' down$' | cut -d' ' -f1 | tr '\n' ' ')
[ "$new" = "29 18 29 19 " ] || fail "Ctrl+E / Ctrl+R did not reach the guest: '$new'"

# Pointer: a click in the middle of the blue bar (the 7th of 8) reaches the
# guest at x in [6/8, 7/8) of its 1024-pixel width.
blue_x=$(convert "$tmp/shot.png" -crop 1280x1+0+400 -depth 8 txt:- | awk -F'[,:]' '/#0000FF/ {print $1}' | sed -n '20p')
[ -n "$blue_x" ] || fail "no blue bar on screen"
xdotool mousemove "$blue_x" 400 click 1
sleep 1
ptr=$(grep '^pointer' "$tmp/keys.log" | grep ' 1$' | tail -1)
gx=$(echo "$ptr" | cut -d' ' -f2)
[ -n "$gx" ] && [ "$gx" -ge 768 ] && [ "$gx" -lt 896 ] || fail "pointer click at guest '$ptr'"

# Ctrl+Alt releases the grab: keys typed afterwards stay with the app.
xdotool key ctrl+alt
sleep 0.5
before=$(grep -c down "$tmp/keys.log")
xdotool type x
sleep 0.5
after=$(grep -c down "$tmp/keys.log")
# Ctrl and Alt themselves went down before the release.
[ "$after" -eq "$before" ] || fail "keys still reach the guest after Ctrl+Alt"

# Released, the shortcuts work again: Ctrl+Shift+P pauses and resumes.
xdotool key ctrl+shift+p
wait_for 5 sh -c "[ \"\$('$build/app/vireo-run' state 'Demo VM')\" = paused ]" || fail "Ctrl+Shift+P did not pause"
xdotool key ctrl+shift+p
wait_for 5 sh -c "[ \"\$('$build/app/vireo-run' state 'Demo VM')\" = running ]" || fail "Ctrl+Shift+P did not resume"

act /org/vireo/Vireo/window/1 power-off
wait_for 10 sh -c "[ \"\$('$build/app/vireo-run' state 'Demo VM')\" = stopped ]" || fail "VM did not stop"
kill -0 $app 2>/dev/null || fail "the app exited"
# The last screen became the library thumbnail.
wait_for 5 sh -c "ls '$tmp/data/vireo/vms/'*/thumbnail.png" || fail "no thumbnail saved"

# vireo-run start without --headless hands the VM to the running app.
VIREO_APP=$build/app/vireo "$build/app/vireo-run" start "Demo VM" || fail "vireo-run start"
[ "$(vm_state)" = running ] || fail "vireo-run start did not start the VM in the app"
"$build/app/vireo-run" stop --hard "Demo VM" || fail "vireo-run stop --hard"
[ "$(vm_state)" = stopped ] || fail "VM not stopped after vireo-run stop --hard"
act /org/vireo/Vireo quit
wait_for 10 sh -c "! kill -0 $app" || { kill $app; fail "the app did not quit"; }
echo "ok: demo VM created, started, pattern shown, keys delivered, powered off"
exit 0
