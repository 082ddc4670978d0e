#!/bin/sh
# Run records and `sluice runs`: every job leaves a record; a failed job,
# once its cause is fixed, is retried with `runs retry --failed` into a
# SUCCEEDED record linked by retry_of; a redelivered event for an object
# already processed is SKIPPED as a duplicate unless --force; list filters,
# show, the location template form, and records switched off.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/notify/lib_notify.sh"
need_jsonschema
make_workspace
add_rule '  - name: count
    match: {bucket: in, prefix: data/}
    plugin: linecount
    output: "s3://out/{date}/{key}"'
S() { "$SLUICE" --log-format json -c "$TMP/sluice.yaml" "$@"; }
seq 3 > "$TMP/three"

# --- a failing job (the object is missing), fixed, then retried ---------------
s3_event in 'data/a.txt' > "$TMP/ev_a.json"
out=$(S run "$TMP/ev_a.json" 2>>"$TMP/log"); is $? 1 "missing object: the job fails"
is "$(records_count)" 1 "one run record"
S runs list --state failed --json > "$TMP/failed.jsonl"; ok $? "runs list --json"
failed_id=$("$PYTHON3" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["detail"]["run_id"])' "$TMP/failed.jsonl")
like "$failed_id" '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$' "the failed run's id"
like "$(S runs list 2>&1)" "$failed_id +FAILED +count +s3://in/data/a.txt +input: s3://in/data/a.txt: no such object" "runs list: one line with the error"
S runs show "$failed_id" > "$TMP/show.json"; ok $? "runs show"
cmp -s "$TMP/show.json" "$(record_of "$failed_id")"; ok $? "show prints the record as stored"
is "$(jfield "$TMP/show.json" detail.input.etag)" abc "the record keeps the event's etag"

put_object in data/a.txt "$TMP/three"
S runs retry --failed --dry-run > "$TMP/dry" 2>>"$TMP/log"; ok $? "retry --dry-run"
like "$(cat "$TMP/dry")" "^would retry $failed_id +FAILED" "dry run names the run"
is "$(records_count)" 1 "a dry run runs nothing"
out=$(S runs retry --failed 2>>"$TMP/log"); is $? 0 "runs retry --failed succeeds once fixed"
is "$out" "s3://out/2026-11-20/data/a.txt" "the output keeps the original event's date"
cmp -s "$TMP/root/out/2026-11-20/data/a.txt" "$TMP/three"; ok $? "output produced"
S runs list --state succeeded --json > "$TMP/ok.jsonl"
is "$(wc -l < "$TMP/ok.jsonl" | tr -d ' ')" 1 "one SUCCEEDED record"
head -1 "$TMP/ok.jsonl" > "$TMP/retry.json"
retry_id=$(jfield "$TMP/retry.json" detail.run_id)
is "$(jfield "$TMP/retry.json" detail.retry_of)" "$failed_id" "retry_of names the failed run"
is "$(jfield "$TMP/retry.json" detail.attempt)" 2 "attempt 2"
is "$(jfield "$TMP/retry.json" detail.rule)" count "same rule"
is "$(jfield "$TMP/retry.json" detail.input.event_time)" "2026-11-20T09:15:42.118Z" "same event time"
like "$(S runs list 2>&1)" "$retry_id +SUCCEEDED +count +s3://in/data/a.txt +\(attempt 2, retry of $failed_id\)" "list shows the retry"
out=$(S runs retry --failed 2>"$TMP/err"); ok $? "nothing left to retry: exit 0"
is "$out" "" "nothing retried"
like "$(cat "$TMP/err")" 'no failed runs to retry' "and it says so"

# --- duplicates -----------------------------------------------------------------
out=$(S run "$TMP/ev_a.json" 2>"$TMP/dup.log"); is $? 0 "redelivered event: exit 0"
is "$out" "" "redelivered event: nothing written"
like "$(cat "$TMP/dup.log")" "job skipped: duplicate: rule .*count.* already processed this object \(etag abc\) in run $retry_id" "logged as a duplicate"
S runs list --state skipped --json | tail -1 > "$TMP/dup.json"
is "$(jfield "$TMP/dup.json" detail.duplicate_of)" "$retry_id" "SKIPPED record names the run it duplicates"
out=$(S run --force "$TMP/ev_a.json" 2>>"$TMP/log"); is $? 0 "--force: exit 0"
is "$out" "s3://out/2026-11-20/data/a.txt" "--force processes it again"
sed 's/"eTag":"abc"/"eTag":"def"/' "$TMP/ev_a.json" > "$TMP/ev_a2.json"
out=$(S run "$TMP/ev_a2.json" 2>>"$TMP/log"); is "$out" "s3://out/2026-11-20/data/a.txt" "a new etag is not a duplicate"
out=$(S runs retry "$retry_id" 2>>"$TMP/log"); is $? 0 "retrying a SUCCEEDED run by id: exit 0"
is "$out" "" "... is SKIPPED as a duplicate"
out=$(S runs retry --force "$retry_id" 2>>"$TMP/log"); is "$out" "s3://out/2026-11-20/data/a.txt" "... unless --force"
S runs list --state succeeded --json | grep "\"retry_of\":\"$retry_id\"" > "$TMP/last.json"
is "$(jfield "$TMP/last.json" detail.attempt)" 3 "a retry of attempt 2 is attempt 3"

