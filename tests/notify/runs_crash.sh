#!/bin/sh
# Crash-consistent run records (issue 12, finding 5): a job SIGKILLed
# mid-run leaves a RUNNING record naming its process (and a temporary file
# naming it too); the next `sluice process` on the host turns the record
# ABANDONED and removes the temporary, while a RUNNING record whose process
# is alive, and records of another host, are left alone (checked by a
# `sluice run` start); `runs list` shows and filters RUNNING and ABANDONED;
# `runs retry --failed` runs the abandoned job again to SUCCEEDED; every
# record stays valid for the schema.
#
# Jobs are held by the sleepy plugin (started_file / release_file), never
# by sleeps; "left alone" is asserted after the starting process logged
# that it reconciled something (or after it ran its own job).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/notify/lib_notify.sh"
. "$top_srcdir/tests/intake/intake_lib.sh"
need_jsonschema
make_workspace
add_rule "  - name: slow
    match: {bucket: in, prefix: slow/}
    plugin: sleepy
    options: {release_file: $TMP/release, started_file: $TMP/started, write_first: 100}
    output: \"s3://out/{date}/{key}\""
add_rule '  - name: quick
    match: {bucket: in, prefix: quick/}
    plugin: linecount
    output: "s3://out/{date}/{key}"'
S() { "$SLUICE" -c "$TMP/sluice.yaml" "$@"; }
# (background jobs run "$SLUICE" itself: $! must be its pid, not a subshell's)
seq 3 > "$TMP/three"
put_object in slow/a.txt "$TMP/three"
put_object in slow/b.txt "$TMP/three"
put_object in quick/c.txt "$TMP/three"
started() { [ "$(grep_count started "$TMP/started")" -ge "$1" ]; }
# state_of RUN_ID: the state of its record as stored (without a python
# start: this is asked often)
state_of() { sed -n 's/.*"state": *"\([A-Z]*\)".*/\1/p' "$(record_of "$1")" | head -1; }
# fields FILE PATH...: jfield's values for several paths, one per line
fields() {
    "$PYTHON3" - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for path in sys.argv[2:]:
    v = doc
    for p in path.split("."):
        v = v.get(p) if isinstance(v, dict) else None
    print("null" if v is None else v)
PY
}
# the run id of each record in state $1 (of this host: "elsewhere" is not)
ids_in_state() {
    S runs list --state "$1" --json | grep -v '"host":"elsewhere"' |
        sed 's/.*"run_id":"\([^"]*\)".*/\1/'
}

