#!/bin/sh
# SNS and EventBridge end to end against moto_server (127.0.0.1, a port
# the kernel picks, signatures checked): an SNS topic with an SQS subscription and an
# EventBridge rule on the default bus whose target is another SQS queue.
# Three failing jobs — an input over max_bad_ratio (revenue), a missing
# object, a plugin error (failing) — each deliver exactly one SNS message
# and one EventBridge event; both queues are read back and every field is
# checked against the job's run record. notify-test reaches both targets,
# and a wrong secret is refused by moto. With the SNS endpoint unreachable
# the event is in the log and the exit status says a notification failed.
# Storage is the local backend: only the targets talk to moto.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/notify/lib_notify.sh"
need_jsonschema
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server is not installed: SNS/EventBridge end-to-end NOT tested"
"$PYTHON3" -c 'import boto3' 2>/dev/null || skip_all "python3 boto3 is not installed: SNS/EventBridge end-to-end NOT tested"

MOTO_PID=
trap '[ -z "$MOTO_PID" ] || { kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null; }; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP
launch_moto "$TMP/moto.log" INITIAL_NO_AUTH_ACTION_COUNT=3
MOTO_URL="http://127.0.0.1:$MOTO_PORT"

# only the credentials the fixture makes, nothing from the machine
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SNS AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=setup AWS_SECRET_ACCESS_KEY=setup \
    "$PYTHON3" "$NOTIFY_DIR/aws_fixture.py" setup "$MOTO_URL" "$TMP/aws.json"
ok $? "moto: topic, subscription, bus rule and queues created"
AWS_ACCESS_KEY_ID=$(jfield "$TMP/aws.json" access_key)
AWS_SECRET_ACCESS_KEY=$(jfield "$TMP/aws.json" secret_key)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
TOPIC=$(jfield "$TMP/aws.json" topic_arn)
SNS_QUEUE=$(jfield "$TMP/aws.json" sns_queue)
EB_QUEUE=$(jfield "$TMP/aws.json" eb_queue)
drain() { # drain SNS_EXPECTED SNS_OUT EB_EXPECTED EB_OUT: read both queues empty
    "$PYTHON3" "$NOTIFY_DIR/aws_fixture.py" drain "$MOTO_URL" "$SNS_QUEUE" "$1" "$2" "$EB_QUEUE" "$3" "$4"
}

# the bus endpoint comes from the environment, the topic's from its key
export AWS_ENDPOINT_URL_EVENTBRIDGE="$MOTO_URL"
make_workspace
cat >> "$TMP/sluice.yaml" <<YAML
  - name: revenue
    match: {bucket: in, prefix: hits/}
    plugin: revenue
    options: {max_bad_ratio: 0.01}
    output: "s3://out/{date}/{name}"
  - name: broken
    match: {bucket: in, prefix: fail/}
    plugin: failing
    output: "s3://out/{key}"
notify:
  ops-email: {type: sns, topic_arn: "$TOPIC", endpoint: "$MOTO_URL", subject_prefix: "[etl]"}
  ops-bus: {type: eventbridge}
on_failure: [ops-email, ops-bus]
YAML
(cat "$DATA/hit_data.tsv"; printf 'garbage line one\ngarbage\tline\ntwo\n') > "$TMP/bad.tsv"
put_object in hits/bad.tsv "$TMP/bad.tsv"
put_object in fail/x.txt "$DATA/hit_data.tsv"
for k in 'hits/bad.tsv' 'hits/missing.tsv' 'fail/x.txt'; do
    s3_event in "$k" | sed 's/.*"Records":\[//; s/\]}$//'
done | paste -sd, - | sed 's/^/{"Records":[/; s/$/]}/' > "$TMP/three.json"

# --- three failing jobs ------------------------------------------------------------------
"$SLUICE" --log-format json -c "$TMP/sluice.yaml" run "$TMP/three.json" >"$TMP/out" 2>"$TMP/log"
is $? 1 "three failing jobs: exit 1"
is "$(records_count)" 3 "three run records"
drain 3 "$TMP/sns.json" 3 "$TMP/eb.json"; ok $? "the SNS subscription's and the bus target's queues read"
"$PYTHON3" - "$TMP" "$TOPIC" > "$TMP/checks3" <<'PY'
import glob, json, socket, sys
tmp, topic = sys.argv[1], sys.argv[2]
records = {}
for path in glob.glob(tmp + "/runs/[0-9]*/*.json"):
    r = json.load(open(path))
    records[r["detail"]["input"]["location"]] = r
