#!/bin/sh
# Vireo developer entry point for a Debian bookworm machine.
#   build-aux/dev.sh run    install what is missing, build, build the demo guest, launch the app
#   build-aux/dev.sh test   install what is missing, build, run every test (+ a sanitizer pass)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${1:-}
case "$mode" in
  run|test|deps|build) ;;
  *) echo "usage: build-aux/dev.sh run|test" >&2; exit 2 ;;
esac

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
  missing=""
  for pkg in $(grep -v '^#' build-aux/deps.txt); do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing="$missing $pkg"
    fi
  done
  [ -z "$missing" ] && return 0
  echo "dev.sh: installing:$missing"
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

build() {
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --werror "$@"
  fi
  ninja -C "$dir"
}

install_missing
[ "$mode" = deps ] && exit 0
build build
[ "$mode" = build ] && exit 0

if [ "$mode" = run ]; then
  ninja -C build demo-guest
  # Run from the build tree: its compiled GSettings schema and demo guest.
  GSETTINGS_SCHEMA_DIR="$top/build/resources" exec build/app/vireo
fi

# test: the whole suite, then the unit tests again under ASan + UBSan.
export NO_AT_BRIDGE=1
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dguest=false
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --print-errorlogs --num-processes 2 || status=1
python3 build-aux/test-summary.py build/meson-logs/testlog.json \
  build-asan/meson-logs/testlog.json || status=1
exit $status
