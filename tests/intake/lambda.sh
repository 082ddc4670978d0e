#!/bin/sh
# `sluice lambda` against a loopback stand-in for the Lambda Runtime API
# (tests/intake/fake_lambda_api.py), which checks exact paths, methods,
# headers and bodies and records every request: the success response with
# the report's exact bytes in storage, job failures, invalid events and the
# init-error path; Lambda's SQS and SNS trigger shapes; SIGTERM while idle
# and during an invocation; Runtime API failures; infra/lambda/bootstrap.
# Issue 12 (still open from the last closing note): an SQS-triggered
# invocation answers batchItemFailures with only the failed messages (on
# main one failed object failed the whole batch), and jobs are cut off
# before the invocation's deadline, their objects reported as failures (on
# main they ran on past it).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/intake/intake_lib.sh"
: "${PYTHON3:=python3}"
FAKE="$top_srcdir/tests/intake/fake_lambda_api.py"
P=/2018-06-01/runtime

make_workspace
add_rule '  - name: revenue
    match: {bucket: inbound, prefix: hits/, suffix: .tsv}
    plugin: revenue
    output: "s3://reports/{date}/{name}"'
add_rule '  - name: fail
    match: {bucket: inbound, prefix: fail/}
    plugin: failing
    output: "s3://out/{name}"'
add_rule '  - name: lines
    match: {bucket: inbound, prefix: lines/}
    plugin: linecount
    output: "s3://out/{key}"'
for k in "2009 09" sqs sns boot; do put_object inbound "hits/$k/hit_data.tsv" "$DATA/hit_data.tsv"; done
seq 100 > "$TMP/seq"
put_object inbound fail/a.txt "$TMP/seq"
put_object inbound lines/a.txt "$TMP/seq"
put_object inbound other/a.txt "$TMP/seq"
printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' > "$TMP/want"
REPORT=s3://reports/2026-11-20/2026-11-20_SearchKeywordPerformance.tab
TRACE='Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1'

mkdir -p "$TMP/ev"
s3_event inbound 'hits%2F2009+09%2Fhit_data.tsv' > "$TMP/ev/hits.json"
for k in sqs sns boot; do s3_event inbound "hits%2F$k%2Fhit_data.tsv" > "$TMP/ev/hits-$k.json"; done
s3_event inbound 'fail%2Fa.txt' > "$TMP/ev/fail.json"
s3_event inbound 'other%2Fa.txt' > "$TMP/ev/other.json"
# two records: one fails, one succeeds
"$PYTHON3" - "$TMP/ev" <<'EOF'
import json, sys, os
d = sys.argv[1]
load = lambda n: json.load(open(os.path.join(d, n)))
fail = load("fail.json")
lines = json.loads(json.dumps(fail).replace("fail%2Fa.txt", "lines%2Fa.txt"))
json.dump({"Records": fail["Records"] + lines["Records"]}, open(os.path.join(d, "mixed.json"), "w"))
sqs = {"Records": [{"messageId": "m-1", "receiptHandle": "r-1", "body": json.dumps(load("hits-sqs.json")),
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                    "md5OfBody": "0", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
json.dump(sqs, open(os.path.join(d, "sqs.json"), "w"))
sns = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:x",
                    "Sns": {"Type": "Notification", "MessageId": "n-1", "TopicArn": "arn:t",
                            "Message": json.dumps(load("hits-sns.json")), "Timestamp": "2026-11-20T09:15:42.345Z"}}]}
json.dump(sns, open(os.path.join(d, "sns.json"), "w"))
EOF
printf '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T09:00:03.123Z","Bucket":"inbound"}' > "$TMP/ev/test.json"

