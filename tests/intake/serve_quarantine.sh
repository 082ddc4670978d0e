#!/bin/sh
# `serve` and an event whose job kills the process (issue 12, finding 2):
# a spooled event is replayed first on every start, so a plugin that crashes
# in the engine's process (isolation: none) used to crash-loop `serve` for
# ever, the events behind it never running. Now each start of an entry is
# counted on disk (with the process that started it) before its jobs run;
# after --max-attempts starts without an end the entry is moved to the
# spool's quarantine/, and the events behind it run. An isolated plugin's
# crash fails its job only: the entry is done, the server stays up.
#
# The quarantined event is notified — one QUARANTINED event to the rule's
# on_failure webhook (a loopback receiver), equal to its run record and
# valid for the schema — and listed by `sluice runs` (list, --state
# quarantined, --json). `runs retry --failed` leaves it, and the ABANDONED
# runs its crashes left, alone; once the cause is fixed `runs retry RUN_ID`
# runs it again to SUCCEEDED.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/notify/lib_notify.sh"
. "$top_srcdir/tests/intake/intake_lib.sh"
make_workspace
"$PYTHON3" "$NOTIFY_DIR/webhook_receiver.py" "$TMP/port" "$TMP/hooks.jsonl" unused &
RECEIVER=$!; track $RECEIVER
PORT=$(wait_port_file "$TMP/port") || { echo "Bail out! the webhook receiver did not start"; exit 1; }
add_rule '  - name: inproc-crash
    match: {bucket: in, prefix: inproc/}
    plugin: crashy
    options: {mode: segfault}
    isolation: none
    output: "s3://out/{key}"
    on_failure: [hook]
  - name: iso-crash
    match: {bucket: in, prefix: iso/}
    plugin: crashy
    options: {mode: segfault}
    isolation: process
    output: "s3://out/{key}"
  - name: copy
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'
cat >> "$TMP/sluice.yaml" <<YAML
notify:
  hook: {type: webhook, url: "http://127.0.0.1:$PORT/ok", timeout: 60}
YAML
seq 3 > "$TMP/f"
put_object in inproc/a.txt "$TMP/f"
put_object in iso/c.txt "$TMP/f"
put_object in b.txt "$TMP/f"
# the spool as a server that accepted three events and died would leave it
# (entries run in the order of their ids)
SPOOL=$TMP/spool
ID=1764000000000-000001-aaaaaaaa
mkdir -p "$SPOOL"
s3_event in inproc/a.txt > "$SPOOL/$ID.json"
s3_event in b.txt > "$SPOOL/1764000000000-000002-bbbbbbbb.json"
s3_event in iso/c.txt > "$SPOOL/1764000000000-000003-cccccccc.json"
S() { "$SLUICE" -c "$TMP/sluice.yaml" "$@"; }
SERVE="$SLUICE -c $TMP/sluice.yaml serve --listen 127.0.0.1:0 --spool $SPOOL --workers 1 --max-attempts 2"

# two starts, each killed by the in-process crash of the first entry
for i in 1 2; do
    $SERVE > /dev/null 2> "$TMP/log$i"
    is $? 139 "start $i: the in-process crash kills serve (isolation: none, by design)"
done
is "$(head -1 "$SPOOL/$ID.attempts")" 2 "both starts were counted on disk"
is "$(sed 1d "$SPOOL/$ID.attempts" | grep -Ec '^[0-9]+-[0-9]+-([0-9a-f]{8}|0)@')" 2 \
    "with the process that started each"
PIDS=$(sed 1d "$SPOOL/$ID.attempts" | sed 's/-.*//' | tr '\n' ' ')
ok "$([ ! -e "$TMP/root/out/b.txt" ]; echo $?)" "the event behind it has not run yet"

# an entry edited by hand into no event, counted by an older sluice (the
# number only) as started twice: quarantined too, as its file
BAD=1764000000000-000000-00000000
echo 'not an event' > "$SPOOL/$BAD.json"
echo 2 > "$SPOOL/$BAD.attempts"

