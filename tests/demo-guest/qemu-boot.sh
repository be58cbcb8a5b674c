#!/bin/sh
# qemu-boot.sh MODE VMLINUZ INITRD GUEST_INFO
#
# Boots the demo guest under qemu-system-x86_64 (TCG), to prove the guest is
# right independently of our own VMM. MODE:
#   poweroff  "console=ttyS0 poweroff": one marker line, then qemu exits by
#             itself through the guest's ACPI power-off.
#   modules   every module the builder ships, loaded with vireo.modules= on a
#             machine with virtio blk/net/rng/console/input, HDA and std VGA;
#             vireo.run= lists /proc/modules, mounts an ext4 virtio disk and
#             reports the device nodes the drivers made.
#   shell     no poweroff: commands typed on the serial port reach a login
#             shell with job control; its "poweroff" shuts the guest down.
#   serial1   no UART at ttyS0, console=ttyS1: the login shell moves to ttyS1.
#   acpi      button+evdev loaded: an ACPI power-button press (qemu's
#             system_powerdown) powers the guest off through acpid.
# Exit 0 on success, 1 on failure (with the console tail), 77 to skip.
set -u

mode=${1:-}
kernel=${2:-}
initrd=${3:-}
info=${4:-}
limit=${VIREO_GUEST_BOOT_LIMIT:-150}   # seconds per boot before we give up

tmp=$(mktemp -d) || exit 1
log=$tmp/console.log
qpid=""
cleanup () {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail () {
  echo "FAIL ($mode): $*" >&2
  if [ -s "$log" ]; then
    echo "--- guest console, last 40 lines ---" >&2
    tail -n 40 "$log" | tr -d '\r' >&2
  fi
  exit 1
}

command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "SKIP: qemu-system-x86_64 is not installed"; exit 77; }
command -v timeout >/dev/null 2>&1 || { echo "SKIP: timeout(1) is not installed"; exit 77; }
[ -s "$kernel" ] || fail "no kernel at '$kernel' (ninja demo-guest first)"
[ -s "$initrd" ] || fail "no initrd at '$initrd'"
[ -s "$info" ] || fail "no guest-info at '$info'"

# start_qemu APPEND [QEMU ARGS...]: boots in the background; the serial
# console goes to $log, and what is written to fd 3 reaches the serial port
# (or, after Ctrl-A c, the qemu monitor).
start_qemu () {
  append=$1; shift
  mkfifo "$tmp/in" || fail "mkfifo failed"
  exec 3<>"$tmp/in"
  timeout -k 5 "$limit" qemu-system-x86_64 -accel tcg -m 512 ${console_args:--nographic} -no-reboot \
    -kernel "$kernel" -initrd "$initrd" -append "$append" "$@" \
    <"$tmp/in" >"$log" 2>&1 &
  qpid=$!
}

# wait_qemu: waits for qemu to end; fails unless it ended by itself with 0.
wait_qemu () {
  wait "$qpid"
  rc=$?
  qpid=""
  exec 3>&-
  [ "$rc" -eq 124 ] && fail "qemu still running after ${limit}s"
  [ "$rc" -eq 0 ] || fail "qemu exited with status $rc"
  grep -q 'reboot: Power down' "$log" || fail "qemu ended without the guest powering off"
}

# wait_for REGEX: until the console shows REGEX (qemu still running).
wait_for () {
  n=0
  while ! grep -q -- "$1" "$log" 2>/dev/null; do
    kill -0 "$qpid" 2>/dev/null || fail "qemu ended before the console showed '$1'"
    n=$((n + 1))
    [ "$n" -gt $((limit * 2)) ] && fail "no '$1' on the console after ${limit}s"
    sleep 0.5
  done
}

marker='^VIREO-GUEST-READY uptime=[0-9][0-9]*\.[0-9]*'

check_one_marker () {
  count=$(grep -c "$marker" "$log")
  [ "$count" -eq 1 ] || fail "expected exactly one marker line, saw $count"
  echo "marker: $(grep -m1 -o "$marker" "$log")"
}

