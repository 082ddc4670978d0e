#!/bin/sh
# Expected arrivals with a controllable clock: `sluice expect check --now`
# and the timer of a long-running mode (`sluice watch --run` with
# SLUICE_FAKE_NOW naming a file the test rewrites to move the clock).
# Real jobs run at the machine's time; the clock is set around the day
# their records say they ended. Cases: on time (ARRIVED, no alarm); late
# (one MISSING event to the rule's on_failure webhook, valid for the
# schema, a MISSING run record); the same period checked again by a new
# process (a restart: no second alarm); late then arriving (the alarm
# stands, no second one); the timer alarming and judging as the clock
# moves, across a restart. /metrics of the watch is scraped while it runs
# and validated (tests/intake/promtext.py).
#
# The expectations say `by: "23:59Z", grace: 1m`: each day's window is the
# whole UTC day, so a job's day is its period; a job that ends just after
# midnight UTC is still judged correctly, as every date is taken from the
# record.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/intake/intake_lib.sh"
NOTIFY_DIR="$top_srcdir/tests/notify"
SCHEMA="$top_srcdir/schemas/job-state-change.schema.json"
"$PYTHON3" -c 'import jsonschema' 2>/dev/null || skip_all "python3 jsonschema not installed"

make_workspace
"$PYTHON3" "$NOTIFY_DIR/webhook_receiver.py" "$TMP/port" "$TMP/hooks.jsonl" unused &
RECEIVER=$!; track $RECEIVER
PORT=$(wait_port_file "$TMP/port") || { echo "Bail out! the webhook receiver did not start"; exit 1; }

cat >> "$TMP/sluice.yaml" <<YAML
  - name: daily
    match: {bucket: in, prefix: daily/}
    plugin: linecount
    output: "s3://out/{key}"
    on_failure: [hook]
  - name: late
    match: {bucket: in, prefix: late/}
    plugin: linecount
    output: "s3://out/{key}"
    on_failure: [hook]
  - name: watched
    match: {bucket: in, prefix: drop/}
    plugin: linecount
    output: "s3://out/{key}"
    on_failure: [hook]
notify:
  hook: {type: webhook, url: "http://127.0.0.1:$PORT/ok", timeout: 60}
runs: {dir: runs}
expect:
  - {rule: daily, every: day, by: "23:59Z", grace: 1m}
  - {rule: late, every: day, by: "23:59Z", grace: 1m}
