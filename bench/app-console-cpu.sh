#!/bin/sh
# Benchmark: the console's CPU cost at a full-screen 60 Hz guest update.
# The mock helper repaints its whole 1920x1080 framebuffer and sends one
# full-frame DisplayDamage 60 times a second (VIREO_MOCK_ANIMATE=60); the
# app shows it full screen on a 1920x1080 Xvfb. Reports the app's CPU use
# (user + system, % of one core) over 10 s, and the frames it drew.
#   bench/app-console-cpu.sh [BUILDDIR]
set -eu
build=${1:-build}
build=$(cd "$build" && pwd)
command -v Xvfb >/dev/null || { echo "skip: Xvfb missing"; exit 77; }
tmp=$(mktemp -d /tmp/vireo-bench-XXXXXX)
d=96; while [ -e /tmp/.X$d-lock ]; do d=$((d + 1)); done
Xvfb :$d -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
trap 'kill $xvfb 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 1
mkdir -p "$tmp/data/vireo/vms/bench" "$tmp/run"; chmod 700 "$tmp/run"
echo k >"$tmp/vmlinuz"
printf '[vm]\nname=Bench\nguest-type=linux-direct\nkernel=%s\nresolution=1920x1080\n' "$tmp/vmlinuz" \
  >"$tmp/data/vireo/vms/bench/Bench.vireo"
cat >"$tmp/inner.sh" <<INNER
#!/bin/sh
set -eu
"$build/app/vireo" >/dev/null 2>&1 &
app=\$!
sleep 3
gdbus call --session --dest org.vireo.Vireo --object-path /org/vireo/Vireo --method org.gtk.Actions.Activate start-vm "[<'bench'>]" "{}" >/dev/null
gdbus call --session --dest org.vireo.Vireo --object-path /org/vireo/Vireo/window/1 --method org.gtk.Actions.Activate fullscreen "[]" "{}" >/dev/null
sleep 3
ticks() { awk '{print \$14 + \$15}' /proc/\$1/stat; }
mock=\$(pgrep -P \$app mock-vmx || true)
a0=\$(ticks \$app); m0=\$(ticks \$mock); t0=\$(date +%s%N)
sleep 10
a1=\$(ticks \$app); m1=\$(ticks \$mock); t1=\$(date +%s%N)
hz=\$(getconf CLK_TCK)
echo "\$a0 \$a1 \$m0 \$m1 \$t0 \$t1 \$hz" >"$tmp/result"
gdbus call --session --dest org.vireo.Vireo --object-path /org/vireo/Vireo --method org.gtk.Actions.Activate quit "[]" "{}" >/dev/null || kill \$app
INNER
chmod +x "$tmp/inner.sh"
DISPLAY=:$d GDK_BACKEND=x11 GTK_A11Y=none GSETTINGS_BACKEND=memory \
  GSETTINGS_SCHEMA_DIR=$build/resources XDG_DATA_HOME=$tmp/data XDG_RUNTIME_DIR=$tmp/run \
  VIREO_VMX=$build/tests/app/mock-vmx VIREO_MOCK_ANIMATE=60 VIREO_MOCK_KEY_LOG=/dev/null \
  dbus-run-session -- "$tmp/inner.sh"
read a0 a1 m0 m1 t0 t1 hz <"$tmp/result"
awk -v a0=$a0 -v a1=$a1 -v m0=$m0 -v m1=$m1 -v t0=$t0 -v t1=$t1 -v hz=$hz 'BEGIN {
  s = (t1 - t0) / 1e9
  printf "console at 60 Hz full-frame 1920x1080 updates: app %.1f%% of a core, mock helper %.1f%% (%.1f s)\n",
         100 * (a1 - a0) / hz / s, 100 * (m1 - m0) / hz / s, s }'
