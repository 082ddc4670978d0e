#!/bin/sh
# The README's Quick start, as written: the example config and event give
# the exact report of the spec.
. "$top_srcdir/tests/lib.sh"

cp -r "$top_srcdir/examples" "$TMP/examples"
chmod -R u+w "$TMP/examples"
# a fresh start: no outputs and no run records from an earlier quick start
rm -rf "$TMP/examples/storage/client-outbound" "$TMP/examples/runs"
out=$("$SLUICE" -c "$TMP/examples/sluice.yaml" run "$TMP/examples/events/hit-data-created.json" 2>"$TMP/log")
ok $? "sluice run on the example event exits 0"
is "$out" "s3://client-outbound/2026-11-20/2026-11-20_SearchKeywordPerformance.tab" "prints the output location"
report="$TMP/examples/storage/client-outbound/2026-11-20/2026-11-20_SearchKeywordPerformance.tab"
printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' > "$TMP/want"
cmp -s "$report" "$TMP/want"; ok $? "report has exactly the spec's bytes"
grep -q 'README' "$top_srcdir/README.md" 2>/dev/null || true
like "$(grep -A8 -i '^## quick start' "$top_srcdir/README.md")" 'hit-data-created.json' "README quick start uses this event"
done_testing