# start_fake NAME INVOCATIONS_JSON: the stand-in for run NAME; sets FAKE_PID
# and API (host:port); its files are $TMP/NAME.{record,violations}.
start_fake() {
    printf '%s\n' "$2" > "$TMP/$1.inv.json"
    "$PYTHON3" "$FAKE" --port-file "$TMP/$1.port" --record "$TMP/$1.record" \
        --violations "$TMP/$1.violations" --invocations "$TMP/$1.inv.json" &
    FAKE_PID=$!; track $FAKE_PID
    _port=$(wait_port_file "$TMP/$1.port") || echo "# the stand-in did not start"
    API="127.0.0.1:$_port"
}
stop_fake() { stop_pid "$FAKE_PID" TERM; }
# start_lambda NAME [ARGS...]: sluice lambda against $API; sets LAMBDA_PID.
start_lambda() {
    _name=$1; shift
    AWS_LAMBDA_RUNTIME_API=$API SLUICE_CONFIG="$TMP/sluice.yaml" \
        "$SLUICE" lambda "$@" > "$TMP/$_name.out" 2> "$TMP/$_name.log" &
    LAMBDA_PID=$!; track $LAMBDA_PID
}
# Lines recorded so far (the stand-in writes one per request).
nlines() { [ "$(wc -l < "$TMP/$1.record")" -ge "$2" ]; }

# --- a queue of invocations ---------------------------------------------------
start_fake main '[
 {"id": "req-ok", "body_file": "ev/hits.json", "deadline_ms": 4102444800000, "trace": "'"$TRACE"'", "delay_next": 0.3},
 {"id": "req-fail", "body_file": "ev/fail.json"},
 {"id": "req-bad", "body": "{\"hello\": \"world\"}"},
 {"id": "req-notjson", "body": "this is not json"},
 {"id": "req-test", "body_file": "ev/test.json"},
 {"id": "req-sqs", "body_file": "ev/sqs.json"},
 {"id": "req-sns", "body_file": "ev/sns.json"},
 {"id": "req-mixed", "body_file": "ev/mixed.json"},
 {"id": "req-nomatch", "body_file": "ev/other.json"},
 {"id": "req-dup", "body_file": "ev/hits.json"},
 {"id": "id with/odd+chars", "body_file": "ev/test.json"}
]'
start_lambda main --workers 2
# 11 x (next + result), then the 12th next blocks
eventually nlines main 23; ok $? "all eleven invocations answered"
# (a bounded look for a wrong exit: a slow machine can only make it pass
# for the right reason, the runtime blocked in its 12th /next)
sleep 0.2
ok "$(exited "$LAMBDA_PID" && echo 1 || echo 0)" "still waiting for the next invocation"
stop_pid "$LAMBDA_PID" TERM; is "$STATUS" 0 "SIGTERM while waiting: exit 0"
like "$(cat "$TMP/main.log")" 'SIGTERM while waiting for an invocation: stopping' "stop logged"
stop_fake

