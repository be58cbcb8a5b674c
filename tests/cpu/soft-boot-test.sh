#!/bin/sh
# Boots the demo guest (stock Debian kernel + busybox initramfs) under
# vireo-vmx --engine soft and checks that the init's marker line appears and
# that "poweroff" ends the helper with exit status 0.
#   soft-boot-test.sh VMX GUEST_DIR [CPUS]
# Exit 77 (skip) when the demo guest has not been built (ninja demo-guest).
set -u
vmx=$1 dir=$2 cpus=${3:-1}
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initrd.img" ]; then
  echo "SKIP: demo guest not built ($dir/vmlinuz); run: ninja demo-guest"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 1500 "$vmx" --engine soft --cpus "$cpus" --memory 512M --kernel "$dir/vmlinuz" \
  --initrd "$dir/initrd.img" --append "console=ttyS0 poweroff" --serial "file:$tmp/serial" \
  --no-reboot 2>"$tmp/stderr"
status=$?
echo "--- serial (tail) ---"; tail -n 30 "$tmp/serial" 2>/dev/null
echo "--- stderr (tail) ---"; tail -n 20 "$tmp/stderr"
if ! grep -q "VIREO-GUEST-READY" "$tmp/serial"; then
  echo "FAIL: no VIREO-GUEST-READY marker"; exit 1
fi
if [ "$cpus" -gt 1 ] && ! grep -q "smp: Brought up 1 node, $cpus CPUs" "$tmp/serial"; then
  echo "FAIL: the kernel did not bring up $cpus CPUs"; exit 1
fi
if [ "$status" != 0 ]; then
  echo "FAIL: exit status $status, expected 0"; exit 1
fi
echo "PASS"