sns = [json.loads(b) for b in json.load(open(tmp + "/sns.json"))]
eb = [json.loads(b) for b in json.load(open(tmp + "/eb.json"))]
out = open(tmp + "/delivered.jsonl", "w")
def ok(cond, name):
    print("%s %s" % ("PASS" if cond else "FAIL", name))
ok(len(sns) == 3, "exactly three SNS messages (%d)" % len(sns))
ok(len(eb) == 3, "exactly three EventBridge events (%d)" % len(eb))
want = {
    "s3://in/hits/bad.tsv": ("revenue", "input", "3 of 24 data lines are malformed", "revenue"),
    "s3://in/hits/missing.tsv": ("revenue", "input", "s3://in/hits/missing.tsv: no such object", "revenue"),
    "s3://in/fail/x.txt": ("broken", "plugin", "failing on purpose after writing 20 bytes", "failing"),
}
for loc, (rule, kind, msg, plugin) in want.items():
    rec = records.get(loc)
    ok(rec is not None, "%s: run record" % loc)
    if rec is None:
        continue
    d = rec["detail"]
    run_id = d["run_id"]
    # the job itself, as recorded
    ok(d["state"] == "FAILED" and d["rule"] == rule, "%s: FAILED under rule %s" % (loc, rule))
    ok(d["error"]["kind"] == kind and msg in d["error"]["message"], "%s: error %s: %s" % (loc, kind, d["error"]))
    ok(d["plugin"]["name"] == plugin and d["plugin"]["version"], "%s: plugin %s" % (loc, d["plugin"]))
    ok(d["input"]["etag"] == "abc" and d["input"]["event_time"] == "2026-11-20T09:15:42.118Z",
       "%s: etag and event time from the event" % loc)
    ok(d["output"]["location"] is None, "%s: nothing published" % loc)
    ok(d["attempt"] == 1 and d["retry_of"] is None, "%s: first attempt" % loc)
    ok(d["host"] == socket.gethostname(), "%s: host %s" % (loc, d["host"]))
    stats_ok = {"revenue": d["stats"].get("malformed_lines") == 3 if "bad" in loc else d["stats"] == {},
                "broken": d["stats"] == {"before_failure": 1}}[rule]
    ok(stats_ok, "%s: plugin statistics %s" % (loc, d["stats"]))
    # SNS: one message, every field
    mine = [m for m in sns if json.loads(m["MessageAttributes"]["sluice_event"]["Value"])["detail"]["run_id"] == run_id]
    ok(len(mine) == 1, "%s: exactly one SNS message" % loc)
    if mine:
        m = mine[0]
        ev = json.loads(m["MessageAttributes"]["sluice_event"]["Value"])
        out.write(json.dumps(ev) + "\n")
        ok(ev == rec, "%s: SNS event attribute equals the run record" % loc)
        ok(m["TopicArn"] == topic and m["Type"] == "Notification", "%s: from the topic" % loc)
        subject = "[etl] sluice FAILED (%s): %s %s" % (kind, rule, loc)
        ok(m["Subject"] == subject and len(m["Subject"]) <= 99, "%s: subject %r" % (loc, m["Subject"]))
        text = m["Message"]
        for line in ("A sluice job FAILED.", "  Rule:      %s\n" % rule, "  Input:     %s\n" % loc,
                     "  Error:     %s: %s" % (kind, d["error"]["message"]),
                     "  Run id:    %s (attempt 1)" % run_id, "  sluice runs retry %s\n" % run_id,
                     "  sluice runs retry --failed\n", "  Host:      %s\n" % d["host"]):
            ok(line in text, "%s: e-mail text has %r" % (loc, line.strip()))
        attrs = {k: v["Value"] for k, v in m["MessageAttributes"].items()}
        ok(attrs.get("state") == "FAILED" and attrs.get("rule") == rule and attrs.get("error_kind") == kind,
           "%s: filter attributes %s" % (loc, sorted(attrs)))
    # EventBridge: one event, every field
    mine = [e for e in eb if e["detail"]["run_id"] == run_id]
    ok(len(mine) == 1, "%s: exactly one EventBridge event" % loc)
    if mine:
        e = mine[0]
        out.write(json.dumps(e) + "\n")
        ok(e["source"] == "sluice" and e["detail-type"] == "Sluice Job State Change",
           "%s: source and detail-type" % loc)
        ok(e["detail"] == d, "%s: EventBridge detail equals the run record" % loc)
        ok(e["time"] == rec["time"][:19] + "Z", "%s: time is the job's end (%s)" % (loc, e["time"]))