# --- a job killed in the middle ---------------------------------------------------
"$SLUICE" -c "$TMP/sluice.yaml" process s3://in/slow/a.txt > "$TMP/a.out" 2> "$TMP/a.log" &
A=$!; track $A
eventually started 1; ok $? "job a runs (held by the test)"
is "$(S runs list --state running --json | wc -l | tr -d ' ')" 1 "a RUNNING record while it runs"
a_id=$(ids_in_state running)
rec=$(record_of "$a_id")
fields "$rec" detail.pid detail.process detail.input.location detail.rule detail.ended_at \
    > "$TMP/f"
{ read -r pid; read -r process; read -r input; read -r rule; read -r ended; } < "$TMP/f"
is "$pid" "$A" "it names the process"
like "$process" "^$A-[0-9]+-([0-9a-f]{8}|0)@" "with its start and host"
host=${process#*@}
is "$input" "s3://in/slow/a.txt" "and the input"
is "$rule" slow "and the rule"
is "$ended" null "not ended"
temp_a=$(cd "$TMP/root/out" && find . -name ".sluice-tmp.*@$host" | head -1)
like "$temp_a" "\.sluice-tmp\.a\.txt\.[A-Za-z0-9]{6}\.$A-[0-9]+-" "its temporary file names the writer"
stop_pid "$A" KILL
is "$STATUS" 137 "job a SIGKILLed"
is "$(state_of "$a_id")" RUNNING "the record stays RUNNING after the kill"
like "$(S runs list)" "$a_id +RUNNING +slow +s3://in/slow/a.txt" "runs list shows it RUNNING"

# --- records of another host ----------------------------------------------------
# one marked in that host's folder, one (host renamed since?) in ours: the
# first is never read, the second judged "another host": both stay
"$PYTHON3" - "$rec" "$TMP/runs" "$host" <<'PY'
import json, os, sys
rec, runs, host = sys.argv[1], sys.argv[2], sys.argv[3]
for n, folder in (("1", "elsewhere"), ("2", host)):
    r = json.load(open(rec))
    rid = "20261120T091542Z-0000000" + n
    r["id"] = r["detail"]["run_id"] = rid
    r["detail"]["host"] = "elsewhere"
    r["detail"]["process"] = "4242-1-0@elsewhere"
    r["detail"]["pid"] = 4242
    os.makedirs(runs + "/2026-11-20", exist_ok=True)
    json.dump(r, open(runs + "/2026-11-20/" + rid + ".json", "w"))
    os.makedirs(runs + "/_running/" + folder, exist_ok=True)
    json.dump({"run_id": rid, "record": "2026-11-20/" + rid + ".json", "process": "4242-1-0@elsewhere"},
              open(runs + "/_running/" + folder + "/" + rid + ".json", "w"))
PY

# --- the next start abandons it ---------------------------------------------------
"$SLUICE" -c "$TMP/sluice.yaml" process s3://in/slow/b.txt > "$TMP/b.out" 2> "$TMP/b.log" &
B=$!; track $B
eventually started 2; ok $? "job b runs (its process started after a's kill)"
is "$(state_of "$a_id")" ABANDONED "that start turned a's record ABANDONED"
fields "$(record_of "$a_id")" detail.abandoned.reason detail.abandoned.by detail.input.location \
    > "$TMP/f"
{ read -r reason; read -r by; read -r input; } < "$TMP/f"
like "$reason" "process $A on .* has ended" "it says why"
like "$by" "^$B-" "and which process found it"
is "$input" "s3://in/slow/a.txt" "the record keeps its fields"
like "$(cat "$TMP/b.log")" "run $a_id was left RUNNING by a process that is gone, now ABANDONED" "logged"
is "$(cd "$TMP/root/out" && find . -name ".sluice-tmp.a.txt.*" | wc -l | tr -d ' ')" 0 \
    "and a's temporary file was removed"
like "$(cat "$TMP/b.log")" "removed .*\.sluice-tmp\.a\.txt\..*: process $A on .* has ended" "logged too"
is "$(state_of 20261120T091542Z-00000001)" RUNNING "a record of another host: left alone"
is "$(state_of 20261120T091542Z-00000002)" RUNNING "one of another host in our folder: left alone"
b_id=$(ids_in_state running)
like "$(cat "$(record_of "$b_id")")" "\"pid\": $B," "b's RUNNING record names its process"

# --- a live job's record is left alone ------------------------------------------
s3_event in quick/c.txt > "$TMP/ev_c.json"
out=$(S run "$TMP/ev_c.json" 2> "$TMP/c.log"); is $? 0 "sluice run starts beside job b"
is "$out" "s3://out/2026-11-20/quick/c.txt" "and runs its own job"
is "$(state_of "$b_id")" RUNNING "b's record stays RUNNING: its process lives"
is "$(cd "$TMP/root/out" && find . -name ".sluice-tmp.b.txt.*$B-*" | wc -l | tr -d ' ')" 1 \
    "and so does its temporary file"
unlike "$(cat "$TMP/c.log")" "ABANDONED" "nothing else abandoned"
touch "$TMP/release"
eventually exited "$B"; reap "$B"
is "$STATUS" 0 "job b ends"
is "$(state_of "$b_id")" SUCCEEDED "its record replaced: SUCCEEDED"
host_marks=$(ls "$TMP/runs/_running/$host" 2>/dev/null | tr '\n' ' ')
is "$host_marks" "20261120T091542Z-00000002.json " "in-flight marks: only the other host's is left"

# --- list and retry ----------------------------------------------------------------
like "$(S runs list)" "$a_id +ABANDONED +slow +s3://in/slow/a.txt +abandoned: process $A on .* has ended" \
    "runs list shows ABANDONED, and why"
is "$(S runs list --state abandoned --json | wc -l | tr -d ' ')" 1 "--state abandoned"
is "$(S runs list --state RUNNING --json | wc -l | tr -d ' ')" 2 "--state running: the other host's"
S runs retry 20261120T091542Z-00000001 > /dev/null 2> "$TMP/err"; is $? 2 "a RUNNING run is not retried by id"
like "$(cat "$TMP/err")" "is RUNNING \(process 4242-1-0@elsewhere\)" "and says why"
S runs retry --failed --dry-run > "$TMP/dry" 2>/dev/null
like "$(cat "$TMP/dry")" "^would retry $a_id +ABANDONED" "retry --failed selects the ABANDONED run"
is "$(wc -l < "$TMP/dry" | tr -d ' ')" 1 "and only it"
out=$(S runs retry --failed 2>> "$TMP/retry.log"); is $? 0 "runs retry --failed"
like "$out" "^s3://out/[0-9]{4}-[0-9]{2}-[0-9]{2}/slow/a.txt$" "runs it again"
size_is "$TMP/root/${out#s3://}" 106; ok $? "its output: 100 bytes first, then the input"
S runs list --state succeeded --json | grep "\"retry_of\":\"$a_id\"" > "$TMP/retried.json"
like "$(cat "$TMP/retried.json")" '"state":"SUCCEEDED"' "the retry SUCCEEDED"
like "$(cat "$TMP/retried.json")" '"attempt":2,' "as attempt 2"
out=$(S runs retry --failed 2>&1); like "$out" "no failed runs to retry" "then nothing is left to retry"

# --- every record is valid -----------------------------------------------------------
check_events "$TMP"/runs/[0-9]*/*.json
done_testing
