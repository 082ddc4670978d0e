#!/bin/sh
# Delivery sets on local storage (specs adobe-data-feeds.md §1): the
# fixture's exact report when its manifest's event comes, the set handed to
# the plugin (data files decoded in manifest order, meta, lookup files),
# every failed check leaving nothing published and a notified failure, a
# .fin set, a duplicate manifest skipped and a changed one replacing the
# output, an hourly set without lookups, a data file without its manifest.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/core/delivery_lib.sh"
command -v bsdtar >/dev/null 2>&1 || skip_all "bsdtar (libarchive-tools) not installed"
make_workspace
sed -i "s|^  path: \[\(.*\)\]|  path: [\1, $top_builddir/plugins]|" "$TMP/sluice.yaml"
add_rule '  - name: report
    match: {bucket: feeds, prefix: rev/}
    delivery: adobe
    plugin: revenue
    output: "s3://reports/{dir}/{rsid}_{feed_date}.tab"
  - name: report-columns
    match: {bucket: feeds, prefix: cols/}
    delivery: adobe
    plugin: revenue
    options: {columns: COLUMNS}
    output: "s3://reports/{dir}/{rsid}_{feed_date}.tab"
  - name: echo
    match: {bucket: feeds, prefix: set/}
    delivery: adobe
    plugin: setecho
    options: {lookups: [column_headers.tsv, event.tsv]}
    output: "s3://reports/{dir}/{name}"
notify:
  audit: {type: log}
on_failure: [audit]'
bsdtar -xOf "$FEED/$STEM-lookup_data.tar.gz" column_headers.tsv > "$TMP/column_headers.tsv"
sed -i "s|COLUMNS|$TMP/column_headers.tsv|" "$TMP/sluice.yaml"
sluice() { "$SLUICE" --log-format json -c "$TMP/sluice.yaml" "$@"; }
want="$FEED/expected_SearchKeywordPerformance.tab"

# --- the fixture, triggered by its manifest's event ---------------------------
put_feed feeds rev/day
s3_event feeds "rev/day/$STEM.txt" > "$TMP/ev.json"
out=$(sluice run "$TMP/ev.json" 2>"$TMP/log"); ok $? "the manifest's event runs the set"
is "$out" "s3://reports/rev/day/shopzilla_2009-09-27.tab" "output named by {rsid} and {feed_date}"
cmp -s "$TMP/root/reports/rev/day/shopzilla_2009-09-27.tab" "$want"
ok $? "exactly expected_SearchKeywordPerformance.tab"
like "$(cat "$TMP/log")" '"lines_read":24' "the plugin read the 24 records of both files"

# the manifest's event again after the data files were cleaned up: a duplicate
rm "$TMP/root/feeds/rev/day/"*.gz
sluice run "$TMP/ev.json" >/dev/null 2>"$TMP/log"; ok $? "the same manifest again, its data gone: exit 0"
like "$(cat "$TMP/log")" 'job skipped: duplicate: rule \\"report\\"' "skipped as a duplicate before the set is looked at"
put_feed feeds rev/day

# a data file's own event: not processed, the set waits for its manifest
s3_event feeds "rev/day/02-$STEM.tsv.gz" > "$TMP/ev2.json"
sluice run "$TMP/ev2.json" >"$TMP/out" 2>"$TMP/log"; ok $? "a data file's event is no failure"
like "$(cat "$TMP/log")" 'job skipped: rule \\"report\\" processes delivery sets: this is no manifest' \
    "a data file is skipped by the delivery rule, saying why"
is "$(cat "$TMP/out")" "" "no output for a data file"