case $mode in
  poweroff)
    start_qemu "console=ttyS0 poweroff"
    wait_qemu
    check_one_marker
    ;;

  modules)
    command -v mkfs.ext4 >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    command -v mkfs.ext4 >/dev/null 2>&1 || { echo "SKIP: mkfs.ext4 (e2fsprogs) is not installed"; exit 77; }
    mkdir -p "$tmp/fs" && echo "hello from ext4 on virtio-blk" >"$tmp/fs/hello"
    mkfs.ext4 -q -F -d "$tmp/fs" "$tmp/disk.img" 8M >/dev/null || fail "mkfs.ext4 failed"

    requested=$(sed -n 's/^modules-requested-shipped: *//p' "$info")
    builtin=$(sed -n 's/^modules-requested-builtin: *//p' "$info")
    shipped=$(sed -n 's/^modules-shipped: *//p' "$info")
    [ -n "$shipped" ] || fail "guest-info lists no shipped modules"
    # What later work relies on, whatever guest-info says.
    for m in virtio_pci virtio_blk virtio_net virtio_console virtio_rng virtio_input \
             evdev psmouse button bochs snd_hda_intel snd_hda_codec_generic ext4 crc32c_generic; do
      case " $requested $builtin " in
        *" $m "*) ;;
        *) fail "module $m is neither shipped nor built in (guest-info)" ;;
      esac
    done
    list=$(echo $requested | tr ' ' ',')

    # Drivers probe asynchronously (the HDA codec especially): wait for each
    # device node up to 10 s before calling it missing.
    run='cat /proc/modules; mount -t ext4 /dev/vda /mnt && cat /mnt/hello; for p in /dev/vda /dev/hwrng /dev/hvc0 /dev/dri/card0 /dev/snd/pcmC0D0p /sys/class/net/eth0; do for i in 1 2 3 4 5 6 7 8 9 10; do [ -e $p ] && break; sleep 1; done; [ -e $p ] && echo HAVE $p; done; grep -q Virtio.Tablet /proc/bus/input/devices && echo HAVE virtio-tablet'
    start_qemu "console=ttyS0 vireo.modules=$list vireo.run=\"$run\" poweroff" \
      -drive "file=$tmp/disk.img,format=raw,if=none,id=disk0" -device virtio-blk-pci,drive=disk0 \
      -netdev user,id=net0 -device virtio-net-pci,netdev=net0 \
      -device virtio-rng-pci -device virtio-tablet-pci \
      -device virtio-serial-pci -chardev null,id=vc0 -device virtconsole,chardev=vc0 \
      -audiodev none,id=snd0 -device intel-hda -device hda-duplex,audiodev=snd0 \
      -vga std
    wait_qemu
    check_one_marker
    tr -d '\r' <"$log" >"$tmp/console.txt"
    grep -q 'cannot load module' "$tmp/console.txt" && fail "$(grep -m1 'cannot load module' "$tmp/console.txt")"
    grep -q '^VIREO-RUN-DONE status=0$' "$tmp/console.txt" || fail "vireo.run did not finish with status 0"
    # Built-in ones never show in /proc/modules; everything shipped must.
    for m in $shipped; do
      grep -q "^$m [0-9]" "$tmp/console.txt" || fail "module $m is not in /proc/modules"
    done
    grep -q '^hello from ext4 on virtio-blk$' "$tmp/console.txt" || fail "the ext4 virtio disk did not mount"
    for p in /dev/vda /dev/hwrng /dev/hvc0 /dev/dri/card0 /dev/snd/pcmC0D0p /sys/class/net/eth0 virtio-tablet; do
      grep -q "^HAVE $p\$" "$tmp/console.txt" || fail "no $p: its driver did not bind"
    done
    echo "loaded: $(echo $shipped | wc -w) modules; ext4 disk, net, rng, console, tablet, HDA, bochs DRM bound"
    ;;

  shell)
    start_qemu "console=ttyS0"
    wait_for "$marker"
    wait_for 'vireo-demo:'
    printf '%s\n' 'echo TTY=$(tty) FLAGS=$-' 'sleep 300 &' 'jobs' \
      'for p in /proc/[0-9]*; do readlink $p/fd/0; done | sort -u | tr "\n" " "; echo' \
      'echo SHELL-$((6 * 7))' >&3
    wait_for '^SHELL-42'
    printf 'poweroff\n' >&3
    wait_qemu
    check_one_marker
    tr -d '\r' <"$log" >"$tmp/console.txt"
    grep -q '^TTY=/dev/ttyS0 FLAGS=[a-zA-Z]*m' "$tmp/console.txt" || fail "the serial shell has no job control (or is not on ttyS0)"
    grep -q '^\[1\]+ *Running *sleep 300' "$tmp/console.txt" || fail "jobs does not list the background job"
    grep -q '/dev/tty1 ' "$tmp/console.txt" || fail "no shell on tty1"
    echo "serial shell with job control, a shell on tty1, clean poweroff from the shell"
    ;;

  serial1)
    console_args="-display none -serial none -chardev stdio,id=ser1 -device isa-serial,chardev=ser1,index=1"
    start_qemu "console=ttyS1"
    wait_for "$marker"
    wait_for 'vireo-demo:'
    printf '%s\n' 'echo TTY=$(tty) FLAGS=$-' >&3
    wait_for '^TTY='
    printf 'poweroff\n' >&3
    wait_qemu
    check_one_marker
    tr -d '\r' <"$log" >"$tmp/console.txt"
    grep -q '^TTY=/dev/ttyS1 FLAGS=[a-zA-Z]*m' "$tmp/console.txt" || fail "no job-control shell on ttyS1"
    echo "without a UART at ttyS0 the shell runs on the console's ttyS1"
    ;;

  acpi)
    start_qemu "console=ttyS0 vireo.modules=button,evdev"
    wait_for "$marker"
    wait_for 'vireo-demo:'
    # Ctrl-A c: the -nographic mux switches stdin to the qemu monitor.
    printf '\001c' >&3
    sleep 1
    printf 'system_powerdown\n' >&3
    wait_qemu
    check_one_marker
    echo "ACPI power button -> acpid -> clean poweroff"
    ;;

  *)
    echo "usage: qemu-boot.sh poweroff|modules|shell|serial1|acpi VMLINUZ INITRD GUEST_INFO" >&2
    exit 1
    ;;
esac
exit 0
