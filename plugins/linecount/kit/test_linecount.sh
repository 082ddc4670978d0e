#!/bin/sh
# make check: the plugin as sluice uses it. `sluice plugins check` holds it
# to the plugin contract (exports, ABI, options schema, init with the
# schema's example options, an empty input, sample.txt, two runs at once);
# then one run with options, compared with what it must write.
set -e
plugin=./linecount.la
"$SLUICE" plugins check "$plugin" --input "$srcdir/sample.txt"

out=$("$SLUICE" -q plugins run "$plugin" --input "$srcdir/sample.txt" --options '{"mode": "count"}')
if [ "$out" != "3" ]; then
    echo "mode count: expected 3, got \"$out\"" >&2
    exit 1
fi
echo "ok: linecount passes sluice plugins check and counts sample.txt"
