#!/bin/sh
# Delivery sets on S3 (moto), the production path: S3 -> SQS -> `sluice
# poll`. The fixture's files are uploaded, the manifest last: the data
# files' events are skipped, the manifest's runs the set and the exact
# report appears; a set whose MD5 check fails publishes nothing and is
# notified; a re-sent manifest is a duplicate. Then by hand on S3:
# `sluice process s3://.../RSID_DATE.txt` and `sluice deliveries`.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/moto.sh"
. "$top_srcdir/tests/core/delivery_lib.sh"
moto_start

awsm s3 mb s3://feeds >/dev/null && awsm s3 mb s3://reports >/dev/null
ok $? "buckets made with awscli"
Q=$(awsm sqs create-queue --queue-name feed-events --query QueueUrl)
Q_ARN=$(awsm sqs get-queue-attributes --queue-url "$Q" --attribute-names QueueArn --query Attributes.QueueArn)
awsm s3api put-bucket-notification-configuration --bucket feeds --notification-configuration \
    "{\"QueueConfigurations\":[{\"QueueArn\":\"$Q_ARN\",\"Events\":[\"s3:ObjectCreated:*\"]}]}"
ok $? "bucket notification S3 -> SQS configured"

cat > "$TMP/sluice.yaml" <<YAML
storage:
  type: s3
  endpoint: $MOTO_URL
  region: us-east-1
plugins:
  path: [$top_builddir/tests/plugins, $top_builddir/plugins]
runs:
  dir: runs
notify:
  audit: {type: log}
on_failure: [audit]
rules:
  - name: adobe-daily
    match: {bucket: feeds, prefix: adobe/}
    delivery: adobe
    plugin: revenue
    output: "s3://reports/{dir}/{rsid}_{feed_date}.tab"
  - name: echo
    match: {bucket: feeds, prefix: bad/}
    delivery: adobe
    plugin: setecho
    output: "s3://reports/{dir}/{name}"
YAML

"$SLUICE" --log-format json -c "$TMP/sluice.yaml" poll --queue "$Q" --wait 1 --workers 2 \
    >"$TMP/out" 2>"$TMP/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; kill "$MOTO_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

# the set as Adobe delivers it: data and lookups first, the manifest last
for f in "01-$STEM.tsv.gz" "02-$STEM.tsv.gz" "$STEM-lookup_data.tar.gz" "$STEM.txt"; do
    awsm s3 cp "$FEED/$f" "s3://feeds/adobe/$f" >/dev/null || echo "# upload of $f failed"
done
report_there() { awsm s3api head-object --bucket reports --key "adobe/${STEM}.tab" >/dev/null 2>&1; }
eventually report_there; ok $? "the manifest's event runs the set: the report appears"
awsm s3 cp "s3://reports/adobe/${STEM}.tab" "$TMP/report.tab" >/dev/null 2>&1
cmp -s "$TMP/report.tab" "$FEED/expected_SearchKeywordPerformance.tab"
ok $? "exactly expected_SearchKeywordPerformance.tab"
three_skipped() { [ "$(grep -c 'this is no manifest' "$TMP/log")" -ge 3 ]; }
eventually three_skipped; ok $? "the data files' and lookup archive's own events are skipped"

# a set whose second data file does not match its MD5
mkdir -p "$TMP/bad"
cp "$FEED"/*.gz "$FEED/$STEM.txt" "$TMP/bad/"
sed -i 's/^MD5-Digest: 8e2ecaa5a121243e0b876a0bc15a68b1/MD5-Digest: 00000000000000000000000000000000/' "$TMP/bad/$STEM.txt"
for f in "01-$STEM.tsv.gz" "02-$STEM.tsv.gz" "$STEM-lookup_data.tar.gz" "$STEM.txt"; do
    awsm s3 cp "$TMP/bad/$f" "s3://feeds/bad/$f" >/dev/null || echo "# upload of $f failed"
done
md5_failed() { grep '"target":"audit"' "$TMP/log" | grep -q "02-$STEM.tsv.gz: MD5 check failed"; }
eventually md5_failed; ok $? "the MD5 check fails the job, names the file, and is notified"
is "$(awsm s3api list-objects-v2 --bucket reports --prefix bad/ --query 'length(Contents || `[]`)')" "0" \
    "nothing published for the failed set"
is "$(awsm s3api list-multipart-uploads --bucket reports --query 'length(Uploads || `[]`)')" "0" \
    "no upload left open"

# the same manifest again
awsm s3 cp "$FEED/$STEM.txt" "s3://feeds/adobe/$STEM.txt" >/dev/null
dup() { grep -q 'job skipped: duplicate: rule \\"adobe-daily\\"' "$TMP/log"; }
eventually dup; ok $? "a re-sent identical manifest is skipped as a duplicate"
kill -TERM "$pid"; wait "$pid"
is "$?" "1" "poll stops on SIGTERM (exit 1: a job failed)"

# by hand on S3
awsm s3 rm "s3://reports/adobe/${STEM}.tab" >/dev/null
out=$("$SLUICE" -c "$TMP/sluice.yaml" process --force "s3://feeds/adobe/$STEM.txt" 2>"$TMP/log2")
ok $? "sluice process s3://feeds/adobe/$STEM.txt runs the set by hand"
is "$out" "s3://reports/adobe/${STEM}.tab" "to the rule's output"
awsm s3 cp "s3://reports/adobe/${STEM}.tab" "$TMP/report2.tab" >/dev/null 2>&1
cmp -s "$TMP/report2.tab" "$FEED/expected_SearchKeywordPerformance.tab"; ok $? "exact report again"

# the operator's view
awsm s3 cp "$FEED/01-$STEM.tsv.gz" "s3://feeds/adobe/01-shopzilla_2009-09-28.tsv.gz" >/dev/null
awsm s3 cp "$FEED/01-$STEM.tsv.gz" "s3://feeds/late/01-$STEM.tsv.gz" >/dev/null
awsm s3 cp "$FEED/$STEM.txt" "s3://feeds/late/$STEM.txt" >/dev/null
list=$("$SLUICE" -c "$TMP/sluice.yaml" deliveries --prefix s3://feeds/ 2>"$TMP/log3")
ok $? "sluice deliveries on S3 exits 0"
like "$list" "^processed +s3://feeds/adobe/$STEM.txt +run [0-9]{8}T" "the processed set, with its run id"
like "$list" "^complete +s3://feeds/bad/$STEM.txt +2 data files" "a complete set not processed (its run failed)"
like "$list" "^incomplete +s3://feeds/late/$STEM.txt +lookup file $STEM-lookup_data.tar.gz is missing; data file 02-$STEM.tsv.gz is missing" \
    "an incomplete set names what is missing"
like "$list" "^waiting +s3://feeds/adobe/01-shopzilla_2009-09-28.tsv.gz +no manifest shopzilla_2009-09-28.txt" \
    "data files whose manifest has not come"
unlike "$list" "^waiting.*$STEM" "data files of a set with a manifest are not listed as waiting"
done_testing
