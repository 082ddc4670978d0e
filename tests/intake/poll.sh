#!/bin/sh
# `sluice poll` against moto's SQS: messages of every shape run their jobs
# and are deleted; a failing one stays, returns after the visibility
# timeout and lands in the DLQ; two pollers process 50 files exactly once;
# the heartbeat keeps a slow job's message from a second worker, and a
# message whose extensions all fail is reported as lapsed; receive errors
# back off; SIGTERM stops cleanly, and the messages of a batch not started
# are made visible again at once.
#
# No fixed sleeps: jobs that must be "running" are held by the sleepy plugin
# until the test releases them (release_file) and announce themselves
# (started_file); the moto wrapper reports SQS long polls in moto.log.
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
    options: {started_file: '"$TMP/slow.started"', release_file: '"$TMP/slow.go"'}
    output: "s3://out/{key}"'
add_rule '  - name: many
    match: {bucket: in, prefix: many/}
    plugin: sleepy
    options: {started_file: '"$TMP/many.started"', release_file: '"$TMP/many.go"'}
    output: "s3://out/{key}"'
add_rule '  - name: copy
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'

queue() { sqs_queue "$@"; }
send() { sqs_send "$@"; }
depth() { sqs_depth "$@"; }
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
dead_lettered() { [ "$(depth "$DLQ")" = "1 0" ]; }
eventually dead_lettered
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
# Each job is held until many.go exists. A poller runs at most one job per
# worker, so four jobs held at once means both pollers' two workers hold
# one: both took work, by construction rather than by luck of scheduling.
$POLL --queue "$Q3" --max-idle 2 --workers 2 --batch 5 >/dev/null 2>"$TMP/log3a" &
p1=$!
$POLL --queue "$Q3" --max-idle 2 --workers 2 --batch 5 >/dev/null 2>"$TMP/log3b" &
p2=$!
held() { [ "$(cat "$1" 2>/dev/null | wc -l | tr -d ' ')" -ge "$2" ]; }
eventually held "$TMP/many.started" 4; ok $? "four jobs held at once: two per poller"
touch "$TMP/many.go"
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