PY
ok $? "the SNS and EventBridge checks ran"
while read -r verdict name; do [ "$verdict" = PASS ]; ok $? "$name"; done < "$TMP/checks3"
check_events "$TMP/delivered.jsonl" "$TMP/log" "$TMP"/runs/[0-9]*/*.json
like "$(cat "$TMP/log")" 'notification sent to \\"ops-email\\" \(sns\): MessageId ' "SNS delivery logged"
like "$(cat "$TMP/log")" 'notification sent to \\"ops-bus\\" \(eventbridge\): EventId ' "EventBridge delivery logged"

# --- notify-test, and moto checking the signature ------------------------------------------
"$SLUICE" -c "$TMP/sluice.yaml" notify-test ops-email ops-bus >"$TMP/nt" 2>"$TMP/nt.log"
is $? 0 "notify-test: both delivered"
like "$(cat "$TMP/nt")" 'ops-email \(sns\): delivered \(MessageId ' "notify-test reports the MessageId"
drain 1 "$TMP/sns_nt.json" 1 "$TMP/eb_nt.json"
is "$("$PYTHON3" -c 'import json,sys; b=json.load(open(sys.argv[1])); print(len(b), json.loads(b[0])["Subject"])' "$TMP/sns_nt.json")" \
   "1 [etl] sluice FAILED (input): sluice-notify-test s3://example-bucket/incoming/notify-test.tsv" \
   "notify-test: one sample message on the topic"
is "$("$PYTHON3" -c 'import json,sys; b=json.load(open(sys.argv[1])); print(len(b), json.loads(b[0])["detail"]["rule"])' "$TMP/eb_nt.json")" \
   "1 sluice-notify-test" "notify-test: one sample event on the bus"
AWS_SECRET_ACCESS_KEY=wrong "$SLUICE" -c "$TMP/sluice.yaml" notify-test --all >"$TMP/nt2" 2>/dev/null
is $? 3 "notify-test with a wrong secret: exit 3"
is "$(grep -c 'NOT delivered: .*HTTP 403 SignatureDoesNotMatch' "$TMP/nt2")" 2 "moto refuses both signatures"
"$SLUICE" -c "$TMP/sluice.yaml" notify-test nope >/dev/null 2>&1; is $? 2 "notify-test of an unknown target: exit 2"

# --- the SNS endpoint unreachable ------------------------------------------------------------
CLOSED=$CLOSED_PORT
cat > "$TMP/dead.yaml" <<YAML
storage: {type: local, root: root}
plugins: {path: [$top_builddir/tests/plugins]}
notify:
  ops-email: {type: sns, topic_arn: "$TOPIC", endpoint: "http://127.0.0.1:$CLOSED", max_attempts: 2}
rules:
  - name: count
    match: {bucket: in, prefix: ok/}
    plugin: linecount
    output: "s3://out/{key}"
    on_success: [ops-email]
  - name: broken
    match: {bucket: in, prefix: fail/}
    plugin: failing
    output: "s3://out/{key}"
    on_failure: [ops-email]
YAML
seq 3 > "$TMP/three"; put_object in ok/y.txt "$TMP/three"
out=$("$SLUICE" --log-format json -c "$TMP/dead.yaml" process s3://in/ok/y.txt 2>"$TMP/dead.log")
is $? 3 "job succeeded, notification undeliverable: exit 3"
is "$out" "s3://out/ok/y.txt" "the output is still published"
"$PYTHON3" - "$TMP/dead.log" "$CLOSED" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
lost = [l for l in lines if "could not be delivered after 2 attempts" in l["msg"] and "event" in l]
ok = (len(lost) == 1 and lost[0]["target"] == "ops-email"
      and lost[0]["event"]["detail"]["state"] == "SUCCEEDED"
      and lost[0]["event"]["detail"]["rule"] == "count"
      and "127.0.0.1:%s" % sys.argv[2] in lost[0]["error"])
retried = [l for l in lines if "attempt 1 failed" in l["msg"]]
summary = [l for l in lines if l["msg"] == "1 notification could not be delivered: the events are in the log"]
sys.exit(not (ok and len(retried) == 1 and len(summary) == 1))
PY
ok $? "the full event is in the log, after a retry, and the summary says a notification failed"
"$SLUICE" --log-format json -c "$TMP/dead.yaml" process s3://in/fail/x.txt >/dev/null 2>"$TMP/dead2.log"
is $? 1 "failed job and undeliverable notification: exit 1 (the job failure wins)"
like "$(cat "$TMP/dead2.log")" 'could not be delivered after 2 attempts' "... and the notification failure is logged"
check_events "$TMP/dead.log"
done_testing