# the third start quarantines them and runs the others
$SERVE > /dev/null 2> "$TMP/log3" &
pid=$!; track $pid
published() { [ -s "$TMP/root/out/b.txt" ]; }
eventually published; ok $? "start 3: the event behind the crashing one runs"
handled() { [ ! -e "$SPOOL/1764000000000-000003-cccccccc.json" ]; }
eventually handled; ok $? "the isolated crash's event is handled (not left to replay)"
ok "$(kill -0 $pid 2>/dev/null; echo $?)" "serve is still up after the isolated crash"
ok "$([ -e "$SPOOL/quarantine/$ID.json" ] && [ ! -e "$SPOOL/$ID.json" ] &&
    [ ! -e "$SPOOL/$ID.attempts" ]; echo $?)" \
    "the crashing event is moved to quarantine/"
like "$(cat "$TMP/log3")" "spool: event $ID was started 2 times and each time the process died.*quarantined to .*/quarantine/$ID.json" \
    "the log says so and where it went"
like "$(cat "$TMP/log3")" 'job failed: plugin crashy crashed: SIGSEGV \(signal 11\)' \
    "the isolated crash failed its job only"
SPORT=$(sed -n 's/.*listening on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$TMP/log3" | head -1)
like "$(curl -sS "http://127.0.0.1:$SPORT/metrics")" 'sluice_spool_quarantined_total 2' \
    "/metrics counts both quarantined entries"

# --- notified ----------------------------------------------------------------
hooked() { [ -s "$TMP/hooks.jsonl" ]; }
eventually hooked; ok $? "a notification reached the rule's on_failure webhook"
stop_pid $pid
is "$STATUS" 0 "a clean stop"
is "$(ls "$SPOOL" | grep -c '\.json$')" 0 "nothing left to replay"
is "$(wc -l < "$TMP/hooks.jsonl" | tr -d ' ')" 1 \
    "exactly one: the object's QUARANTINED event (no other rule has a target)"
# One python start for every field (each start costs on a loaded machine):
# the body the receiver got, its state header, and the fields checked below
# as NAME=VALUE lines.
"$PYTHON3" - "$TMP/hooks.jsonl" "$TMP/sent.json" "$TMP/runs" > "$TMP/sent.fields" <<'PY'
import glob, importlib.util, json, sys
r = json.loads(open(sys.argv[1]).readline())
open(sys.argv[2], "w").write(r["body"])
ev = json.loads(r["body"])
d = ev["detail"]
q = d.get("quarantine") or {}
recs = glob.glob("%s/*/%s.json" % (sys.argv[3], d["run_id"]))
out = {
    "jsonschema": "yes" if importlib.util.find_spec("jsonschema") else "no",
    "record": "none" if not recs else "same" if json.load(open(recs[0])) == ev else "differs",
    "header": r["headers"].get("x-sluice-state"),
    "state": d["state"], "rule": d["rule"], "input": d["input"]["location"],
    "run_id": d["run_id"], "spool_id": q.get("spool_id"),
    "attempts": "%s/%s" % (q.get("attempts"), q.get("max_attempts")),
    "path": q.get("path"), "objects": json.dumps(q.get("objects")),
    "pids": " ".join(p.split("-")[0] for p in q.get("processes", [])) + " ",
    "kind": (d["error"] or {}).get("kind"), "message": (d["error"] or {}).get("message"),
}
for k, v in out.items():
    print("%s=%s" % (k, v))
PY
sent() { sed -n "s/^$1=//p" "$TMP/sent.fields"; }
is "$(sent header)" QUARANTINED "X-Sluice-State: QUARANTINED"
is "$(sent state)" QUARANTINED "state QUARANTINED"
is "$(sent rule)" inproc-crash "the rule of the object"
is "$(sent input)" s3://in/inproc/a.txt "the object"
is "$(sent spool_id)" "$ID" "the spool id"
is "$(sent attempts)" 2/2 "the attempts and --max-attempts"
is "$(sent path)" "$(cd "$SPOOL" && pwd -P)/quarantine/$ID.json" "where the file lies now"
is "$(sent objects)" '["s3://in/inproc/a.txt"]' "every object of the event"
is "$(sent pids)" "$PIDS" "the processes that died, oldest first"
is "$(sent kind)" internal "error kind internal"
like "$(sent message)" \
    "^the process died 2 times while running the jobs of spool event $ID \\(--max-attempts 2; pids [0-9]+, [0-9]+, see the service manager's log for the signal\\): quarantined to /.*/quarantine/$ID.json\$" \
    "the error says what happened, with the pids to look up"
is "$(sent record)" same "its run record is the event sent"
RUN=$(sent run_id)
REC=$(record_of "$RUN")
like "$(cat "$TMP/log3")" "spooled event QUARANTINED .*\"state\":\"QUARANTINED\"" \
    "the event is in the log in full"
if [ "$(sent jsonschema)" = yes ]; then
    check_events "$TMP/sent.json" "$TMP"/runs/[0-9]*/*.json
else
    ok 0 "the event sent and every run record are valid for the schema # SKIP python3 jsonschema not installed"
fi

# --- listed by sluice runs ------------------------------------------------------
like "$(S runs list 2>&1)" \
    "$RUN +QUARANTINED +inproc-crash +s3://in/inproc/a.txt  spool $ID, 2 starts: quarantined to /.*/quarantine/$ID.json" \
    "runs list shows it, with the spool file"
S runs list --state quarantined --json > "$TMP/quarantined.jsonl" 2>/dev/null
is "$(grep -c . "$TMP/quarantined.jsonl")" 2 "runs list --state quarantined --json: two records"
like "$(grep "\"run_id\":\"$RUN\"" "$TMP/quarantined.jsonl")" '"state":"QUARANTINED"' "one is the object's"
like "$(grep -v "\"run_id\":\"$RUN\"" "$TMP/quarantined.jsonl")" \
    "\"rule\":null,.*\"input\":\\{\"location\":\"/[^\"]*/quarantine/$BAD.json\".*\"processes\":\\[\\],\"objects\":\\[\\]" \
    "and the file that is no event: no rule, its path as input, no processes or objects"
