#!/bin/sh
# Every event shape reaches the right object: S3 notification, EventBridge,
# SNS envelope, SQS message (real-AWS and moto fixtures); test events and
# removals are acknowledged; malformed events are refused naming the field.
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://out/{bucket}/{key}"'
EV="$DATA/events"
printf 'x\n' > "$TMP/x"
put_object client-inbound "hit data/2009 09/a+b café.tsv" "$TMP/x"
put_object inbound "hit data/2009 09/caf€ a+b.tsv" "$TMP/x"
put_object inbound-eb "hit data/2009 09/caf€ a+b.tsv" "$TMP/x"
put_object inbound-sns "hit data/2009 09/caf€ a+b.tsv" "$TMP/x"

check() { # check FIXTURE EXPECTED_OUTPUT_LOCATION
    # --force: the same objects arrive in several shapes; skip no duplicates here
    out=$("$SLUICE" -q -c "$TMP/sluice.yaml" run --force "$1"); ok $? "$(basename "$1") exits 0"
    is "$out" "$2" "$(basename "$1") processes the decoded key"
}
check "$EV/s3-put.json" "s3://out/client-inbound/hit data/2009 09/a+b café.tsv"
check "$EV/eventbridge-object-created.json" "s3://out/client-inbound/hit data/2009 09/a+b café.tsv"
check "$EV/sns-envelope-s3.json" "s3://out/client-inbound/hit data/2009 09/a+b café.tsv"
check "$EV/sqs-receive-message-s3.json" "s3://out/client-inbound/hit data/2009 09/a+b café.tsv"
check "$EV/sqs-receive-message-sns-wrapped.json" "s3://out/client-inbound/hit data/2009 09/a+b café.tsv"
check "$EV/moto/sqs-body-s3-put.json" "s3://out/inbound/hit data/2009 09/caf€ a+b.tsv"
check "$EV/moto/sqs-body-eventbridge-object-created.json" "s3://out/inbound-eb/hit data/2009 09/caf€ a+b.tsv"
check "$EV/moto/sqs-body-sns-s3-put.json" "s3://out/inbound-sns/hit data/2009 09/caf€ a+b.tsv"
is "$(cat "$TMP/root/out/inbound/hit data/2009 09/caf€ a+b.tsv")" "x" "content copied"

for f in s3-test-event.json s3-removed.json moto/sqs-body-s3-test-event.json moto/sqs-body-sns-test-event.json; do
    out=$("$SLUICE" -c "$TMP/sluice.yaml" run "$EV/$f" 2>"$TMP/log"); ok $? "$f acknowledged (exit 0)"
    is "$out" "" "$f runs no job"
    like "$(cat "$TMP/log")" 'skipped: (s3:TestEvent|ObjectRemoved:Delete)' "$f logged as skipped"
done

# from standard input
s3_event client-inbound 'hit+data/2009+09/a%2Bb+caf%C3%A9.tsv' | "$SLUICE" -q -c "$TMP/sluice.yaml" run - >/dev/null
ok $? "event from stdin"

bad() { # bad JSON EXPECTED_MESSAGE_REGEX NAME
    printf '%s' "$1" > "$TMP/bad.json"
    err=$("$SLUICE" -c "$TMP/sluice.yaml" run "$TMP/bad.json" 2>&1); is $? 2 "$3: exit 2"
    like "$err" "$2" "$3: error names the problem"
}
bad '{"Records":[{"eventVersion":"2.1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}' 'Records\[0\]\.s3\.object\.key' "missing key"
bad '{"Records":[{"eventVersion":"2.1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":7},"object":{"key":"k"}}}]}' 'Records\[0\]\.s3\.bucket\.name' "bucket not a string"
bad '{"Records": [' 'JSON|json' "truncated JSON"
bad '{"hello":"world"}' 'not a recognised event' "unknown shape"
bad '' 'JSON|json|empty' "empty input"
err=$("$SLUICE" -c "$TMP/sluice.yaml" run "$TMP/nope.json" 2>&1); is $? 2 "missing event file: exit 2"
like "$err" 'nope.json' "missing event file named"
done_testing