# --- filters and errors ----------------------------------------------------------
n_all=$(S runs list --json | wc -l | tr -d ' ')
is "$n_all" "$(records_count)" "list --json: every record"
is "$(S runs list --since 1h --json | wc -l | tr -d ' ')" "$n_all" "--since 1h: all of them"
is "$(S runs list --since 2999-01-01 --json | wc -l | tr -d ' ')" 0 "--since a future date: none"
is "$(S runs list --rule other --json | wc -l | tr -d ' ')" 0 "--rule other: none"
is "$(S runs list --rule count --state FAILED --json | wc -l | tr -d ' ')" 1 "--rule and --state combine"
S runs list --since yesterday >/dev/null 2>&1; is $? 2 "a bad --since is a usage error"
S runs list --state done >/dev/null 2>&1; is $? 2 "a bad --state is a usage error"
S runs show 20200101T000000Z-00000000 >/dev/null 2>"$TMP/err"; is $? 2 "show of an unknown run: exit 2"
like "$(cat "$TMP/err")" "no run 20200101T000000Z-00000000" "and says so"
S runs show nonsense >/dev/null 2>&1; is $? 2 "show of a non-id: exit 2"
S runs retry >/dev/null 2>&1; is $? 2 "retry needs ids or --failed"
S runs frobnicate >/dev/null 2>&1; is $? 2 "unknown runs command"
"$SLUICE" runs --help | grep -q 'sluice runs retry RUN_ID'; ok $? "runs --help"
"$SLUICE" runs list --help | grep -q -- '--since WHEN'; ok $? "runs list --help"
"$SLUICE" notify-test --help | grep -q 'sample FAILED'; ok $? "notify-test --help"
"$SLUICE" run --help | grep -q -- '--force'; ok $? "run --help names --force"
"$SLUICE" process --help | grep -q -- '--force'; ok $? "process --help names --force"

# --- jobs in parallel: one record each --------------------------------------------------
before=$(records_count)
for i in 1 2 3 4 5 6; do put_object in "data/p$i.txt" "$TMP/three"; done
S process -j 3 s3://in/data/p1.txt s3://in/data/p2.txt s3://in/data/p3.txt \
    s3://in/data/p4.txt s3://in/data/p5.txt s3://in/data/p6.txt >/dev/null 2>>"$TMP/log"
ok $? "six jobs on three workers"
is "$(records_count)" $((before + 6)) "six new records"

# --- every record and every logged event is valid ---------------------------------
check_events "$TMP"/runs/[0-9]*/*.json "$TMP/log"

# --- records through the storage backend (a location template) ---------------------
sed 's/^rules:/runs: {location: "s3:\/\/ops\/sluice\/runs\/{date}\/{run_id}.json"}\nrules:/' \
    "$TMP/sluice.yaml" > "$TMP/loc.yaml"
put_object in data/b.txt "$TMP/three"
"$SLUICE" -q -c "$TMP/loc.yaml" process s3://in/data/b.txt >/dev/null; ok $? "process with runs.location"
n=$(find "$TMP/root/ops/sluice/runs" -name '*.json' | wc -l | tr -d ' ')
is "$n" 1 "the record is an object under the location"
like "$("$SLUICE" -c "$TMP/loc.yaml" runs list)" 'SUCCEEDED +count +s3://in/data/b.txt' "runs list reads it back"

# --- records switched off -----------------------------------------------------------
mkdir -p "$TMP/off"
sed "s|^  root: root|  root: $TMP/off/root|; s/^rules:/runs: {enabled: false}\nrules:/" \
    "$TMP/sluice.yaml" > "$TMP/off/sluice.yaml"
mkdir -p "$TMP/off/root/in/data"; cp "$TMP/three" "$TMP/off/root/in/data/c.txt"
"$SLUICE" -q -c "$TMP/off/sluice.yaml" process s3://in/data/c.txt >/dev/null; ok $? "records off: the job runs"
[ ! -e "$TMP/off/runs" ]; ok $? "records off: no runs/ directory"
"$SLUICE" -c "$TMP/off/sluice.yaml" runs list 2>"$TMP/err"; is $? 2 "records off: runs list exits 2"
like "$(cat "$TMP/err")" 'switched off' "and says why"
done_testing
