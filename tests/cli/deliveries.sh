#!/bin/sh
# `sluice deliveries`: the delivery sets under a prefix and their state on
# local storage — complete, processed (with the run id), incomplete (what
# is missing or of another size), a manifest that does not parse, data
# files waiting for their manifest; --json; the rules' own prefixes when
# --prefix is not given; --help and usage errors.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/core/delivery_lib.sh"
make_workspace
add_rule '  - name: echo
    match: {bucket: feeds, prefix: adobe/}
    delivery: adobe
    plugin: setecho
    output: "s3://reports/{rsid}/{feed_date}/{name}"'
sluice() { "$SLUICE" -c "$TMP/sluice.yaml" "$@"; }

out=$(sluice deliveries --help); ok $? "--help exits 0"
like "$out" '^Usage: sluice deliveries' "--help prints the usage"
sluice deliveries --prefix /tmp/x >/dev/null 2>"$TMP/err"; is $? 2 "a prefix that is no s3:// location is a usage error"
like "$(cat "$TMP/err")" 'give s3://BUCKET/' "saying what to give"

put_feed feeds adobe/done
put_feed feeds adobe/ready
put_feed feeds adobe/short
sed -i 's/^File-Size: 951/File-Size: 952/' "$TMP/root/feeds/adobe/short/$STEM.txt"
rm "$TMP/root/feeds/adobe/short/02-$STEM.tsv.gz"
mkdir -p "$TMP/root/feeds/adobe/broken" "$TMP/root/feeds/adobe/early"
printf 'this is not a manifest\n' > "$TMP/root/feeds/adobe/broken/$STEM.txt"
cp "$FEED/01-$STEM.tsv.gz" "$TMP/root/feeds/adobe/early/01-$STEM-07.tsv.gz"
cp "$FEED/02-$STEM.tsv.gz" "$TMP/root/feeds/adobe/early/02-$STEM-07.tsv.gz"
sluice process "s3://feeds/adobe/done/$STEM.txt" >/dev/null 2>&1; ok $? "one set processed"
run=$(find "$TMP/runs" -name '*.json' ! -path '*/_done/*' | sed 's|.*/||; s|\.json$||')

list=$(sluice deliveries --prefix s3://feeds/adobe/ 2>"$TMP/err"); ok $? "deliveries exits 0"
like "$list" "^processed +s3://feeds/adobe/done/$STEM.txt +run $run\$" "processed, with the run id"
like "$list" "^complete +s3://feeds/adobe/ready/$STEM.txt +2 data files\$" "complete, not yet processed"
like "$list" "^incomplete +s3://feeds/adobe/short/$STEM.txt +data file 01-$STEM.tsv.gz: size is 951 bytes, the manifest says 952; data file 02-$STEM.tsv.gz is missing\$" \
    "incomplete: every missing file and size"
like "$list" "^bad-manifest +s3://feeds/adobe/broken/$STEM.txt +manifest $STEM.txt:1: not a \"Name: value\" line" \
    "a manifest that does not parse, with its line"
like "$list" "^waiting +s3://feeds/adobe/early/01-$STEM-07.tsv.gz +no manifest $STEM-07.txt \(nor $STEM-07.fin\) beside 01-$STEM-07.tsv.gz, 02-$STEM-07.tsv.gz\$" \
    "data files waiting for their manifest, one line per set"
is "$(printf '%s\n' "$list" | wc -l | tr -d ' ')" 5 "one line per set"

json=$(sluice deliveries --json --prefix s3://feeds/adobe/done/); ok $? "--json exits 0"
is "$(printf '%s' "$json" | "${PYTHON3:-python3}" -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["state"], d["rsid"], d["feed_date"], d["data_files"], d["run_id"])')" \
    "processed shopzilla 2009-09-27 2 $run" "--json: state, rsid, feed_date, data files, run id"

same=$(sluice deliveries 2>"$TMP/err"); ok $? "without --prefix: the rules' buckets and prefixes"
is "$same" "$list" "the same sets"
done_testing
