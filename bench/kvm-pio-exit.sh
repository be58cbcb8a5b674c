#!/bin/sh
# Round-trip cost of a port-I/O exit: vireo-vmx --engine kvm against
# qemu-system-x86_64 -accel kvm, same guest (multiboot ELF32), side by side.
#   bench/kvm-pio-exit.sh VIREO_VMX SMALL_GUEST BIG_GUEST SMALL_LOOPS BIG_LOOPS
# ns/exit = (time(big) - time(small)) / (BIG_LOOPS - SMALL_LOOPS), best of 5,
# so start-up and shutdown costs cancel out.
set -eu
vmx=$1 small=$2 big=$3 n_small=$4 n_big=$5
runs=${RUNS:-5}

if ! ( exec 3<>/dev/kvm ) 2>/dev/null; then
  echo "SKIP: /dev/kvm cannot be opened"; exit 77
fi

now_ns() { date +%s%N; }

# best_of CMD...: minimum wall time in ns over $runs runs (exit status ignored).
best_of() {
  best=
  i=0
  while [ $i -lt "$runs" ]; do
    t0=$(now_ns)
    "$@" >/dev/null 2>&1 </dev/null || true
    t1=$(now_ns)
    d=$((t1 - t0))
    if [ -z "$best" ] || [ $d -lt $best ]; then best=$d; fi
    i=$((i + 1))
  done
  echo "$best"
}

vireo() {
  "$vmx" --engine kvm --test-device --serial none --memory 64M --guest-elf "$1"
}
qemu() {
  qemu-system-x86_64 -accel kvm -M pc -m 64 -display none -monitor none -serial none \
    -no-reboot -device isa-debug-exit,iobase=0x5f0,iosize=4 -kernel "$1"
}

# Check both actually run the guest to its exit port.
vireo "$small" >/dev/null 2>&1 && st=0 || st=$?
[ "$st" = 16 ] || { echo "vireo-vmx did not run the guest (status $st)"; exit 1; }
have_qemu=1
if command -v qemu-system-x86_64 >/dev/null; then
  qemu "$small" >/dev/null 2>&1 && st=0 || st=$?
  [ "$st" = 1 ] || { echo "qemu did not run the guest (status $st)"; have_qemu=0; }
else
  have_qemu=0
fi

loops=$((n_big - n_small))
v_small=$(best_of vireo "$small")
v_big=$(best_of vireo "$big")
v_ns=$(( (v_big - v_small) / loops ))
echo "vireo-vmx --engine kvm: $v_ns ns per port-I/O exit (best of $runs, $loops exits)"
if [ $have_qemu = 1 ]; then
  q_small=$(best_of qemu "$small")
  q_big=$(best_of qemu "$big")
  q_ns=$(( (q_big - q_small) / loops ))
  echo "qemu-system-x86_64 -accel kvm: $q_ns ns per port-I/O exit"
  awk -v v="$v_ns" -v q="$q_ns" 'BEGIN { if (q > 0) printf "ratio vireo/qemu: %.2f (below 1 = vireo faster)\n", v / q }'
fi
