#!/bin/sh
# The German translation covers every string the sources mark today:
# extract a fresh template from po/POTFILES.in and compare with msgcmp
# (an untranslated or missing message fails).
set -eu
src=${VIREO_SRCDIR:?}
for tool in xgettext msgcmp; do
  command -v $tool >/dev/null 2>&1 || { echo "skip: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xgettext --directory="$src" --files-from="$src/po/POTFILES.in" --from-code=UTF-8 \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --output="$tmp/vireo.pot" 2>"$tmp/xgettext.log" || { cat "$tmp/xgettext.log"; exit 1; }
msgcmp "$src/po/de.po" "$tmp/vireo.pot"
echo "ok: po/de.po translates all $(grep -c '^msgid ' "$tmp/vireo.pot") messages"
