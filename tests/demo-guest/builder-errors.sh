#!/bin/sh
# builder-errors.sh BUILD_GUEST_SH
#
# The demo-guest builder must fail with exactly one line on stderr, exit
# status 1, and no half-written outputs, when a tool is missing, when OUTDIR
# cannot be created, and when the package download breaks.
set -u

builder=${1:-}
[ -f "$builder" ] || { echo "FAIL: no builder at '$builder'" >&2; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
failed=0

fail () {
  echo "FAIL: $*" >&2
  failed=1
}

# expect_error NAME OUTDIR REGEX [env assignments...]: runs the builder,
# checks status 1, a single stderr line matching REGEX, and no outputs.
expect_error () {
  name=$1 outdir=$2 regex=$3
  shift 3
  env "$@" /bin/sh "$builder" "$outdir" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  lines=$(wc -l <"$tmp/err" | tr -d ' ')
  if [ "$rc" -ne 1 ]; then
    fail "$name: exit status $rc, expected 1"
  elif [ "$lines" -ne 1 ]; then
    fail "$name: $lines lines on stderr, expected 1:"
    cat "$tmp/err" >&2
  elif ! grep -q "^build-guest: $regex" "$tmp/err"; then
    fail "$name: unexpected message: $(cat "$tmp/err")"
  else
    echo "ok $name: $(cat "$tmp/err")"
  fi
  if [ -d "$outdir" ]; then
    left=$(cd "$outdir" && ls -A | grep -v '^cache$' | tr '\n' ' ')
    [ -z "$left" ] || fail "$name: left behind in OUTDIR: $left"
    if [ -d "$outdir/cache" ]; then
      partial=$(find "$outdir/cache" -type f ! -name '*.deb' ! -name lock | tr '\n' ' ')
      [ -z "$partial" ] || fail "$name: partial files in the cache: $partial"
    fi
  fi
}

# 1. A tool is missing: a PATH holding everything in /usr/bin and /bin
#    except cpio.
mkdir "$tmp/bin"
for dir in /usr/bin /bin; do
  for f in "$dir"/*; do
    base=${f##*/}
    [ "$base" = cpio ] && continue
    [ -e "$tmp/bin/$base" ] || ln -s "$f" "$tmp/bin/$base"
  done
done
expect_error missing-cpio "$tmp/out-nocpio" 'missing tool: cpio' PATH="$tmp/bin"
[ -e "$tmp/out-nocpio" ] && fail "missing-cpio: OUTDIR was created anyway"

# 2. OUTDIR cannot be created (its parent is a regular file; root ignores
#    permission bits, so that is the portable way to make it fail).
: >"$tmp/a-file"
expect_error bad-outdir "$tmp/a-file/out" 'cannot create output directory'

# 3. The download breaks: apt is pointed at a proxy that refuses connections
#    (APT_CONFIG is read after apt.conf.d, so it wins over a configured proxy).
#    VIREO_GUEST_APT_UPDATED=1 stops the builder's one apt-get update retry,
#    so the tests leave the system's package lists alone.
uri=$(apt-get download --print-uris busybox-static 2>/dev/null | head -n 1)
case $uri in
  "'http"*)
    cat >"$tmp/apt.conf" <<'EOF'
Acquire::http::Proxy "http://127.0.0.1:9/";
Acquire::https::Proxy "http://127.0.0.1:9/";
Acquire::Retries "0";
EOF
    expect_error broken-download "$tmp/out-dl" 'cannot download linux-image-' \
      APT_CONFIG="$tmp/apt.conf" http_proxy=http://127.0.0.1:9/ https_proxy=http://127.0.0.1:9/ \
      VIREO_GUEST_APT_UPDATED=1
    ;;
  *)
    echo "skip broken-download: apt does not fetch over http here ($uri)"
    ;;
esac

# 4. A failing download makes the builder refresh the package lists once
#    (stale lists name versions the archive dropped) and start over; when it
#    fails again, that is the one error. A stand-in apt-get records the calls.
mkdir "$tmp/fakeapt"
cat >"$tmp/fakeapt/apt-get" <<EOF
#!/bin/sh
echo "\$1" >>"$tmp/apt-calls"
case "\$1" in
  update) exit 0 ;;
  download) echo "E: simulated outage" >&2; exit 100 ;;
esac
exec /usr/bin/apt-get "\$@"
EOF
chmod +x "$tmp/fakeapt/apt-get"
expect_error download-retry "$tmp/out-retry" 'cannot download linux-image-.*simulated outage' \
  PATH="$tmp/fakeapt:$PATH"
calls=$(tr '\n' ' ' <"$tmp/apt-calls" 2>/dev/null)
[ "$calls" = "download update download " ] || fail "download-retry: apt-get calls were '$calls'"

# 5. A metapackage apt does not know (with the lists taken as fresh, so no
#    apt-get update runs).
expect_error unknown-package "$tmp/out-meta" 'cannot resolve no-such-vireo-metapackage (not in apt-cache)' \
  VIREO_GUEST_KERNEL_META=no-such-vireo-metapackage VIREO_GUEST_APT_UPDATED=1

# 6. No OUTDIR at all: usage, status 2.
/bin/sh "$builder" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err" | tr -d ' ')" -eq 1 ] ||
  fail "no-argument: status $rc, stderr: $(cat "$tmp/err")"

exit $failed