# 4. heartbeat: a job held longer than its 4 s visibility timeout is not
#    taken by a second poller. The second poller starts once the job runs
#    (its started_file) and gives up after 6 empty receives of 1 s each: its
#    last receives come after the 4 s, when the message would be visible
#    again but for the heartbeat. Only then is the job released.
Q4=$(queue q4 '{"VisibilityTimeout":"4"}')
put_object in slow/s.txt "$TMP/f"
send "$Q4" "$(s3_event in slow/s.txt)"
$POLL --queue "$Q4" --visibility 4 --workers 1 --log-level debug --metrics-listen 127.0.0.1:0 >/dev/null 2>"$TMP/log4a" &
p1=$!
eventually test -e "$TMP/slow.started"; ok $? "the first poller runs the slow job"
# its /metrics while the job runs (validated by tests/intake/promtext.py)
MPORT=$(sed -n 's/.*metrics on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$TMP/log4a" | head -1)
scrape() { # scrape NAME: the samples of /metrics as JSON in $TMP/NAME
    "$PYTHON3" "$top_srcdir/tests/intake/promtext.py" "http://127.0.0.1:$MPORT/metrics" "$TMP/$1.txt" > "$TMP/$1" 2> "$TMP/$1.err"
}
metric() { "$PYTHON3" -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else "%g" % v)' "$TMP/$1" "$2"; }
scrape m1; ok $? "poll --metrics-listen: /metrics is valid Prometheus text while a job runs $(cat "$TMP/m1.err")"
is "$("$PYTHON3" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=60).read().decode(), end="")' "http://127.0.0.1:$MPORT/healthz")" "ok" "poll: GET /healthz"
is "$(metric m1 sluice_jobs_in_flight)" 1 "metrics: one job in flight"
is "$(metric m1 sluice_queue_messages_received_total)" 1 "metrics: one message received"
is "$(metric m1 sluice_queue_messages_deleted_total)" 0 "metrics: none deleted yet"
ok $([ "$(metric m1 sluice_queue_receives_total)" -ge 1 ]; echo $?) "metrics: receives counted"
$POLL --queue "$Q4" --visibility 4 --workers 1 --max-idle 6 >/dev/null 2>"$TMP/log4b" &
p2=$!
eventually exited $p2; ok $? "the second poller found nothing in 6 receives and stopped"
wait $p2
ok "$(exited $p1 && echo 1 || echo 0)" "the first poller is still in the job"
touch "$TMP/slow.go"
settled() { scrape m2 && [ "$(metric m2 sluice_queue_messages_deleted_total)" = 1 ]; }
eventually settled; ok $? "metrics: the message deleted after its job"
is "$(metric m2 'sluice_jobs_total{rule="slow",outcome="succeeded"}')" 1 "metrics: the job counted by rule and outcome"
is "$(metric m2 sluice_jobs_in_flight)" 0 "metrics: nothing in flight"
ok $([ "$(metric m2 sluice_queue_visibility_extensions_total)" -ge 1 ]; echo $?) "metrics: the heartbeat's extensions counted"
ok $([ -n "$(metric m2 'sluice_last_success_timestamp_seconds{rule="slow"}')" ]; echo $?) "metrics: the rule's last success"
kill -TERM $p1; wait $p1
is "$(cat "$TMP/log4a" "$TMP/log4b" | grep -c 'job done')" "1" "slow job ran once"
like "$(cat "$TMP/log4a")" 'heartbeat: visibility of 1 message\(s\) extended by 4 s' "heartbeat extended the visibility"
is "$(metric m2 sluice_queue_visibility_lapses_total)" 0 "metrics: no visibility lapse"
is "$(depth "$Q4")" "0 0" "slow job's message deleted"

# 5. receive errors back off instead of spinning; SIGTERM stops. Three
#    failures are waited for; then every retry must have come at least the
#    wait it announced ("retrying in X s", never under 0.5 s) after the
#    failure before it: a slow machine only makes the gaps longer.
$POLL --queue "$MOTO_URL/123456789012/no-such-queue" --workers 1 >/dev/null 2>"$TMP/log5" &
pid=$!
failures() { [ "$(grep -c 'receive failed' "$TMP/log5")" -ge "$1" ]; }
eventually failures 3; ok $? "three receives failed"
kill -TERM $pid; wait $pid; rc=$?
"$PYTHON3" - "$TMP/log5" <<'PY'
import datetime, re, sys
pat = re.compile(r"^(\S+)Z \S+ +receive failed: .*; retrying in ([0-9.]+) s$")
seen = []
for line in open(sys.argv[1]):
    m = pat.match(line.rstrip("\n"))
    if m:
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
        seen.append((t, float(m.group(2))))
ok = len(seen) >= 3 and all(w >= 0.5 for _, w in seen)
for (t0, w), (t1, _) in zip(seen, seen[1:]):
    ok = ok and t1 - t0 >= w - 0.06  # the wait is printed rounded to 0.1 s
    print("# waited %.3f s, announced %.1f s" % (t1 - t0, w))
sys.exit(0 if ok else 1)
PY
ok $? "receive errors back off: each retry waited its announced backoff (>= 0.5 s)"
like "$(cat "$TMP/log5")" 'QueueDoesNotExist|NonExistentQueue' "the SQS error code is reported"
is "$rc" "0" "SIGTERM: clean exit"

# 6. SIGTERM during a long poll: the moto wrapper says when the poller is
#    inside its 20 s long poll, and when that long poll returns; the poller
#    must have exited before it does.
Q6=$(queue q6)
"$SLUICE" -c "$TMP/sluice.yaml" poll --queue "$Q6" --wait 20 >/dev/null 2>&1 &
pid=$!
eventually grep -q 'sqs long poll started: q6 20' "$TMP/moto.log"; ok $? "the poller is in a 20 s long poll"
kill -TERM $pid; wait $pid; rc=$?
is "$rc" "0" "SIGTERM during a 20 s long poll: exit 0"
if grep -q 'sqs long poll returned: q6 ' "$TMP/moto.log"; then r=1; else r=0; fi
ok $r "and promptly: before the long poll ended"

# 7. a lapse: the fault proxy resets every visibility extension, so the
#    slow job's message (2 s timeout) becomes visible again while the job
#    is held. The test then receives and deletes it, as a second worker
#    that ran it would, and lets extensions through again: SQS refuses the
#    held message's (its receipt is no longer valid), and the heartbeat
#    must stop trying. Released, the job ends; the poller must say that
#    the message lapsed (another worker may have run it too).
rm -f "$TMP/slow.started" "$TMP/slow.go"
Q7=$(queue q7 '{"VisibilityTimeout":"2"}')
put_object in slow/lapse.txt "$TMP/f"
send "$Q7" "$(s3_event in slow/lapse.txt)"
printf '%s\n' '[{"header": {"x-amz-target": "ChangeMessageVisibility"}, "action": "reset", "count": -1}]' >"$TMP/lapse.rules"
"$PYTHON3" "$top_srcdir/tests/storage/faultproxy.py" --upstream "127.0.0.1:$MOTO_PORT" \
    --rules "$TMP/lapse.rules" --log "$TMP/proxy7.log" --port-file "$TMP/proxy7.port" 2>"$TMP/proxy7.err" &
proxy=$!
PPORT=$(wait_port_file "$TMP/proxy7.port"); ok $? "the fault proxy listens"
$POLL --queue "$(printf '%s' "$Q7" | sed "s|:$MOTO_PORT/|:$PPORT/|")" --visibility 2 --workers 1 >/dev/null 2>"$TMP/log7" &
pid=$!
eventually test -e "$TMP/slow.started"; ok $? "the poller runs the slow job"
visible_again() { [ "$(depth "$Q7")" = "1 0" ]; }
eventually visible_again; ok $? "its extensions reset, the message is visible again while the job runs"
like "$(cat "$TMP/log7")" 'heartbeat: .*trying again in 0.5 s' "each failed extension is tried again soon"
receipt=$(awsm sqs receive-message --queue-url "$Q7" --query 'Messages[0].ReceiptHandle')
awsm sqs delete-message --queue-url "$Q7" --receipt-handle "$receipt"; ok $? "another consumer receives and deletes it"
echo '[]' >"$TMP/lapse.rules.new" && mv "$TMP/lapse.rules.new" "$TMP/lapse.rules"
refused() { grep -q 'entries not changed: ReceiptHandleIsInvalid' "$TMP/log7"; }
eventually refused; ok $? "the next extension reaches SQS, which refuses it: ReceiptHandleIsInvalid"
# an absence takes a window to see: 2 s, four of the heartbeat's retry periods
n_batches=$(grep -c 'ChangeMessageVisibilityBatch' "$TMP/proxy7.log")
sleep 2
is "$(grep -c 'ChangeMessageVisibilityBatch' "$TMP/proxy7.log")" "$n_batches" "refused for good, the extension is not tried again"
touch "$TMP/slow.go"
reported() { grep -q 'was visible again for' "$TMP/log7"; }
eventually reported; ok $? "the job ends"
kill -TERM $pid; wait $pid
kill $proxy; wait $proxy 2>/dev/null
like "$(grep 'was visible again for' "$TMP/log7")" 'visible again for [0-9.]+ s while its jobs ran .*another worker may have run them too; raise --visibility' "the lapse is reported"
like "$(grep -c '"target": "AmazonSQS.ChangeMessageVisibilityBatch"' "$TMP/proxy7.log")" '^[1-9]' "the heartbeat sends ChangeMessageVisibilityBatch"

# 8. SIGTERM during a batch: the job running ends and its message is
#    deleted; the messages of the batch not started are made visible again
#    at once (one ChangeMessageVisibilityBatch, visibility 0), not after the
#    60 s visibility timeout
add_rule '  - name: held
    match: {bucket: hold}
    plugin: sleepy
    options: {started_file: '"$TMP/held.started"', release_file: '"$TMP/held.go"'}
    output: "s3://out/{key}"'
Q8=$(queue q8 '{"VisibilityTimeout":"60"}')
for k in 1 2 3; do put_object hold "$k.txt" "$TMP/f"; send "$Q8" "$(s3_event hold "$k.txt")"; done
$POLL --queue "$Q8" --visibility 60 --workers 1 >/dev/null 2>"$TMP/log8" &
pid=$!
eventually test -e "$TMP/held.started"; ok $? "the poller runs the first job of the batch"
is "$(depth "$Q8")" "0 3" "all three messages were received in one batch"
kill -TERM $pid
stopping() { grep -q 'SIGTERM received: stopping' "$TMP/log8"; }
eventually stopping; ok $? "the stop is logged as it comes, the job still running"
touch "$TMP/held.go"
wait $pid; is $? 0 "SIGTERM: the poller ends the running job and exits 0"
is "$(depth "$Q8")" "2 0" "the two messages not started are visible again at once"
is "$(grep -c 'job done' "$TMP/log8")" 1 "only the running job ran"
like "$(cat "$TMP/log8")" '3 messages received, 1 deleted, 2 left' "the summary counts them as left"

err=$("$SLUICE" -c "$TMP/sluice.yaml" poll 2>&1); is $? 2 "no --queue: exit 2"
like "$err" '--queue URL is required' "says what is missing"
err=$("$SLUICE" -c "$TMP/sluice.yaml" poll --queue "$Q1" --batch 11 2>&1); is $? 2 "--batch 11: exit 2"
done_testing
