#!/bin/sh
# Round-trip cost of a port-I/O exit: vireo-vmx --engine kvm against
# qemu-system-x86_64 -accel kvm, same guest (multiboot ELF32), side by side.
#   bench/kvm-pio-exit.sh VIREO_VMX GUEST
# The guest times its own loop of `out` instructions with the ACPI PM timer
# and prints the ticks on COM1, so start-up costs do not enter the figure.
# Best of $RUNS (default 5) runs each.
set -eu
vmx=$1 guest=$2
runs=${RUNS:-5}

if ! ( exec 3<>/dev/kvm ) 2>/dev/null; then
  echo "SKIP: /dev/kvm cannot be opened"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

vireo() {
  "$vmx" --engine kvm --test-device --serial "file:$tmp/serial" --memory 64M --guest-elf "$guest"
}
qemu() {
  qemu-system-x86_64 -accel kvm -M pc -m 64 -display none -monitor none \
    -serial "file:$tmp/serial" -no-reboot -device isa-debug-exit,iobase=0x5f0,iosize=4 \
    -kernel "$guest"
}

# best NAME: runs NAME $runs times, prints "loops best_ticks" (or nothing).
best() {
  b= loops=
  i=0
  while [ $i -lt "$runs" ]; do
    rm -f "$tmp/serial"
    "$1" >/dev/null 2>&1 </dev/null || true
    line=$(grep "pio-exit: loops" "$tmp/serial" 2>/dev/null | tail -1)
    if [ -n "$line" ]; then
      loops=$(echo "$line" | awk '{ print $3 }')
      t=$(echo "$line" | awk '{ print $5 }')
      if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    fi
    i=$((i + 1))
  done
  [ -n "$b" ] && echo "$loops $b"
}

ns_per_exit() { # loops ticks
  awk -v l="$1" -v t="$2" 'BEGIN { printf "%.0f", t / 3579545 * 1e9 / l }'
}

v=$(best vireo) || true
if [ -z "$v" ]; then echo "vireo-vmx did not run the guest"; exit 1; fi
v_ns=$(ns_per_exit $v)
echo "vireo-vmx --engine kvm: $v_ns ns per port-I/O exit (best of $runs, ${v%% *} exits)"
if command -v qemu-system-x86_64 >/dev/null; then
  q=$(best qemu) || true
  if [ -z "$q" ]; then echo "qemu did not run the guest"; exit 0; fi
  q_ns=$(ns_per_exit $q)
  echo "qemu-system-x86_64 -accel kvm: $q_ns ns per port-I/O exit"
  awk -v v="$v_ns" -v q="$q_ns" 'BEGIN { printf "ratio vireo/qemu: %.2f (below 1 = vireo faster)\n", v / q }'
fi