# the same set by hand, from a plain directory
mkdir -p "$TMP/plain"
cp "$FEED"/*.gz "$FEED/$STEM.txt" "$TMP/plain/"
out=$(sluice process --rule report --output "$TMP/plain-out.tab" "$TMP/plain/$STEM.txt" 2>"$TMP/log")
ok $? "process a manifest given as a file path"
cmp -s "$TMP/plain-out.tab" "$want"; ok $? "exact report from plain files"

# --- what the plugin is handed -------------------------------------------------
put_feed feeds set/day
sluice process "s3://feeds/set/day/$STEM.txt" >/dev/null 2>"$TMP/log"; ok $? "setecho set runs"
setecho_expected "(null)" > "$TMP/echo.want"
cmp -s "$TMP/root/reports/set/day/set.out" "$TMP/echo.want"
ok $? "data files decoded in manifest order as one stream; meta; lookup files by name"

# --- a duplicate manifest, a changed one ---------------------------------------
cp "$TMP/root/reports/set/day/set.out" "$TMP/first.out"
sluice process "s3://feeds/set/day/$STEM.txt" >/dev/null 2>"$TMP/log"; ok $? "a re-sent manifest: exit 0"
like "$(cat "$TMP/log")" 'job skipped: duplicate: rule \\"echo\\" already processed' "it is skipped as a duplicate"
cp "$TMP/root/feeds/set/day/$STEM.txt" "$TMP/root/feeds/set/day/copy"
cp "$TMP/root/feeds/set/day/copy" "$TMP/root/feeds/set/day/$STEM.txt"
sluice process "s3://feeds/set/day/$STEM.txt" >/dev/null 2>"$TMP/log"
like "$(cat "$TMP/log")" 'job skipped: duplicate' "the same content rewritten (new mtime) is still a duplicate"
rm "$TMP/root/feeds/set/day/copy"
printf 'resent\tday\n' | gzip > "$TMP/root/feeds/set/day/02-$STEM.tsv.gz"
write_manifest "$TMP/root/feeds/set/day" "$STEM.txt" 13 "L:$STEM-lookup_data.tar.gz" \
    "D:01-$STEM.tsv.gz:12" "D:02-$STEM.tsv.gz:1"
sluice process "s3://feeds/set/day/$STEM.txt" >/dev/null 2>"$TMP/log"; ok $? "a changed manifest runs again"
like "$(tail -7 "$TMP/root/reports/set/day/set.out" | head -1)" '^resent	day$' "its output replaced the earlier one"

# --- every failed check: nothing published, the failure notified ---------------
# fail_case NAME EDIT EXPECTED_MESSAGE_ERE: the fixture under set/NAME, edited
# by the shell command EDIT run in its directory
fail_case() {
    put_feed feeds "set/$1"
    (cd "$TMP/root/feeds/set/$1" && eval "$2") || echo "# edit failed: $2"
    sluice process "s3://feeds/set/$1/$STEM.txt" >/dev/null 2>"$TMP/log"
    is $? 1 "$1: the job fails"
    like "$(grep '"msg":"job failed' "$TMP/log")" "$3" "$1: the message names the file and the check"
    is "$(tree reports | grep "^set/$1/")" "" "$1: nothing published, no temporary left"
    like "$(grep '"target":"audit"' "$TMP/log")" "\"state\":\"FAILED\".*$3" "$1: the failure is notified"
}
fail_case missing "rm 02-$STEM.tsv.gz" \
    "delivery $STEM.txt is incomplete: data file 02-$STEM.tsv.gz is missing"
fail_case size "sed -i 's/^File-Size: 734/File-Size: 735/' $STEM.txt" \
    "data file 02-$STEM.tsv.gz: size is 734 bytes, the manifest says 735"
fail_case md5 "sed -i 's/^MD5-Digest: 8e2ecaa5a121243e0b876a0bc15a68b1/MD5-Digest: 8e2ecaa5a121243e0b876a0bc15a68b2/' $STEM.txt" \
    "data file 02-$STEM.tsv.gz: MD5 check failed: computed 8e2ecaa5a121243e0b876a0bc15a68b1, the manifest says 8e2ecaa5a121243e0b876a0bc15a68b2"
fail_case count "sed -i '0,/^Record-Count: 12/s//Record-Count: 11/' $STEM.txt && sed -i 's/^Record-Count: 12/Record-Count: 13/' $STEM.txt" \
    "data file 01-$STEM.tsv.gz: record count check failed: 12 records, the manifest's Record-Count is 11"
fail_case total "sed -i 's/^Total-Records: 24/Total-Records: 25/' $STEM.txt" \
    "total record check failed: the data files hold 24 records, the manifest's Total-Records is 25"
fail_case archive "head -c 200 /dev/urandom > $STEM-lookup_data.tar.gz && write_manifest . $STEM.txt 24 L:$STEM-lookup_data.tar.gz D:01-$STEM.tsv.gz:12 D:02-$STEM.tsv.gz:12" \
    "lookup file $STEM-lookup_data.tar.gz is not a readable archive"
fail_case baddata "printf 'not gzip' | gzip | head -c 20 > 02-$STEM.tsv.gz && write_manifest . $STEM.txt 24 L:$STEM-lookup_data.tar.gz D:01-$STEM.tsv.gz:12 D:02-$STEM.tsv.gz:12" \
    "data file 02-$STEM.tsv.gz is not readable: .*truncated"

# --- a .fin set: the data files beside it, in name order ------------------------
put_feed feeds set/fin
rm "$TMP/root/feeds/set/fin/$STEM.txt"
: > "$TMP/root/feeds/set/fin/$STEM.fin"
cp "$FEED/01-$STEM.tsv.gz" "$TMP/root/feeds/set/fin/01-other_2009-09-27.tsv.gz" # another set's
sluice process "s3://feeds/set/fin/$STEM.fin" >/dev/null 2>"$TMP/log"; ok $? ".fin set runs"
cmp -s "$TMP/root/reports/set/fin/set.out" "$TMP/echo.want"; ok $? ".fin set: its own data files in name order, its lookup archive"
sluice process "s3://feeds/set/fin/$STEM.fin" >/dev/null 2>"$TMP/log"
like "$(cat "$TMP/log")" 'job skipped: duplicate' "the same .fin set again is a duplicate"

# --- an hourly set without a lookup archive -------------------------------------
for p in rev/hour cols/hour set/hour; do
    mkdir -p "$TMP/root/feeds/$p"
    cp "$FEED/01-$STEM.tsv.gz" "$TMP/root/feeds/$p/01-$STEM-05.tsv.gz"
    cp "$FEED/02-$STEM.tsv.gz" "$TMP/root/feeds/$p/02-$STEM-05.tsv.gz"
    write_manifest "$TMP/root/feeds/$p" "$STEM-05.txt" 24 "D:01-$STEM-05.tsv.gz:12" "D:02-$STEM-05.tsv.gz:12"
done
sluice process "s3://feeds/set/hour/$STEM-05.txt" >/dev/null 2>"$TMP/log"; ok $? "hourly set runs"
like "$(cat "$TMP/root/reports/set/hour/set.out")" '#meta feed_hour=05' "feed_hour is the hour"
like "$(cat "$TMP/root/reports/set/hour/set.out")" '#lookup column_headers.tsv none' "no lookup files: lookup_open gives NULL"
sluice process "s3://feeds/rev/hour/$STEM-05.txt" >/dev/null 2>"$TMP/log"
is $? 1 "hourly set without lookups nor columns: the report fails"
like "$(grep '"msg":"job failed' "$TMP/log")" 'column_headers.tsv' "it says the column names are missing"
is "$(tree reports | grep '^rev/hour/')" "" "nothing published"
out=$(sluice process "s3://feeds/cols/hour/$STEM-05.txt" 2>"$TMP/log"); ok $? "with the columns option it runs"
cmp -s "$TMP/root/reports/cols/hour/shopzilla_2009-09-27.tab" "$want"; ok $? "and gives the exact report"
done_testing
