#!/bin/sh
# SIGTERM powers the machine off cleanly: vireo-vmx exits 0.
#   sigterm.sh VMX COUNTER_GUEST
set -u
vmx=$1 guest=$2
if ! ( exec 3<>/dev/kvm ) 2>/dev/null; then
  echo "SKIP: /dev/kvm is absent or cannot be opened"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$vmx" --engine kvm --test-device --serial "file:$tmp/serial" --memory 64M --cpus 2 \
  --guest-elf "$guest" 2>"$tmp/stderr" &
pid=$!
i=0
while ! grep -q "counter: running" "$tmp/serial" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then echo "FAIL: guest never started"; kill -9 $pid; exit 1; fi
  sleep 0.1
done
kill -TERM $pid
wait $pid
status=$?
cat "$tmp/stderr"
if [ $status != 0 ]; then echo "FAIL: exit status $status after SIGTERM"; exit 1; fi
echo PASS
