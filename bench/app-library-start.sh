#!/bin/sh
# Benchmark: app start to library shown, with 200 VMs in the library.
# Runs the app under its own Xvfb with a temporary XDG_DATA_HOME; the app
# (VIREO_BENCH_STARTUP=1) prints the wall clock of its first frame with the
# library and quits. Reports the median of 5 runs.
#   bench/app-library-start.sh [BUILDDIR] [N_VMS]
set -eu
build=${1:-build}; n=${2:-200}
build=$(cd "$build" && pwd)
command -v Xvfb >/dev/null || { echo "skip: Xvfb missing"; exit 77; }
tmp=$(mktemp -d /tmp/vireo-bench-XXXXXX)
d=95; while [ -e /tmp/.X$d-lock ]; do d=$((d + 1)); done
Xvfb :$d -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
trap 'kill $xvfb; rm -rf "$tmp"' EXIT
sleep 1
mkdir -p "$tmp/data/vireo/vms" "$tmp/run"; chmod 700 "$tmp/run"
i=0
while [ $i -lt "$n" ]; do
  mkdir -p "$tmp/data/vireo/vms/vm-$i"
  printf '[vm]\nname=Machine %03d\nguest-type=linux-direct\nkernel=/boot/vmlinuz\nmemory-mib=512\n' $i \
    >"$tmp/data/vireo/vms/vm-$i/Machine $i.vireo"
  i=$((i + 1))
done
results=""
for run in 1 2 3 4 5; do
  start=$(date +%s%6N)
  out=$(DISPLAY=:$d GDK_BACKEND=x11 GTK_A11Y=none GSETTINGS_BACKEND=memory \
        GSETTINGS_SCHEMA_DIR=$build/resources XDG_DATA_HOME=$tmp/data XDG_RUNTIME_DIR=$tmp/run \
        VIREO_BENCH_STARTUP=1 dbus-run-session -- "$build/app/vireo" 2>/dev/null | grep vireo-bench)
  shown=$(echo "$out" | awk '{print $3}')
  ms=$(( (shown - start) / 1000 ))
  echo "run $run: $ms ms ($out)"
  results="$results $ms"
done
median=$(echo $results | tr ' ' '\n' | sort -n | sed -n 3p)
echo "app start to library shown with $n VMs: median ${median} ms (runs:$results)"
echo "(includes dbus-run-session start-up, ~10-30 ms)"
