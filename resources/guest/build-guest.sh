#!/bin/sh
# build-guest.sh OUTDIR: build Vireo's demo guest from Debian's packages.
#
# Writes OUTDIR/vmlinuz (the stock kernel that the linux-image-amd64
# metapackage points at), OUTDIR/initrd.img (gzip'd newc cpio: busybox-static,
# resources/guest/init and the modules listed below with their dependencies)
# and OUTDIR/guest-info.txt. Packages are fetched with `apt-get download` into
# OUTDIR/cache and unpacked with `dpkg -x`: nothing is installed system-wide.
# OUTDIR/.stamp records the package versions and the hashes of this script and
# of init; when they match, nothing is rebuilt. Outputs are written under
# temporary names and renamed, so a failed run never leaves half a guest.
# Every failure is one line on stderr and exit status 1.
#
# A package apt-cache does not know, or a failed download, makes it run
# apt-get update once (stale or missing lists) and resolve again.
# Environment: VIREO_GUEST_KERNEL_META overrides the metapackage name;
# VIREO_GUEST_APT_UPDATED=1 means the lists are fresh: never run apt-get
# update (the builder sets it itself once it has).
set -u

prog=build-guest
srcdir=$(cd "$(dirname "$0")" && pwd)
init_script=$srcdir/init
self=$srcdir/$(basename "$0")
meta=${VIREO_GUEST_KERNEL_META:-linux-image-amd64}

# Modules later work loads with vireo.modules=: virtio transport and devices,
# PS/2 mouse, evdev, the ACPI power button, the Bochs display, HDA sound and
# ext4 (with crc32c for its checksums). Dependencies are added from
# modules.dep; names the kernel has built in need no file and are reported.
MODULES="virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_blk virtio_net virtio_console virtio_rng virtio_input evdev psmouse
button bochs snd_hda_intel snd_hda_codec_generic ext4 jbd2 mbcache crc16
crc32c_generic"