YAML
S() { "$SLUICE" --log-format json -c "$TMP/sluice.yaml" "$@"; }
# day_after DAY N: the UTC date N days after DAY
day_after() { date -u -d "$1 + $2 day" +%F; }
# alarms RULE [PERIOD]: MISSING events the webhook received for RULE (and PERIOD)
alarms() {
    "$PYTHON3" - "$TMP/hooks.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]) if __import__("os").path.exists(sys.argv[1]) else []:
    d = json.loads(json.loads(line)["body"])["detail"]
    if d["state"] == "MISSING" and d["rule"] == sys.argv[2] and \
            (not sys.argv[3] or d["expected"]["period"] == sys.argv[3]):
        n += 1
print(n)
PY
}
# alarmed N RULE [PERIOD]: the receiver has N such events. A function, so that
# `eventually alarmed ...` counts again at each poll (a "$(alarms ...)" in
# its arguments would be expanded once, before the first).
alarmed() { _want=$1; shift; test "$(alarms "$@")" = "$_want"; }
# ended_day RUN_ID: the UTC day the run's record says it ended
ended_day() { "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["detail"]["ended_at"][:10])' "$(ls "$TMP"/runs/*/"$1".json)"; }
seq 5 > "$TMP/five"

# --- sluice expect check -----------------------------------------------------
S expect check --bogus > /dev/null 2>&1; is $? 2 "expect check: an unknown option is a usage error"
S expect check --now 2026-12-06 > /dev/null 2>&1; is $? 2 "expect check: --now wants a full UTC time"
S expect check --help | grep -q 'Usage: sluice expect check'; ok $? "expect check --help"

# on time: a daily job, then the check after that day's deadline
put_object in daily/a.txt "$TMP/five"
S process s3://in/daily/a.txt > /dev/null 2> "$TMP/process.log"; is $? 0 "the daily job runs"
RUN=$(ls "$TMP"/runs/*/ | grep -m1 '\.json$' | sed 's/\.json$//')
D=$(ended_day "$RUN")
S expect check --now "$(day_after "$D" 1)T00:00:30Z" > "$TMP/c1.out" 2> "$TMP/c1.log"; is $? 1 "on time for daily, but late and new were never seen: a new alarm (exit 1)"
like "$(cat "$TMP/c1.out")" "^daily every day $D: ARRIVED \\(run $RUN\\)\$" "on time: ARRIVED with the run that came"
is "$(alarms daily)" 0 "on time: no alarm for daily"

# late: nothing of `late` on day D
like "$(cat "$TMP/c1.out")" "^late every day $D: MISSING \\(alarm sent, run " "late: MISSING, alarm sent"
eventually alarmed 1 late "$D"; ok $? "late: one MISSING event reached the rule's on_failure webhook"
MISSING_RUN=$(sed -n "s/^late every day $D: MISSING (alarm sent, run \\(.*\\))\$/\\1/p" "$TMP/c1.out")
REC=$(ls "$TMP"/runs/*/"$MISSING_RUN".json 2>/dev/null)
ok $([ -n "$REC" ]; echo $?) "late: the alarm is a run record"
like "$(S runs list 2>/dev/null)" "$MISSING_RUN +MISSING +late" "sluice runs list shows it"
"$PYTHON3" "$NOTIFY_DIR/check_events.py" "$SCHEMA" "$REC" > "$TMP/check.out" 2>&1; ok $? "the MISSING record is valid for the schema" 
is "$(grep -c '"deadline": "'"$(day_after "$D" 1)"'T00:00:00.000Z"' "$REC")" 1 "its deadline is the day's by + grace"
"$PYTHON3" - "$TMP/hooks.jsonl" > "$TMP/hook-events.json" <<'PY'
import json, sys
print(json.dumps([json.loads(json.loads(l)["body"]) for l in open(sys.argv[1])]))
PY
"$PYTHON3" "$NOTIFY_DIR/check_events.py" "$SCHEMA" "$TMP/hook-events.json" > "$TMP/check2.out" 2>&1; ok $? "the MISSING events sent are valid for the schema"
grep -q '"expected arrival MISSING"' "$TMP/c1.log"; ok $? "the alarm is in the log in full"

# a restart: another process judges the same period again
S expect check --now "$(day_after "$D" 1)T00:05:00Z" > "$TMP/c2.out" 2>/dev/null; is $? 0 "checked again by a new process: nothing new (exit 0)"
like "$(cat "$TMP/c2.out")" "^late every day $D: MISSING \\(alarmed before, run $MISSING_RUN\\)\$" "the verdict was kept"
like "$(cat "$TMP/c2.out")" "^daily every day $D: ARRIVED \\(run $RUN\\)\$" "the ARRIVED verdict too"
is "$(alarms late "$D")" 1 "no second alarm after a restart"

# late, then arriving: `late`'s delivery for day D comes after its alarm
TODAY=$(date -u +%F)
put_object in late/b.txt "$TMP/five"
S process s3://in/late/b.txt > /dev/null 2>&1; is $? 0 "the late job runs at last"
S expect check --now "$(day_after "$D" 1)T00:09:00Z" > "$TMP/c3.out" 2>/dev/null; is $? 0 "late then arriving: exit 0"
like "$(cat "$TMP/c3.out")" "^late every day $D: MISSING \\(alarmed before" "the alarm stands"
is "$(alarms late)" 1 "and is not sent again"

# the next day: nothing came for daily on D+1, late did (if still day D: the
# record says which day its job ended)
S expect check --now "$(day_after "$D" 2)T00:00:30Z" > "$TMP/c4.out" 2>/dev/null; is $? 1 "the next day: a new alarm"
like "$(cat "$TMP/c4.out")" "^daily every day $(day_after "$D" 1): MISSING \\(alarm sent" "daily missed D+1"
eventually alarmed 1 daily "$(day_after "$D" 1)"; ok $? "its alarm reached the webhook"

# --- the timer of a long-running mode, with a clock the test moves ----------
# its own configuration and run records: only `watched` is expected
sed -e 's|^runs: {dir: runs}|runs: {dir: runs2}|' -e '/^expect:/,$d' "$TMP/sluice.yaml" > "$TMP/watch.yaml"
cat >> "$TMP/watch.yaml" <<YAML
expect:
  - {rule: watched, every: day, by: "23:59Z", grace: 1m, lookback: 2}
YAML
IN="$TMP/drop"; mkdir -p "$IN"
echo "${TODAY}T12:00:00Z" > "$TMP/now"
start_watch() { # start_watch NAME: sets W and MPORT
    SLUICE_FAKE_NOW="$TMP/now" "$SLUICE" --log-level debug -c "$TMP/watch.yaml" watch "$IN" \
        --to s3://in/drop --run --settle 0 --workers 1 --expect-interval 1 \
        --metrics-listen 127.0.0.1:0 > "$TMP/$1.out" 2> "$TMP/$1.log" &
    W=$!; track $W
    eventually grep -q 'metrics on 127.0.0.1:0 (port [0-9]*)' "$TMP/$1.log"
    MPORT=$(sed -n 's/.*metrics on 127.0.0.1:0 (port \([0-9]*\)).*/\1/p' "$TMP/$1.log" | head -1)
}
scrape() { # scrape FILE: /metrics into FILE.txt, its samples as JSON into FILE
    "$PYTHON3" "$top_srcdir/tests/intake/promtext.py" "http://127.0.0.1:$MPORT/metrics" "$1.txt" > "$1" 2> "$1.err"
}
metric() { # metric FILE KEY: a sample's value (empty when absent)
    "$PYTHON3" -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else "%g" % v)' "$1" "$2"
}
checked() { # checked N: the watch has run at least N checks
    scrape "$TMP/m" && [ "$(metric "$TMP/m" sluice_expect_checks_total)" -ge "$1" ] 2>/dev/null
}
YESTERDAY=$(day_after "$TODAY" -1)
start_watch w1
ok $([ -n "$MPORT" ]; echo $?) "watch --metrics-listen logs its port"
is "$("$PYTHON3" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=60).read().decode(), end="")' "http://127.0.0.1:$MPORT/healthz")" "ok" "watch: GET /healthz"
eventually alarmed 1 watched "$YESTERDAY"; ok $? "timer: yesterday had no watched job: one alarm"
eventually alarmed 1 watched "$(day_after "$TODAY" -2)"; ok $? "timer: lookback 2: the day before too"
scrape "$TMP/m0"; ok $? "watch: /metrics is valid Prometheus text ($(cat "$TMP/m0.err"))"
is "$(metric "$TMP/m0" 'sluice_expect_missing_total{rule="watched"}')" 2 "metrics: the alarms counted"
is "$(metric "$TMP/m0" 'sluice_jobs_total{rule="watched",outcome="succeeded"}')" 0 "metrics: no job yet"
is "$(metric "$TMP/m0" 'sluice_watch_files_total{outcome="uploaded"}')" 0 "metrics: nothing uploaded yet"

