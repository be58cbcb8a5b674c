#!/bin/sh
# Boots the demo guest (stock Debian kernel + busybox initramfs) under
# vireo-vmx --engine soft with the serial console on stdin/stdout, as a user
# at a terminal would: waits for the init's marker and the shell prompt,
# types commands and checks their output (nproc must equal the vCPU count),
# then types "poweroff -f", which must end the helper with exit status 0.
#   soft-boot-test.sh VMX GUEST_DIR [CPUS]
# Exit 77 (skip) when the demo guest has not been built (ninja demo-guest).
set -u
vmx=$1 dir=$2 cpus=${3:-1}
limit=${VIREO_SOFT_BOOT_LIMIT:-1500}
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initrd.img" ]; then
  echo "SKIP: demo guest not built ($dir/vmlinuz); run: ninja demo-guest"; exit 77
fi
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/in"

"$vmx" --engine soft --cpus "$cpus" --memory 512M --kernel "$dir/vmlinuz" \
  --initrd "$dir/initrd.img" --append "console=ttyS0" --serial stdio --no-reboot \
  <"$tmp/in" >"$tmp/serial" 2>"$tmp/stderr" &
pid=$!
exec 3>"$tmp/in" # the guest's keyboard: held open until the end

show() {
  echo "--- serial (tail) ---"; tail -n 30 "$tmp/serial"
  echo "--- stderr (tail) ---"; tail -n 20 "$tmp/stderr"
}

# wait_for PATTERN WHAT: poll the serial log until PATTERN appears.
wait_for() {
  waited=0
  until grep -q "$1" "$tmp/serial"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show; echo "FAIL: vireo-vmx exited before $2"; exit 1
    fi
    if [ "$waited" -ge "$limit" ]; then
      show; echo "FAIL: no $2 after ${limit}s"; exit 1
    fi
    sleep 2; waited=$((waited + 2))
  done
}

wait_for "VIREO-GUEST-READY" "marker line"
wait_for "vireo-demo:.*# " "shell prompt"
# shellcheck disable=SC2016 # expanded by the guest's shell
printf 'echo "sum=$((6 * 7)) cpus=$(nproc)"\n' >&3
wait_for "^sum=42 cpus=" "command output"
if ! grep -q "^sum=42 cpus=$cpus" "$tmp/serial"; then
  show; echo "FAIL: the guest does not see $cpus CPUs"; exit 1
fi
printf 'poweroff -f\n' >&3

waited=0
while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do
  sleep 1; waited=$((waited + 1))
done
if kill -0 "$pid" 2>/dev/null; then
  show; echo "FAIL: poweroff -f did not end vireo-vmx"; exit 1
fi
wait "$pid"
status=$?
pid=
if [ "$status" != 0 ]; then
  show; echo "FAIL: exit status $status, expected 0"; exit 1
fi
grep "^sum=42" "$tmp/serial"
echo "PASS"
