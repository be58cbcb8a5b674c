#!/bin/sh
# builder-cache.sh BUILD_GUEST_SH GUEST_DIR
#
# GUEST_DIR holds a built demo guest. Running the builder again must be a
# cache hit that rewrites nothing. When the recorded versions differ (a
# tampered stamp), it must rebuild, and from its cached packages alone: the
# rebuild runs with downloads broken. A damaged cached package is a one-line
# error that drops it from the cache and keeps the previous outputs.
set -u

builder=${1:-}
guest=${2:-}
[ -f "$builder" ] || { echo "FAIL: no builder at '$builder'" >&2; exit 1; }
[ -f "$guest/.stamp" ] && [ -s "$guest/vmlinuz" ] || { echo "FAIL: no built guest in '$guest'" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vireo-guest-cache.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

fail () {
  echo "FAIL: $*" >&2
  exit 1
}

kver=$(sed -n 's/^kernel-version: *//p' "$guest/guest-info.txt")
[ -n "$kver" ] || fail "guest-info.txt has no kernel-version"

# 1. Cache hit on the real build: the message, and the outputs untouched.
before=$(ls -l --time-style=full-iso "$guest/vmlinuz" "$guest/initrd.img" "$guest/guest-info.txt")
out=$(/bin/sh "$builder" "$guest" 2>&1) || fail "second run failed: $out"
[ "$out" = "build-guest: up to date (linux $kver)" ] || fail "second run was not a cache hit: $out"
after=$(ls -l --time-style=full-iso "$guest/vmlinuz" "$guest/initrd.img" "$guest/guest-info.txt")
[ "$before" = "$after" ] || fail "a cache hit rewrote the outputs"
echo "ok cache hit: $out"

# 2. A copy whose stamp records another busybox version: rebuilt, offline.
copy=$tmp/guest
mkdir -p "$copy/cache"
for f in "$guest"/cache/*.deb; do
  ln "$f" "$copy/cache/" 2>/dev/null || cp "$f" "$copy/cache/" || fail "cannot copy $f"
done
cp "$guest/vmlinuz" "$guest/initrd.img" "$guest/guest-info.txt" "$copy/"
sed 's/^busybox-package: .*/busybox-package: busybox-static 0.0-older/' "$guest/.stamp" >"$copy/.stamp"
cat >"$tmp/apt.conf" <<'EOF'
Acquire::http::Proxy "http://127.0.0.1:9/";
Acquire::https::Proxy "http://127.0.0.1:9/";
Acquire::Retries "0";
EOF
out=$(APT_CONFIG="$tmp/apt.conf" http_proxy=http://127.0.0.1:9/ VIREO_GUEST_APT_UPDATED=1 /bin/sh "$builder" "$copy" 2>&1) ||
  fail "rebuild from the cache failed: $out"
echo "$out" | grep -q "^build-guest: built linux $kver" || fail "changed stamp did not rebuild: $out"
cmp -s "$guest/vmlinuz" "$copy/vmlinuz" || fail "rebuilt vmlinuz differs from the original"
cmp -s "$guest/.stamp" "$copy/.stamp" || fail "rebuild did not record the current versions in .stamp"
gzip -t "$copy/initrd.img" || fail "rebuilt initrd.img is not valid gzip"
gzip -dc "$copy/initrd.img" | cpio -it --quiet 2>/dev/null | grep -qx init || fail "rebuilt initrd.img has no /init"
left=$(cd "$copy" && ls -A | grep -v -E '^(cache|vmlinuz|initrd.img|guest-info.txt|\.stamp)$' | tr '\n' ' ')
[ -z "$left" ] || fail "rebuild left behind: $left"
echo "ok rebuild from cached packages with downloads broken"

# 3. And that rebuild is now current.
out=$(/bin/sh "$builder" "$copy" 2>&1) || fail "third run failed: $out"
[ "$out" = "build-guest: up to date (linux $kver)" ] || fail "rebuilt copy is not up to date: $out"
echo "ok up to date after the rebuild"

# 4. A damaged cached package (a fresh file, not a link to the real cache).
bbdeb=$(ls "$copy"/cache/busybox-static_*.deb 2>/dev/null | head -n 1)
[ -n "$bbdeb" ] || fail "no cached busybox-static package in the copy"
rm -f "$bbdeb"
head -c 2000 "$guest/cache/${bbdeb##*/}" >"$bbdeb" || fail "cannot write a damaged $bbdeb"
sed -i 's/^busybox-package: .*/busybox-package: busybox-static 0.0-older/' "$copy/.stamp"
APT_CONFIG="$tmp/apt.conf" http_proxy=http://127.0.0.1:9/ VIREO_GUEST_APT_UPDATED=1 /bin/sh "$builder" "$copy" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "damaged package: exit status $rc, expected 1"
[ "$(wc -l <"$tmp/err" | tr -d ' ')" -eq 1 ] && grep -q '^build-guest: cannot unpack .*busybox-static' "$tmp/err" ||
  fail "damaged package: unexpected stderr: $(cat "$tmp/err")"
[ -e "$bbdeb" ] && fail "damaged package was left in the cache"
cmp -s "$guest/vmlinuz" "$copy/vmlinuz" && gzip -t "$copy/initrd.img" || fail "a failed rebuild damaged the previous outputs"
echo "ok damaged cache entry: $(cat "$tmp/err")"