cp "$TMP/five" "$IN/x.txt"
eventually grep -q 'uploaded x.txt' "$TMP/w1.log"; ok $? "watch uploads a file and runs its job"
eventually test -f "$TMP/root/out/drop/x.txt"; ok $? "the job wrote its output"
job_counted() { scrape "$TMP/m1" && [ "$(metric "$TMP/m1" 'sluice_jobs_total{rule="watched",outcome="succeeded"}')" = 1 ]; }
eventually job_counted; ok $? "watch: /metrics valid while jobs run, and the count moved ($(cat "$TMP/m1.err"))"
is "$(metric "$TMP/m1" 'sluice_jobs_total{rule="watched",outcome="succeeded"}')" 1 "metrics: the job counted by rule and outcome"
is "$(metric "$TMP/m1" 'sluice_watch_files_total{outcome="uploaded"}')" 1 "metrics: the upload counted"
is "$(metric "$TMP/m1" sluice_job_duration_seconds_count)" 1 "metrics: one duration observed"
is "$(metric "$TMP/m1" sluice_bytes_in_total)" 10 "metrics: bytes in"
ok $([ -n "$(metric "$TMP/m1" 'sluice_last_success_timestamp_seconds{rule="watched"}')" ]; echo $?) "metrics: the rule's last success"
is "$(metric "$TMP/m1" sluice_jobs_in_flight)" 0 "metrics: nothing in flight"
# the day the job ended, from its record
JDAY=$("$PYTHON3" - "$TMP"/runs2/*/*.json <<'PY'
import json, sys
for p in sys.argv[1:]:
    d = json.load(open(p))["detail"]
    if d["rule"] == "watched" and d["state"] == "SUCCEEDED":
        print(d["ended_at"][:10])
PY
)
ok $([ -n "$JDAY" ]; echo $?) "the watched job has its SUCCEEDED record"

# the clock moves past the job's day: the timer finds it ARRIVED
echo "$(day_after "$JDAY" 1)T00:00:30Z" > "$TMP/now.new"; mv "$TMP/now.new" "$TMP/now"
eventually grep -q "expect watched/day-$JDAY: ARRIVED" "$TMP/w1.log"; ok $? "timer: the day of the job ARRIVED"
is "$(alarms watched "$JDAY")" 0 "timer: no alarm for it"
stop_pid $W; is "$STATUS" 0 "watch stops on SIGTERM"

# a restart at the same time judges nothing twice
start_watch w2
eventually checked 2; ok $? "the restarted watch checked (twice)"
is "$(alarms watched)" 2 "after the restart: no duplicate alarm"
ok $(grep -q "ARRIVED\|MISSING (alarm" "$TMP/w2.log"; [ $? -ne 0 ]; echo $?) "the restarted watch only read the kept verdicts"

# the clock moves two days on: the day after the job saw nothing
echo "$(day_after "$JDAY" 2)T00:00:30Z" > "$TMP/now.new"; mv "$TMP/now.new" "$TMP/now"
eventually alarmed 1 watched "$(day_after "$JDAY" 1)"
ok $? "timer: the next empty day is alarmed once the clock passes its deadline"
stop_pid $W; is "$STATUS" 0 "watch stops"
is "$(alarms watched)" 3 "three alarms in all for watched, one per missed day"

done_testing
