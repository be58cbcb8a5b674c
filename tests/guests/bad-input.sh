#!/bin/sh
# vireo-vmx on bad input: a one-line error on stderr and the documented
# non-zero exit status (1 bad input, 2 bad command line), never a crash.
#   bad-input.sh VMX GUEST_ELF
set -u
vmx=$1 guest=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 4096 /dev/zero >"$tmp/zeros"
failed=0

check() { # want_status want_text args...
  want=$1 text=$2
  shift 2
  case "$*" in
    *--setpriv) set -- $(echo "$@" | sed 's/ --setpriv$//')
                setpriv --reuid=65534 --regid=65534 --clear-groups "$vmx" --serial none "$@" \
                  >"$tmp/out" 2>"$tmp/err" </dev/null ;;
    *) "$vmx" --serial none "$@" >"$tmp/out" 2>"$tmp/err" </dev/null ;;
  esac
  st=$?
  lines=$(grep -vc "^vireo-vmx: engine:" "$tmp/err")
  if [ $st != "$want" ] || [ "$lines" != 1 ] || ! grep -qF -- "$text" "$tmp/err"; then
    echo "FAIL: vireo-vmx $*: status $st (want $want), stderr:"; cat "$tmp/err"; failed=1
  else
    echo "ok: $* -> $st: $(grep -v '^vireo-vmx: engine:' "$tmp/err")"
  fi
}

check 1 "cannot read kernel" --engine soft --kernel "$tmp/missing"
check 1 "not a bzImage" --engine soft --kernel "$tmp/zeros"
check 1 "cannot read guest ELF" --engine soft --guest-elf "$tmp/missing"
check 1 "not an ELF" --engine soft --guest-elf "$tmp/zeros"
check 1 "more than the host" --engine soft --memory 64T --guest-elf "$guest"
check 1 "needs --kernel" --engine soft --initrd "$tmp/zeros" --guest-elf "$guest"
check 2 "--engine must be" --engine fast --guest-elf "$guest"
check 2 "--cpus must be" --cpus 0 --guest-elf "$guest"
check 2 "--memory" --memory lots --guest-elf "$guest"
check 2 "nothing to boot" --engine soft
check 2 "Unknown option" --frobnicate

# /dev/kvm without permission: run as nobody when we are root.
if [ "$(id -u)" = 0 ] && [ -e /dev/kvm ] && command -v setpriv >/dev/null \
   && ! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '[ -r /dev/kvm ] && [ -w /dev/kvm ]' \
   && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$vmx"; then
  cp "$guest" "$tmp/guest.elf"
  chmod 755 "$tmp"
  chmod 644 "$tmp/guest.elf"
  check 1 "no permission to open /dev/kvm" --engine kvm --guest-elf "$tmp/guest.elf" --setpriv
fi
exit $failed