like "$(cat "$TMP/log3")" "spool $BAD: the quarantined entry names no object" "which the log says"
BAD_RUN=$(grep -v "\"run_id\":\"$RUN\"" "$TMP/quarantined.jsonl" | sed 's/.*"run_id":"\([^"]*\)".*/\1/')
S runs retry "$BAD_RUN" > /dev/null 2> "$TMP/bad-retry"
is $? 2 "runs retry refuses the file that names no object"
like "$(cat "$TMP/bad-retry")" "names no object: read /.*/quarantine/$BAD.json, and move it back" "saying what to do"
S runs retry --failed --dry-run > "$TMP/dry" 2>&1
like "$(cat "$TMP/dry")" "would retry .*FAILED +iso-crash" "runs retry --failed picks the isolated failure"
unlike "$(cat "$TMP/dry")" "inproc/a.txt" \
    "but not the quarantined object, nor the ABANDONED runs of its crashes"
is "$(S runs list --state abandoned 2>/dev/null | grep -c 'inproc/a.txt')" 2 \
    "(which are listed: one per start that died)"

# the cause fixed (the plugin no longer crashes), a person runs it again
sed -i '0,/mode: segfault/s//mode: ok/' "$TMP/sluice.yaml"
out=$(S runs retry "$RUN" 2> "$TMP/retry.log"); is $? 0 "runs retry RUN_ID of the QUARANTINED run"
is "$out" s3://out/inproc/a.txt "it is published"
S runs list --state succeeded --json 2>/dev/null | grep "\"retry_of\":\"$RUN\"" > "$TMP/retried.json"
like "$(cat "$TMP/retried.json")" '"attempt":2' "the new record names the quarantined run (retry_of, attempt 2)"
like "$(S runs retry --failed --dry-run 2>&1)" "would retry .*iso-crash" "still nothing of it for --failed"
done_testing
