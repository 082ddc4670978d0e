#!/bin/sh
# The webhook target against a loopback receiver that checks the HMAC:
# a signed POST of the job-state event (equal to the run record, valid for
# the schema) with the configured headers; a wrong secret is detected by
# the receiver; an unset secret refuses to send unsigned; 5xx is retried
# with backoff, 410 is final; a timeout (the receiver holds its answer until
# the test lets it go: the client must have given up on its own); and the
# exit status 3 when jobs
# succeeded but a notification could not be delivered.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/notify/lib_notify.sh"
need_jsonschema
make_workspace

"$PYTHON3" "$NOTIFY_DIR/webhook_receiver.py" "$TMP/port" "$TMP/hooks.jsonl" s3cr3t "$TMP/slow.release" &
RECEIVER=$!
trap 'kill "$RECEIVER" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP
PORT=$(wait_port_file "$TMP/port") || { echo "Bail out! the webhook receiver did not start"; exit 1; }
URL="http://127.0.0.1:$PORT"

cat >> "$TMP/sluice.yaml" <<YAML
  - name: fail
    match: {bucket: in, prefix: fail/}
    plugin: failing
    output: "s3://out/{key}"
    on_failure: [hook]
  - name: flaky
    match: {bucket: in, prefix: flaky/}
    plugin: linecount
    output: "s3://out/{key}"
    on_success: [flaky]
  - name: gone
    match: {bucket: in, prefix: gone/}
    plugin: linecount
    output: "s3://out/{key}"
    on_success: [gone]
  - name: slow
    match: {bucket: in, prefix: slow/}
    plugin: linecount
    output: "s3://out/{key}"
    on_success: [slow]
notify:
  hook: {type: webhook, url: "$URL/ok", secret_env: HOOK_SECRET, headers: {X-Team: data}, timeout: 60}
  flaky: {type: webhook, url: "$URL/flaky", secret_env: HOOK_SECRET, timeout: 60}
  gone: {type: webhook, url: "$URL/gone", max_attempts: 3, timeout: 60}
  slow: {type: webhook, url: "$URL/slow", timeout: 0.3, max_attempts: 1}
YAML
seq 3 > "$TMP/three"
for k in fail/a.txt flaky/b.txt gone/c.txt slow/d.txt; do put_object in "$k" "$TMP/three"; done
S() { "$SLUICE" --log-format json -c "$TMP/sluice.yaml" "$@"; }
hooks() { [ -f "$TMP/hooks.jsonl" ] && wc -l < "$TMP/hooks.jsonl" | tr -d ' ' || echo 0; }
# hook N FIELD: a field of the Nth request the receiver saw (1-based)
hook() {
    "$PYTHON3" - "$TMP/hooks.jsonl" "$1" "$2" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2]) - 1])
for p in sys.argv[3].split("."):
    r = r.get(p) if isinstance(r, dict) else None
print("null" if r is None else r)
PY
}

# --- a failure, signed with the right secret ----------------------------------
HOOK_SECRET=s3cr3t S process s3://in/fail/a.txt 2>"$TMP/log1"; is $? 1 "the job fails: exit 1"
is "$(hooks)" 1 "exactly one POST"
is "$(hook 1 path)" /ok "to the target's URL"
is "$(hook 1 signature)" valid "the receiver verifies X-Sluice-Signature (HMAC-SHA256 of the body)"
is "$(hook 1 headers.content-type)" application/json "Content-Type: application/json"
is "$(hook 1 headers.x-team)" data "configured headers are sent"
is "$(hook 1 headers.x-sluice-state)" FAILED "X-Sluice-State"
run_id=$(hook 1 headers.x-sluice-run-id)
like "$run_id" '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$' "X-Sluice-Run-Id"
hook 1 body > "$TMP/body1.json"
"$PYTHON3" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
    "$TMP/body1.json" "$(record_of "$run_id")"
ok $? "the body is the job-state event, equal to the run record"
is "$(jfield "$TMP/body1.json" detail.error.kind)" plugin "error kind"
like "$(jfield "$TMP/body1.json" detail.error.message)" 'failing on purpose' "error message"
like "$(cat "$TMP/log1")" 'notification sent to \\"hook\\" \(webhook\): HTTP 200' "delivery logged"

# --- a wrong secret is detected by the receiver ---------------------------------
HOOK_SECRET=wrong S process s3://in/fail/a.txt 2>/dev/null; is $? 1 "wrong secret: the job still fails (exit 1)"
is "$(hooks)" 2 "the POST was made"
is "$(hook 2 signature)" invalid "the receiver rejects the signature made with the wrong secret"

# --- an unset secret: nothing goes out unsigned ------------------------------------
env -u HOOK_SECRET "$SLUICE" --log-format json -c "$TMP/sluice.yaml" process s3://in/fail/a.txt 2>"$TMP/log3"
is $? 1 "unset secret: exit 1 (the job failed)"
is "$(hooks)" 2 "nothing was sent"
like "$(cat "$TMP/log3")" 'variable HOOK_SECRET is not set \(not sending unsigned\)' "the log says why"
like "$(cat "$TMP/log3")" 'could not be delivered after 1 attempt' "no retries for a final error"
env -u HOOK_SECRET "$SLUICE" --log-format json -c "$TMP/sluice.yaml" process s3://in/flaky/b.txt >/dev/null 2>"$TMP/log4"
is $? 3 "a successful job whose notification failed: exit 3"
like "$(cat "$TMP/log4")" '1 notification could not be delivered: the events are in the log' "the summary says so"

# --- 5xx is retried with backoff ------------------------------------------------------
HOOK_SECRET=s3cr3t S process s3://in/flaky/b.txt >/dev/null 2>"$TMP/log5"; is $? 0 "500, 500, then 200: exit 0"
is "$(hooks)" 5 "three POSTs"
is "$(hook 5 signature)" valid "the delivered one is signed"
is "$(grep -c 'attempt [12] failed: webhook POST .*HTTP 500' "$TMP/log5")" 2 "two retries logged"

# --- 410 is final; a timeout ---------------------------------------------------------
S process s3://in/gone/c.txt >/dev/null 2>"$TMP/log6"; is $? 3 "410: exit 3"
is "$(hooks)" 6 "one POST, no retry"
is "$(hook 6 signature)" missing "no secret_env: no signature"
like "$(cat "$TMP/log6")" 'could not be delivered after 1 attempt: webhook POST .*/gone: HTTP 410' "logged with the status"
"$PYTHON3" - "$TMP/log6" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
hits = [l for l in lines if "could not be delivered" in l.get("msg", "") and "event" in l]
sys.exit(not (len(hits) == 1 and hits[0]["event"]["detail"]["rule"] == "gone"
              and hits[0]["event"]["detail"]["state"] == "SUCCEEDED"))
PY
ok $? "the undelivered event is in the log in full"
S process s3://in/slow/d.txt >/dev/null 2>"$TMP/log7"; is $? 3 "timeout: exit 3"
[ ! -e "$TMP/hooks.jsonl.slow-answered" ]; ok $? "the timeout (0.3 s) cut the request short: the receiver had not answered yet"
like "$(cat "$TMP/log7")" 'webhook POST .*/slow: .*(timeout|[Tt]imed out)' "logged as a timeout"
touch "$TMP/slow.release"

check_events "$TMP"/body1.json "$TMP"/log1 "$TMP"/log6 "$TMP"/runs/[0-9]*/*.json
done_testing