die () {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: build-guest.sh OUTDIR" >&2; exit 2; }
outdir=$1

# depmod lives in sbin, which an unprivileged PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
export PATH LC_ALL=C

for tool in apt-get apt-cache dpkg dpkg-deb cpio gzip depmod sha256sum awk sed sort find; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (install it and retry)"
done

mkdir -p "$outdir" 2>/dev/null || die "cannot create output directory $outdir"
outdir=$(cd "$outdir" && pwd) || die "cannot enter output directory $1"
[ -w "$outdir" ] || die "output directory $outdir is not writable"
cache=$outdir/cache
mkdir -p "$cache" 2>/dev/null || die "cannot create cache directory $cache"

# One builder per OUTDIR at a time (a test may rerun it while ninja builds).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/lock" || die "cannot create $cache/lock"
  flock 9 || die "cannot lock $cache/lock"
fi

work=""
cleanup () {
  [ -n "$work" ] && rm -rf "$work"
  rm -f "$outdir"/vmlinuz.tmp.* "$outdir"/initrd.img.tmp.* "$outdir"/guest-info.txt.tmp.* \
    "$outdir"/.stamp.tmp.*
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- Resolve versions ----------------------------------------------------

# One apt-cache call (each costs about a second): prints "meta VERSION",
# "busybox VERSION" and "kernel PACKAGE [VERSION]" for the linux-image-N
# package the metapackage depends on (VERSION when it pins one with =).
resolve () {
  apt-cache show --no-all-versions "$meta" busybox-static 2>/dev/null | awk -v meta="$meta" '
    /^Package:/ { pkg = $2 }
    /^Version:/ { if (pkg == meta) print "meta", $2; else if (pkg == "busybox-static") print "busybox", $2 }
    /^Depends:/ && pkg == meta {
      sub (/^Depends: */, "")
      n = split ($0, alts, /, */)
      for (i = 1; i <= n; i++)
        if (alts[i] ~ /^linux-image-[0-9]/) {
          k = alts[i]; v = ""
          if (match (k, /\(= [^)]*\)/)) v = substr (k, RSTART + 3, RLENGTH - 4)
          sub (/[ (].*/, "", k); print "kernel", k, v; break
        }
    }'
}

resolved=$(resolve)
missing=""
echo "$resolved" | grep -q '^kernel ' || missing=$meta
echo "$resolved" | grep -q '^busybox ' || missing="${missing:+$missing and }busybox-static"
if [ -n "$missing" ]; then
  # A fresh machine may have no package lists yet.
  [ -z "${VIREO_GUEST_APT_UPDATED:-}" ] || die "cannot resolve $missing (not in apt-cache)"
  apt-get update -qq >/dev/null 2>&1 || die "cannot resolve $missing (not in apt-cache, and apt-get update failed)"
  VIREO_GUEST_APT_UPDATED=1
  resolved=$(resolve)
fi
field () {
  echo "$resolved" | awk -v k="$1" -v i="$2" '$1 == k { print $i; exit }'
}
kpkg=$(field kernel 2)
[ -n "$kpkg" ] || die "cannot resolve $meta to a linux-image package (apt-cache show $meta)"
meta_ver=$(field meta 2)
kver_deb=$(field kernel 3)
if [ -z "$kver_deb" ]; then
  kver_deb=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | sed -n 's/^Version: *//p' | head -n 1)
fi
[ -n "$kver_deb" ] || die "cannot resolve $kpkg (no candidate version in apt-cache)"
bb_ver=$(field busybox 2)
[ -n "$bb_ver" ] || die "cannot resolve busybox-static (no candidate version in apt-cache)"

stamp_text="meta: $meta $meta_ver
kernel-package: $kpkg $kver_deb
busybox-package: busybox-static $bb_ver
builder-sha256: $(sha256sum <"$self" | cut -d' ' -f1)
init-sha256: $(sha256sum <"$init_script" | cut -d' ' -f1)"

kname=${kpkg#linux-image-}
if [ -f "$outdir/.stamp" ] && [ -f "$outdir/vmlinuz" ] && [ -f "$outdir/initrd.img" ] &&
   [ -f "$outdir/guest-info.txt" ] && [ "$(cat "$outdir/.stamp")" = "$stamp_text" ]; then
  echo "$prog: up to date (linux $kname)"
  exit 0
fi
# From here the old outputs no longer match; forget the stamp first so an
# interrupted rebuild is never taken for a finished one.
rm -f "$outdir/.stamp"

# --- Download ------------------------------------------------------------

work=$(mktemp -d "$outdir/.work.XXXXXX") || die "cannot create a work directory in $outdir"

# fetch PACKAGE VERSION: sets $fetched to the path of the cached .deb.
fetch () {
  fetched=$cache/$(printf '%s_%s' "$1" "$2" | sed 's/:/%3a/g').deb
  [ -f "$fetched" ] && return 0
  dl=$work/dl
  rm -rf "$dl" && mkdir -p "$dl" || die "cannot create $dl"
  if ! (cd "$dl" && apt-get download -q "$1=$2") >"$work/apt.log" 2>&1; then
    why=$(grep -m1 '^E:' "$work/apt.log" | cut -c4- | tr -s ' ')
    # Stale package lists name versions the archive no longer has: refresh
    # them once (this needs root) and start over with what they resolve to.
    if [ -z "${VIREO_GUEST_APT_UPDATED:-}" ] && apt-get update -qq >/dev/null 2>&1; then
      rm -rf "$work"
      VIREO_GUEST_APT_UPDATED=1 exec /bin/sh "$self" "$outdir"
    fi
    die "cannot download $1 $2 (apt-get download failed${why:+: $why})"
  fi
  got=$(find "$dl" -name '*.deb' | head -n 1)
  [ -n "$got" ] || die "cannot download $1 $2 (apt-get download wrote no .deb)"
  [ "$(dpkg-deb -f "$got" Package Version 2>/dev/null | tr '\n' ' ')" = "Package: $1 Version: $2 " ] ||
    die "cannot use $got (not $1 $2, or not a valid .deb)"
  # Older versions of this package are of no further use.
  for old in "$cache/$1"_*.deb; do
    [ -f "$old" ] && rm -f "$old"
  done
  mv "$got" "$fetched" || die "cannot move $got into $cache"
}

echo "$prog: building the demo guest (linux $kname $kver_deb, busybox-static $bb_ver)"
fetch "$kpkg" "$kver_deb"
kdeb=$fetched
fetch busybox-static "$bb_ver"
bbdeb=$fetched

# --- Unpack --------------------------------------------------------------

# unpack DEB DIR: a damaged cached package is dropped so the next run
# downloads it again.
unpack () {
  if ! dpkg -x "$1" "$2" 2>"$work/dpkg.log"; then
    rm -f "$1"
    die "cannot unpack $1 (dpkg -x failed: $(head -n 1 "$work/dpkg.log"); removed it from the cache, run again)"
  fi
}
unpack "$bbdeb" "$work/busybox"
kroot=$work/kernel
unpack "$kdeb" "$kroot"

kver=$(ls "$kroot/lib/modules" 2>/dev/null | head -n 1)
[ -n "$kver" ] && [ -f "$kroot/boot/vmlinuz-$kver" ] || die "unexpected layout in $kdeb (no lib/modules/VERSION with a matching boot/vmlinuz)"
kmod=$kroot/lib/modules/$kver
depmod -b "$kroot" "$kver" 2>"$work/depmod.log" || die "depmod failed on $kpkg: $(head -n 1 "$work/depmod.log")"

busybox=$work/busybox/bin/busybox
[ -x "$busybox" ] || die "unexpected layout in $bbdeb (no bin/busybox)"

# --- Pick modules --------------------------------------------------------

# "name path" for every module file; names use _ as the kernel does.
awk -F: '{ p = $1; n = p; sub (/.*\//, "", n); sub (/\.ko.*$/, "", n); gsub (/-/, "_", n); print n, p }' \
  "$kmod/modules.dep" >"$work/names"
awk '{ n = $0; sub (/.*\//, "", n); sub (/\.ko.*$/, "", n); gsub (/-/, "_", n); print n }' \
  "$kmod/modules.builtin" >"$work/builtin"

: >"$work/paths"
shipped_requested=""
builtin_requested=""
for m in $MODULES; do
  path=$(awk -v n="$m" '$1 == n { print $2; exit }' "$work/names")
  if [ -n "$path" ]; then
    shipped_requested="$shipped_requested $m"
    # The module and everything modules.dep lists for it.
    awk -F: -v p="$path" '$1 == p { print $1; n = split ($2, d, " "); for (i = 1; i <= n; i++) print d[i] }' \
      "$kmod/modules.dep" >>"$work/paths"
  elif grep -qx "$m" "$work/builtin"; then
    builtin_requested="$builtin_requested $m"
  else
    die "module $m is neither a module nor built into $kpkg"
  fi
done

# --- Assemble the initramfs tree -----------------------------------------

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/dev" "$root/proc" \
  "$root/sys" "$root/tmp" "$root/run" "$root/root" "$root/mnt" "$root/etc/acpi/PWRF" \
  "$root/etc/modprobe.d" "$root/lib/modules/$kver" || die "cannot create $root"
cp "$busybox" "$root/bin/busybox" || die "cannot copy busybox"
# Applet links made here, so nothing has to run before /init's shebang.
"$busybox" --list-full >"$work/applets" 2>/dev/null || die "cannot run $busybox --list-full on this host"
while IFS= read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$root/$(dirname "$applet")" && ln -sf /bin/busybox "$root/$applet" ||
    die "cannot link applet $applet"
done <"$work/applets"
[ -L "$root/bin/sh" ] && [ -L "$root/sbin/init" ] && [ -L "$root/sbin/modprobe" ] ||
  die "busybox-static lacks sh, init or modprobe"

cp "$init_script" "$root/init" && chmod 755 "$root/init" || die "cannot copy $init_script"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'vireo-demo\n' >"$root/etc/hostname"
cat >"$root/etc/profile" <<'EOF'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
export PS1='\h:\w\$ '
cd /root
EOF
# busybox acpid runs /etc/acpi/PWRF/00000080 on an ACPI power-button press.
printf '#!/bin/sh\nexec poweroff\n' >"$root/etc/acpi/PWRF/00000080"
chmod 755 "$root/etc/acpi/PWRF/00000080"

sort -u "$work/paths" | while IFS= read -r p; do
  mkdir -p "$root/lib/modules/$kver/$(dirname "$p")" &&
    cp "$kmod/$p" "$root/lib/modules/$kver/$p" || exit 1
done || die "cannot copy the modules into the initramfs"
cp "$kmod/modules.builtin" "$kmod/modules.builtin.modinfo" "$root/lib/modules/$kver/" ||
  die "cannot copy modules.builtin"
sort -u "$work/paths" >"$root/lib/modules/$kver/modules.order"
depmod -b "$root" "$kver" 2>"$work/depmod.log" || die "depmod failed on the initramfs: $(head -n 1 "$work/depmod.log")"
# busybox modprobe reads the text files; kmod's binary indexes only add size.
rm -f "$root/lib/modules/$kver"/*.bin

all_shipped=$(sort -u "$work/paths" | awk '{ n = $0; sub (/.*\//, "", n); sub (/\.ko.*$/, "", n); gsub (/-/, "_", n); print n }' | sort | tr '\n' ' ' | sed 's/ $//')

# --- Pack ------------------------------------------------------------------

# /dev/console must exist before /init runs (the kernel opens it for fds
# 0-2), and making a device node needs root, so that one entry is written
# by hand as a second newc archive; the kernel unpacks concatenated archives.
newc_entry () { # name mode rdevmajor rdevminor
  namesize=$((${#1} + 1))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
    0 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$1"
  pad=$(((4 - (110 + namesize) % 4) % 4))
  while [ "$pad" -gt 0 ]; do printf '\0'; pad=$((pad - 1)); done
}

initrd_tmp=$outdir/initrd.img.tmp.$$
(
  cd "$root" || exit 1
  find . -mindepth 1 | sed 's|^\./||' | sort | cpio -o -H newc -R 0:0 --reproducible --quiet || exit 1
  newc_entry dev/console $((0x2180)) 5 1       # S_IFCHR | 0600, char 5:1
  newc_entry TRAILER!!! 0 0 0
) | gzip -9n >"$initrd_tmp" || die "cannot write $initrd_tmp (cpio or gzip failed)"

vmlinuz_tmp=$outdir/vmlinuz.tmp.$$
cp "$kroot/boot/vmlinuz-$kver" "$vmlinuz_tmp" || die "cannot write $vmlinuz_tmp"

initrd_bytes=$(wc -c <"$initrd_tmp" | tr -d ' ')
info_tmp=$outdir/guest-info.txt.tmp.$$
cat >"$info_tmp" <<EOF || die "cannot write $info_tmp"
kernel-version: $kver
kernel-package: $kpkg $kver_deb
meta-package: $meta $meta_ver
busybox-package: busybox-static $bb_ver
initrd-bytes: $initrd_bytes
modules-requested-shipped:$shipped_requested
modules-requested-builtin:$builtin_requested
modules-shipped: $all_shipped
marker: VIREO-GUEST-READY uptime=SECONDS
cmdline: vireo.modules=a,b,c vireo.run=CMD poweroff
EOF

mv -f "$vmlinuz_tmp" "$outdir/vmlinuz" &&
  mv -f "$initrd_tmp" "$outdir/initrd.img" &&
  mv -f "$info_tmp" "$outdir/guest-info.txt" || die "cannot move the outputs into $outdir"
printf '%s\n' "$stamp_text" >"$outdir/.stamp.tmp.$$" && mv -f "$outdir/.stamp.tmp.$$" "$outdir/.stamp" ||
  die "cannot write $outdir/.stamp"

echo "$prog: built linux $kver, initrd.img $initrd_bytes bytes, modules:$shipped_requested (built in:${builtin_requested:- none})"
