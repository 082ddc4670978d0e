#!/bin/sh
# `sluice poll` against moto's SQS: messages of every shape run their jobs
# and are deleted; a failing one stays, returns after the visibility
# timeout and lands in the DLQ; two pollers process 50 files exactly once;
# the heartbeat keeps a slow job's message from a second worker; receive
# errors back off; SIGTERM stops cleanly.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/moto.sh"
moto_start
make_workspace
add_rule '  - name: fail
    match: {bucket: in, prefix: fail/}
    plugin: failing
    output: "s3://out/{key}"'
add_rule '  - name: slow
    match: {bucket: in, prefix: slow/}
    plugin: sleepy
    options: {seconds: 5}
    output: "s3://out/{key}"'
add_rule '  - name: copy
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'

queue() { # queue NAME [ATTRIBUTES-JSON] -> URL
    if [ -n "${2:-}" ]; then awsm sqs create-queue --queue-name "$1" --attributes "$2" --query QueueUrl
    else awsm sqs create-queue --queue-name "$1" --query QueueUrl; fi
}
send() { awsm sqs send-message --queue-url "$1" --message-body "$2" >/dev/null; }
depth() { # visible + in flight
    awsm sqs get-queue-attributes --queue-url "$1" --attribute-names All \
        --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' | tr '\t' ' '
}
# a variable, not a function: a backgrounded function is a subshell, and
# $! would then be the subshell's PID instead of sluice's
POLL="$SLUICE -c $TMP/sluice.yaml poll --wait 1"

# 1. every message shape; deleted after success
Q1=$(queue q1)
seq 3 > "$TMP/f"
put_object in a.txt "$TMP/f"; put_object in "b c+d.txt" "$TMP/f"; put_object in e.txt "$TMP/f"
send "$Q1" "$(s3_event in a.txt)"
send "$Q1" "$(s3_event in 'b+c%2Bd.txt')"
send "$Q1" "$("$PYTHON3" -c 'import json,sys; print(json.dumps({"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":sys.argv[1],"Timestamp":"2026-11-20T09:15:42.345Z"}))' "$(s3_event in e.txt)")"
send "$Q1" '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T09:00:03.123Z","Bucket":"in"}'
$POLL --queue "$Q1" --max-idle 1 --workers 2 >/dev/null 2>"$TMP/log1"
is $? 0 "poll drains the queue and exits 0"
is "$(tree out | tr '\n' ' ')" "a.txt b c+d.txt e.txt " "S3, URL-encoded and SNS-wrapped events all processed"
is "$(depth "$Q1")" "0 0" "every message deleted (test event acknowledged too)"
like "$(cat "$TMP/log1")" '4 messages received, 4 deleted, 0 left' "summary counts"

# 2. a failing job: message kept, redelivered, then dead-lettered
DLQ=$(queue dlq)
DLQ_ARN=$(awsm sqs get-queue-attributes --queue-url "$DLQ" --attribute-names QueueArn --query Attributes.QueueArn)
Q2=$(queue q2 "{\"VisibilityTimeout\":\"2\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"2\\\"}\"}")
put_object in fail/x.txt "$TMP/f"
send "$Q2" "$(s3_event in fail/x.txt)"
$POLL --queue "$Q2" --visibility 2 --workers 1 >/dev/null 2>"$TMP/log2" &
pid=$!
for i in $(seq 1 60); do [ "$(depth "$DLQ")" = "1 0" ] && break; sleep 0.25; done
kill -TERM $pid; wait $pid; rc=$?
is "$(depth "$DLQ")" "1 0" "failing message reached the dead-letter queue"
is "$(grep -c 'job failed' "$TMP/log2")" "2" "tried once per receive (maxReceiveCount 2)"
like "$(cat "$TMP/log2")" 'message left on the queue \(receive 1\)' "first failure leaves the message"
like "$(cat "$TMP/log2")" 'message left on the queue \(receive 2\)' "second failure leaves it again"
is "$rc" "1" "exit status 1 after job failures"
is "$(tree out | grep -c fail/)" "0" "no output for the failed job"

# 3. two pollers, 50 files, exactly once
Q3=$(queue q3)
i=0; while [ $i -lt 50 ]; do put_object in "many/f$i.txt" "$TMP/f"; i=$((i + 1)); done
"$PYTHON3" - "$MOTO_URL" "$Q3" <<'PY'
import json, sys, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
for b in range(5):
    entries = []
    for i in range(b * 10, b * 10 + 10):
        body = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventTime": "2026-11-20T09:15:42.118Z",
                             "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "in"}, "object": {"key": "many/f%d.txt" % i, "size": 6, "eTag": "etag-%d" % i}}}]}
        entries.append({"Id": str(i), "MessageBody": json.dumps(body)})
    sqs.send_message_batch(QueueUrl=sys.argv[2], Entries=entries)
