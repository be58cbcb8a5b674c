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

# One run of NAME: prints its "loops ticks" (or nothing).
once() {
  rm -f "$tmp/serial"
  "$1" >/dev/null 2>&1 </dev/null || true
  grep "pio-exit: loops" "$tmp/serial" 2>/dev/null | tail -1 | awk '{ print $3, $5 }'
}

ns_per_exit() { # loops ticks
  awk -v l="$1" -v t="$2" 'BEGIN { printf "%.0f", t / 3579545 * 1e9 / l }'
}

have_qemu=0
command -v qemu-system-x86_64 >/dev/null && have_qemu=1
# Runs alternate between the two so a change in host load hits both alike.
v_best= q_best= loops=
i=0
while [ $i -lt "$runs" ]; do
  r=$(once vireo)
  if [ -n "$r" ]; then
    loops=${r%% *} t=${r##* }
    if [ -z "$v_best" ] || [ "$t" -lt "$v_best" ]; then v_best=$t; fi
  fi
  if [ $have_qemu = 1 ]; then
    r=$(once qemu)
    if [ -n "$r" ]; then
      t=${r##* }
      if [ -z "$q_best" ] || [ "$t" -lt "$q_best" ]; then q_best=$t; fi
    fi
  fi
  i=$((i + 1))
done

if [ -z "$v_best" ]; then echo "vireo-vmx did not run the guest"; exit 1; fi
v_ns=$(ns_per_exit "$loops" "$v_best")
echo "vireo-vmx --engine kvm: $v_ns ns per port-I/O exit (best of $runs, $loops exits)"
if [ -z "$q_best" ]; then echo "qemu did not run the guest"; exit 0; fi
q_ns=$(ns_per_exit "$loops" "$q_best")
echo "qemu-system-x86_64 -accel kvm: $q_ns ns per port-I/O exit"
awk -v v="$v_ns" -v q="$q_ns" 'BEGIN { printf "ratio vireo/qemu: %.2f (below 1 = vireo faster)\n", v / q }'
