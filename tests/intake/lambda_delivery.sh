#!/bin/sh
# A delivery set through `sluice lambda` (against the loopback stand-in for
# the Runtime API, tests/intake/fake_lambda_api.py): the data file's
# invocation is skipped, the manifest's runs the set and answers with the
# exact report's location.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/intake/intake_lib.sh"
. "$top_srcdir/tests/core/delivery_lib.sh"
: "${PYTHON3:=python3}"
make_workspace
sed -i "s|^  path: \[\(.*\)\]|  path: [\1, $top_builddir/plugins]|" "$TMP/sluice.yaml"
add_rule '  - name: adobe
    match: {bucket: feeds, prefix: adobe/}
    delivery: adobe
    plugin: revenue
    output: "s3://reports/{rsid}/{feed_date}.tab"'
put_feed feeds adobe
s3_event feeds "adobe%2F02-$STEM.tsv.gz" > "$TMP/data.json"
s3_event feeds "adobe%2F$STEM.txt" > "$TMP/manifest.json"
printf '[{"id": "req-data", "body_file": "data.json"}, {"id": "req-set", "body_file": "manifest.json"}]\n' > "$TMP/inv.json"
(cd "$TMP" && exec "$PYTHON3" "$top_srcdir/tests/intake/fake_lambda_api.py" --port-file "$TMP/api.port" \
    --record "$TMP/api.record" --violations "$TMP/api.violations" --invocations "$TMP/inv.json") &
fake=$!; track $fake
port=$(wait_port_file "$TMP/api.port") || echo "# the stand-in did not start"
AWS_LAMBDA_RUNTIME_API=127.0.0.1:$port SLUICE_CONFIG="$TMP/sluice.yaml" "$SLUICE" lambda \
    >"$TMP/lambda.out" 2>"$TMP/lambda.log" &
pid=$!; track $pid
answered() { [ "$(wc -l < "$TMP/api.record" 2>/dev/null || echo 0)" -ge 5 ]; }
eventually answered; ok $? "both invocations answered"
stop_pid "$pid" TERM; is "$STATUS" 0 "SIGTERM while waiting: exit 0"
stop_pid "$fake" TERM
E=/2018-06-01/runtime/invocation
is "$(sed -n 2p "$TMP/api.record")" "POST $E/req-data/response application/json {\"succeeded\":0,\"failed\":0,\"skipped\":1,\"outputs\":[]}" \
    "the data file's invocation: skipped"
is "$(sed -n 4p "$TMP/api.record")" "POST $E/req-set/response application/json {\"succeeded\":1,\"failed\":0,\"skipped\":0,\"outputs\":[\"s3://reports/shopzilla/2009-09-27.tab\"]}" \
    "the manifest's invocation runs the set"
cmp -s "$TMP/root/reports/shopzilla/2009-09-27.tab" "$FEED/expected_SearchKeywordPerformance.tab"
ok $? "exactly expected_SearchKeywordPerformance.tab"
is "$(cat "$TMP/api.violations" 2>/dev/null)" "" "no protocol violations"
done_testing