PY
$POLL --queue "$Q3" --max-idle 2 --workers 2 --batch 5 >/dev/null 2>"$TMP/log3a" &
p1=$!
$POLL --queue "$Q3" --max-idle 2 --workers 2 --batch 5 >/dev/null 2>"$TMP/log3b" &
p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
is "$r1 $r2" "0 0" "both pollers exit 0"
done_jobs=$(cat "$TMP/log3a" "$TMP/log3b" | grep -c 'job done')
is "$done_jobs" "50" "50 jobs ran in all"
is "$(cat "$TMP/log3a" "$TMP/log3b" | grep 'job done' | sed 's/.*input=//; s/ .*//' | sort -u | wc -l | tr -d ' ')" "50" "each file exactly once"
ok "$([ "$(grep -c 'job done' "$TMP/log3a")" -gt 0 ] && [ "$(grep -c 'job done' "$TMP/log3b")" -gt 0 ]; echo $?)" "both pollers took work"
is "$(tree out/many | wc -l | tr -d ' ')" "50" "50 outputs"
"$SLUICE" -c "$TMP/sluice.yaml" runs list --state succeeded --json 2>/dev/null |
    "$PYTHON3" -c 'import json,sys; r=[json.loads(l)["detail"]["input"]["location"] for l in sys.stdin]; m=[x for x in r if "/many/" in x]; print(len(m), len(set(m)))' > "$TMP/records"
is "$(cat "$TMP/records")" "50 50" "a run record for each file, no duplicates"
is "$(depth "$Q3")" "0 0" "queue empty"

# 4. heartbeat: a 5 s job with a 2 s visibility timeout is not taken twice
Q4=$(queue q4 '{"VisibilityTimeout":"2"}')
put_object in slow/s.txt "$TMP/f"
send "$Q4" "$(s3_event in slow/s.txt)"
$POLL --queue "$Q4" --visibility 2 --workers 1 --max-idle 1 --log-level debug >/dev/null 2>"$TMP/log4a" &
p1=$!
sleep 1
$POLL --queue "$Q4" --visibility 2 --workers 1 --max-idle 4 >/dev/null 2>"$TMP/log4b" &
p2=$!
wait $p1; wait $p2
is "$(cat "$TMP/log4a" "$TMP/log4b" | grep -c 'job done')" "1" "slow job ran once"
like "$(cat "$TMP/log4a")" 'heartbeat: visibility extended' "heartbeat extended the visibility"
is "$(depth "$Q4")" "0 0" "slow job's message deleted"

# 5. receive errors back off instead of spinning; SIGTERM stops
$POLL --queue "$MOTO_URL/123456789012/no-such-queue" --workers 1 >/dev/null 2>"$TMP/log5" &
pid=$!
sleep 3
kill -TERM $pid; wait $pid; rc=$?
n=$(grep -c 'receive failed' "$TMP/log5")
ok "$([ "$n" -ge 1 ] && [ "$n" -le 4 ]; echo $?)" "receive errors back off ($n attempts in 3 s)"
like "$(cat "$TMP/log5")" 'QueueDoesNotExist|NonExistentQueue' "the SQS error code is reported"
is "$rc" "0" "SIGTERM: clean exit"

Q6=$(queue q6)
t0=$(date +%s)
"$SLUICE" -c "$TMP/sluice.yaml" poll --queue "$Q6" --wait 20 >/dev/null 2>&1 &
pid=$!
sleep 1; kill -TERM $pid; wait $pid; rc=$?
t1=$(date +%s)
is "$rc" "0" "SIGTERM during a 20 s long poll: exit 0"
ok "$([ $((t1 - t0)) -le 5 ]; echo $?)" "and promptly ($((t1 - t0)) s)"

err=$("$SLUICE" -c "$TMP/sluice.yaml" poll 2>&1); is $? 2 "no --queue: exit 2"
like "$err" '--queue URL is required' "says what is missing"
err=$("$SLUICE" -c "$TMP/sluice.yaml" poll --queue "$Q1" --batch 11 2>&1); is $? 2 "--batch 11: exit 2"
done_testing