E=$P/invocation
FAILMSG='failing on purpose after writing 20 bytes'
UNREC='not a recognised event: expected Records, an EventBridge event, an SNS envelope or an SQS message'
is "$(cat "$TMP/main.record")" "GET $E/next
POST $E/req-ok/response application/json {\"succeeded\":1,\"failed\":0,\"skipped\":0,\"outputs\":[\"$REPORT\"]}
GET $E/next
POST $E/req-fail/error application/json Sluice.JobFailed {\"errorMessage\":\"1 of 1 jobs failed: s3://inbound/fail/a.txt: $FAILMSG\",\"errorType\":\"Sluice.JobFailed\",\"stackTrace\":[]}
GET $E/next
POST $E/req-bad/error application/json Sluice.InvalidEvent {\"errorMessage\":\"$UNREC\",\"errorType\":\"Sluice.InvalidEvent\",\"stackTrace\":[]}
GET $E/next
POST $E/req-notjson/error application/json Sluice.InvalidEvent {\"errorMessage\":\"not valid JSON (line 1 column 4: '[' or '{' expected near 'this')\",\"errorType\":\"Sluice.InvalidEvent\",\"stackTrace\":[]}
GET $E/next
POST $E/req-test/response application/json {\"succeeded\":0,\"failed\":0,\"skipped\":1,\"outputs\":[]}
GET $E/next
POST $E/req-sqs/response application/json {\"batchItemFailures\":[]}
GET $E/next
POST $E/req-sns/response application/json {\"succeeded\":1,\"failed\":0,\"skipped\":0,\"outputs\":[\"$REPORT\"]}
GET $E/next
POST $E/req-mixed/error application/json Sluice.JobFailed {\"errorMessage\":\"1 of 2 jobs failed: s3://inbound/fail/a.txt: $FAILMSG\",\"errorType\":\"Sluice.JobFailed\",\"stackTrace\":[]}
GET $E/next
POST $E/req-nomatch/response application/json {\"succeeded\":0,\"failed\":0,\"skipped\":1,\"outputs\":[]}
GET $E/next
POST $E/req-dup/response application/json {\"succeeded\":0,\"failed\":0,\"skipped\":1,\"outputs\":[]}
GET $E/next
POST $E/id%20with%2Fodd%2Bchars/response application/json {\"succeeded\":0,\"failed\":0,\"skipped\":1,\"outputs\":[]}
GET $E/next" "exact requests, in order, with exact bodies"
is "$(cat "$TMP/main.violations")" "" "the stand-in saw no protocol violation"
cmp -s "$TMP/root/reports/2026-11-20/2026-11-20_SearchKeywordPerformance.tab" "$TMP/want"
ok $? "the report's exact bytes in storage"
is "$(tree out)" "lines/a.txt" "mixed event: the good job's output exists, the failed one's does not"
cmp -s "$TMP/root/out/lines/a.txt" "$TMP/seq"; ok $? "the good job's exact output"
like "$(cat "$TMP/main.log")" "invocation req-ok: [0-9]+ bytes, [0-9]+ ms left, trace $TRACE" "request id, deadline and trace logged"
like "$(cat "$TMP/main.log")" 'job skipped: .*duplicate' "a redelivered event is a duplicate: skipped, not processed again"
# stdout carries only the jobs' Embedded Metric Format lines (one per job,
# the Prometheus names): checked against the EMF rules, then counted
"$PYTHON3" "$top_srcdir/tests/intake/emf_check.py" "$TMP/main.out" sluice > "$TMP/emf.txt" 2> "$TMP/emf.err"
ok $? "stdout holds only valid EMF lines $(cat "$TMP/emf.err")"
is "$(cat "$TMP/emf.txt")" "fail failed
fail failed
lines succeeded
none skipped
revenue skipped
revenue succeeded
revenue succeeded
revenue succeeded" "one EMF line per job, by rule and outcome"
"$PYTHON3" - "$TMP/main.out" > "$TMP/emf-values.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["rule"] == "revenue" and d["outcome"] == "succeeded":
        print(d["sluice_jobs_total"], d["sluice_bytes_in_total"],
              d["sluice_last_success_timestamp_seconds"] > 1.7e9, d["sluice_notification_failures_total"])
PY
is "$(sort -u "$TMP/emf-values.txt")" "1 6259 True 0" "a revenue job's values: one job, the sample's bytes, its success time"

# --- an EventBridge schedule checks the expected arrivals ---------------------
# (`lines` SUCCEEDED today only: yesterday's period is MISSING, unless the
# day changed since, when yesterday's was the job's day: ARRIVED)
cp "$TMP/sluice.yaml" "$TMP/noexpect.yaml"
printf 'expect:\n  - {rule: lines, every: day, by: "23:59Z", grace: 1m}\n' >> "$TMP/sluice.yaml"
printf '{"version":"0","id":"c1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-12-06T00:05:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/sluice-expect"],"detail":{}}' > "$TMP/ev/cron.json"
start_fake cron '[{"id": "req-cron", "body_file": "ev/cron.json"}, {"id": "req-cron2", "body_file": "ev/cron.json"}]'
start_lambda cron
eventually nlines cron 5; ok $? "both scheduled invocations answered"
stop_pid "$LAMBDA_PID" TERM
like "$(sed -n 2p "$TMP/cron.record")" "POST $E/req-cron/response application/json \\{\"expect\":\\{\"arrived\":0,\"missing_new\":1,\"missing_before\":0\\}\\}|\"arrived\":1,\"missing_new\":0" "a Scheduled Event runs the expect check: yesterday MISSING"
like "$(sed -n 4p "$TMP/cron.record")" "POST $E/req-cron2/response application/json \\{\"expect\":\\{\"arrived\":0,\"missing_new\":0,\"missing_before\":1\\}\\}|\"arrived\":1,\"missing_new\":0" "the second schedule does not alarm again"
like "$(cat "$TMP/cron.log")" "expected arrival MISSING|ARRIVED" "the alarm is in the function's log"
is "$(cat "$TMP/cron.violations")" "" "no violation"
stop_fake
cp "$TMP/noexpect.yaml" "$TMP/sluice.yaml"

# --- SIGTERM during an invocation: its result is posted, then exit -----------
# The stand-in holds its answer to the result until $TMP/slow.release
# exists: the runtime is in the middle of the invocation for as long as the
# test needs, however slow the machine.
start_fake slow '[
 {"id": "req-slow", "body_file": "ev/hits.json", "hold_post_until": "'"$TMP/slow.release"'"},
 {"id": "req-never", "body_file": "ev/hits.json"}
]'
start_lambda slow
eventually grep -q "req-slow/response" "$TMP/slow.record"; ok $? "slow invocation's result is being posted"
kill -TERM "$LAMBDA_PID"
eventually grep -q 'SIGTERM: stopping after the current invocation' "$TMP/slow.log"
ok $? "stop deferred"
ok "$(exited "$LAMBDA_PID" && echo 1 || echo 0)" "still running while its result is being posted"
touch "$TMP/slow.release"
eventually exited "$LAMBDA_PID"; ok $? "exits once the result was acknowledged"
reap "$LAMBDA_PID"; is "$STATUS" 0 "SIGTERM during an invocation: exit 0"
is "$(cut -d' ' -f1,2 "$TMP/slow.record")" "GET $E/next
POST $E/req-slow/response" "result posted, no further invocation taken"
is "$(cat "$TMP/slow.violations")" "" "no violation"
stop_fake

# --- the Runtime API fails: the runtime exits ---------------------------------
start_fake broken '[{"status": 500}]'
start_lambda broken
eventually exited "$LAMBDA_PID"; ok $? "exits when /next answers 500"
reap "$LAMBDA_PID"; is "$STATUS" 1 "exit status 1"
like "$(cat "$TMP/broken.log")" "Runtime API: GET http://$API$E/next: HTTP 500" "the failure is logged"
stop_fake

# --- init errors ----------------------------------------------------------------
cp "$TMP/sluice.yaml" "$TMP/good.yaml"
printf 'bogus_key: 1\n' >> "$TMP/sluice.yaml"
start_fake init '[{"id": "req-x", "body_file": "ev/hits.json"}]'
start_lambda init
eventually exited "$LAMBDA_PID"; ok $? "bad configuration: the runtime exits"
reap "$LAMBDA_PID"; is "$STATUS" 2 "exit status 2"
line=$(wc -l < "$TMP/sluice.yaml" | tr -d ' ')
is "$(cat "$TMP/init.record")" "POST $P/init/error application/json Sluice.ConfigError {\"errorMessage\":\"$TMP/sluice.yaml:$line:1: unknown key \\\"bogus_key\\\" at the top level\",\"errorType\":\"Sluice.ConfigError\"}" "init/error with file:line:col, exact body, the type in the header"
is "$(wc -l < "$TMP/init.record" | tr -d ' ')" 1 "no /next after an init error"
is "$(cat "$TMP/init.violations")" "" "no violation"
stop_fake

cp "$TMP/good.yaml" "$TMP/sluice.yaml"
sed -i 's/plugin: linecount/plugin: nosuchplugin/' "$TMP/sluice.yaml"
start_fake init2 '[]'
start_lambda init2
eventually exited "$LAMBDA_PID"; reap "$LAMBDA_PID"; is "$STATUS" 2 "missing plugin: exit 2"
like "$(cat "$TMP/init2.record")" "^POST $P/init/error application/json Sluice.ConfigError .*nosuchplugin" "missing plugin is an init error"
stop_fake
cp "$TMP/good.yaml" "$TMP/sluice.yaml"

# --- usage ----------------------------------------------------------------------
err=$(env -u AWS_LAMBDA_RUNTIME_API "$SLUICE" -c "$TMP/sluice.yaml" lambda 2>&1); is $? 2 "no AWS_LAMBDA_RUNTIME_API: exit 2"
like "$err" 'AWS_LAMBDA_RUNTIME_API is not set' "explained"
err=$(AWS_LAMBDA_RUNTIME_API=localhost "$SLUICE" -c "$TMP/sluice.yaml" lambda 2>&1); is $? 2 "malformed address: exit 2"
like "$err" 'expected host:port, got "localhost"' "explained"
err=$(AWS_LAMBDA_RUNTIME_API=127.0.0.1:1 "$SLUICE" lambda --workers 0 2>&1); is $? 2 "--workers 0: exit 2"
"$SLUICE" lambda --help | grep -q 'Runtime API'; ok $? "--help"

# --- infra/lambda/bootstrap in a provided.al2023 layout -------------------------
task="$TMP/task"
mkdir -p "$task/bin" "$task/lib" "$task/plugins"
ln -s "$SLUICE" "$task/bin/sluice"
sed "s|root: root|root: $TMP/root|" "$TMP/good.yaml" > "$task/app.yaml"
start_fake boot '[{"id": "req-boot", "body_file": "ev/hits-boot.json"}]'
env -u SLUICE_CONFIG LAMBDA_TASK_ROOT="$task" _HANDLER=app.yaml AWS_LAMBDA_RUNTIME_API="$API" \
    sh "$top_srcdir/infra/lambda/bootstrap" > "$TMP/boot.out" 2> "$TMP/boot.log" &
BOOT_PID=$!; track $BOOT_PID
eventually nlines boot 3; ok $? "bootstrap: invocation answered"
is "$(sed -n 2p "$TMP/boot.record")" "POST $E/req-boot/response application/json {\"succeeded\":1,\"failed\":0,\"skipped\":0,\"outputs\":[\"$REPORT\"]}" "bootstrap: config from _HANDLER, success response"
like "$(head -1 "$TMP/boot.log")" '^\{.*"level":"info"' "bootstrap: JSON logs for CloudWatch"
stop_pid "$BOOT_PID" TERM; is "$STATUS" 0 "bootstrap execs sluice: SIGTERM reaches it, exit 0"
stop_fake
# --- issue 12: batchItemFailures, and the invocation deadline ---------------
add_rule '  - name: held
    match: {bucket: inbound, prefix: held/}
    plugin: sleepy
    options: {started_file: "'"$TMP/held.started"'", release_file: "'"$TMP/held.release"'"}
    output: "s3://out/{key}"'
put_object inbound lines/b.txt "$TMP/seq"
put_object inbound lines/c.txt "$TMP/seq"
put_object inbound held/a.txt "$TMP/seq"
s3_event inbound 'lines%2Fb.txt' > "$TMP/ev/b.json"
s3_event inbound 'lines%2Fc.txt' > "$TMP/ev/c.json"
s3_event inbound 'held%2Fa.txt' > "$TMP/ev/held.json"
"$PYTHON3" - "$TMP/ev" <<'EOF'
import json, sys, os
d = sys.argv[1]
body = lambda n: open(os.path.join(d, n)).read()
def rec(mid, b):
    return {"messageId": mid, "receiptHandle": "r-" + mid, "body": b, "attributes": {},
            "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}
json.dump({"Records": [rec("m-ok", body("b.json")), rec("m-fail", body("fail.json")),
                       rec("m-bad", "not json")]}, open(os.path.join(d, "batch.json"), "w"))
json.dump({"Records": [rec("m-late", body("c.json"))]}, open(os.path.join(d, "late.json"), "w"))
EOF
start_fake batch '[
 {"id": "req-batch", "body_file": "ev/batch.json"},
 {"id": "req-late", "body_file": "ev/late.json", "deadline_ms": 1},
 {"id": "req-past", "body_file": "ev/c.json", "deadline_ms": 1}
]'
start_lambda batch --workers 2
eventually nlines batch 7; ok $? "three invocations answered"
stop_pid "$LAMBDA_PID" TERM; is "$STATUS" 0 "exit 0"
stop_fake
CUT='cut off: the invocation'"'"'s deadline came before the job finished'
is "$(cat "$TMP/batch.record")" "GET $E/next
POST $E/req-batch/response application/json {\"batchItemFailures\":[{\"itemIdentifier\":\"m-fail\"},{\"itemIdentifier\":\"m-bad\"}]}
GET $E/next
POST $E/req-late/response application/json {\"batchItemFailures\":[{\"itemIdentifier\":\"m-late\"}]}
GET $E/next
POST $E/req-past/error application/json Sluice.JobFailed {\"errorMessage\":\"1 of 1 jobs failed: s3://inbound/lines/c.txt: $CUT\",\"errorType\":\"Sluice.JobFailed\",\"stackTrace\":[]}
GET $E/next" "SQS batches return only their failed messages; jobs past the deadline fail"
is "$(cat "$TMP/batch.violations")" "" "no protocol violation"
cmp -s "$TMP/root/out/lines/b.txt" "$TMP/seq"; ok $? "the good message's job wrote its output"
ok "$([ ! -e "$TMP/root/out/lines/c.txt" ] && [ ! -e "$TMP/root/out/held/a.txt" ]; echo $?)" \
    "jobs cut off or not started published nothing"
like "$(cat "$TMP/batch.log")" 'message m-late not started: the invocation.s deadline is near' \
    "a message not started is logged"

# A job cut off mid-run: the sleepy plugin holds it until the cut has passed,
# then its next read fails; the invocation answers the failure, nothing is
# published and no temporary file is left. The deadline is only so far after
# /next: should the job not have started before the cut (a slow machine),
# the run is repeated with a deadline four times as far, so the test does
# not depend on the machine's speed.
started_or_answered() { [ -s "$TMP/held.started" ] || nlines mid 2; }
mid_run() { # mid_run SECONDS: 0 cut off mid-run, 2 cut off before it started
    rm -f "$TMP/held.started" "$TMP/held.release" "$TMP/mid.port" "$TMP/mid.record"
    start_fake mid "[{\"id\": \"req-mid\", \"body_file\": \"ev/held.json\", \"deadline_in_ms\": $(( $1 * 1000 ))}]"
    start_lambda mid
    eventually started_or_answered || echo "# neither started nor answered"
    _mid=2
    if [ -s "$TMP/held.started" ]; then
        sleep "$1" # now >= /next + the deadline's distance: past the cut
        : > "$TMP/held.release"
        _mid=0
    fi
    eventually nlines mid 3 || echo "# the invocation was not answered"
    stop_pid "$LAMBDA_PID" TERM
    stop_fake
    return $_mid
}
for secs in 3 12 48 192; do
    mid_run $secs && break
    echo "# the job did not start within $secs s of /next: again with a later deadline"
done
is "$(sed -n 2p "$TMP/mid.record")" "POST $E/req-mid/error application/json Sluice.JobFailed {\"errorMessage\":\"1 of 1 jobs failed: s3://inbound/held/a.txt: $CUT\",\"errorType\":\"Sluice.JobFailed\",\"stackTrace\":[]}" \
    "a job cut off mid-run is the invocation's failure"
is "$(cat "$TMP/mid.violations")" "" "no protocol violation"
like "$(cat "$TMP/held.started")" "started s3://inbound/held/a.txt" "the job was running when the cut came"
ok "$([ ! -e "$TMP/root/out/held/a.txt" ]; echo $?)" "a job cut off mid-run published nothing"
is "$(find "$TMP/root/out" -name '.sluice-tmp*' | wc -l | tr -d ' ')" 0 "and left no temporary file"

# Under a deadline the engine's process does not map the input for the
# plugin: read() is where a job is cut off there, and a mapped input has
# none (crashy's truncate mode says whether it got the mapping; unmapped,
# it copies the input)
add_rule '  - name: map
    match: {bucket: inbound, prefix: map/}
    plugin: crashy
    options: {mode: truncate}
    isolation: none
    output: "s3://out/{key}"'
put_object inbound map/a.txt "$TMP/seq"
s3_event inbound 'map%2Fa.txt' > "$TMP/ev/map.json"
start_fake map '[{"id": "req-map", "body_file": "ev/map.json", "deadline_ms": 4102444800000}]'
start_lambda map
eventually nlines map 3; ok $? "the invocation was answered"
stop_pid "$LAMBDA_PID" TERM
stop_fake
like "$(cat "$TMP/map.log")" 'crashy: the input is not mapped' \
    "a job with a deadline is not given its input mapped in the engine's process"
cmp -s "$TMP/root/out/map/a.txt" "$TMP/seq"; ok $? "... it read it and wrote it out whole"
done_testing
