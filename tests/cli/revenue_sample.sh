#!/bin/sh
# The revenue plugin through the engine: the sample gives the spec's exact
# bytes by every route in (event, object, plain file), and the file name
# takes the event's date, or the run's date on a direct run.
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: revenue
    match: {bucket: inbound, prefix: "hit data/", suffix: .tsv}
    plugin: revenue
    output: "s3://reports/{date}/{name}"'
printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' > "$TMP/want"

# a key with spaces, '+' and unicode, URL-encoded in the event as S3 does
put_object inbound "hit data/2009 09/a+b café.tsv" "$DATA/hit_data.tsv"
s3_event inbound 'hit+data%2F2009+09%2Fa%2Bb+caf%C3%A9.tsv' > "$TMP/ev.json"
out=$("$SLUICE" -c "$TMP/sluice.yaml" run "$TMP/ev.json" 2>"$TMP/log"); ok $? "run exits 0"
is "$out" "s3://reports/2026-11-20/2026-11-20_SearchKeywordPerformance.tab" "event date names the report"
cmp -s "$TMP/root/reports/2026-11-20/2026-11-20_SearchKeywordPerformance.tab" "$TMP/want"; ok $? "exact bytes via event"
like "$(cat "$TMP/log")" 'data_lines=21' "summary carries the plugin counters"
like "$(cat "$TMP/log")" 'revenue_attributed_cents=73000' "attributed revenue counter"

# the run date: the date before or after the run (it may straddle midnight)
day0=$(date -u +%Y-%m-%d)
out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process "s3://inbound/hit data/2009 09/a+b café.tsv"); ok $? "process s3:// exits 0"
day1=$(date -u +%Y-%m-%d)
today=$day0
[ "$out" = "s3://reports/$day1/${day1}_SearchKeywordPerformance.tab" ] && today=$day1
is "$out" "s3://reports/$today/${today}_SearchKeywordPerformance.tab" "direct run uses the run date"
cmp -s "$TMP/root/reports/$today/${today}_SearchKeywordPerformance.tab" "$TMP/want"; ok $? "exact bytes via process"

day0=$(date -u +%Y-%m-%d)
out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process "$DATA/hit_data.tsv" --rule revenue --output "$TMP/direct/"); ok $? "process FILE --rule --output DIR/"
day1=$(date -u +%Y-%m-%d)
today=$day0
[ "$out" = "$TMP/direct/${day1}_SearchKeywordPerformance.tab" ] && today=$day1
is "$out" "$TMP/direct/${today}_SearchKeywordPerformance.tab" "output in the directory, plugin's name"
cmp -s "$TMP/direct/${today}_SearchKeywordPerformance.tab" "$TMP/want"; ok $? "exact bytes via plain file"

out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process "$DATA/hit_data.tsv" --rule revenue --output "$TMP/custom-{stem}.tab"); ok $? "--output template"
cmp -s "$TMP/custom-hit_data.tab" "$TMP/want"; ok $? "template expanded with {stem}"
done_testing
