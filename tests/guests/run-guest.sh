#!/bin/sh
# Runs a tiny test guest under vireo-vmx and checks its exit status and
# serial output.
#   run-guest.sh ENGINE VMX GUEST EXPECTED_STATUS EXPECTED_SERIAL_TEXT [options...]
# ENGINE is kvm or soft. Under kvm, exit 77 (skip) when /dev/kvm is missing
# or cannot be opened.
set -u
engine=$1 vmx=$2 guest=$3 want_status=$4 want_text=$5
shift 5

if [ "$engine" = kvm ]; then
  if [ ! -e /dev/kvm ]; then
    echo "SKIP: /dev/kvm is absent"; exit 77
  fi
  if ! ( exec 3<>/dev/kvm ) 2>/dev/null; then
    echo "SKIP: /dev/kvm cannot be opened (permission)"; exit 77
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 120 "$vmx" --engine "$engine" --test-device --serial "file:$tmp/serial" --memory 64M \
  --guest-elf "$guest" "$@" 2>"$tmp/stderr"
status=$?
echo "--- serial ---"; cat "$tmp/serial" 2>/dev/null
echo "--- stderr ---"; cat "$tmp/stderr"
if [ "$status" != "$want_status" ]; then
  echo "FAIL: exit status $status, expected $want_status"; exit 1
fi
if ! grep -qF -- "$want_text" "$tmp/serial"; then
  echo "FAIL: serial output lacks '$want_text'"; exit 1
fi
echo "PASS"
