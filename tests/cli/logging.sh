#!/bin/sh
# Logs: JSON lines when asked, every job line carries run id, input and
# rule, and each job ends with a summary (bytes, duration, counters).
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: count
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'
seq 10 > "$TMP/f"; put_object in a.txt "$TMP/f"; put_object in b.txt "$TMP/f"
"$SLUICE" --log-format json -c "$TMP/sluice.yaml" process s3://in/a.txt s3://in/b.txt --jobs 2 >/dev/null 2>"$TMP/log"
ok $? "two jobs with JSON logs"
"$PYTHON3" - "$TMP/log" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
jobs = [l for l in lines if l.get("msg") == "job done"]
assert len(jobs) == 2, lines
for j in jobs:
    for k in ("time", "level", "run_id", "input", "rule", "state", "bytes_in", "bytes_out", "duration_ms", "lines", "bytes", "output"):
        assert k in j, (k, j)
    assert j["state"] == "SUCCEEDED" and j["bytes_in"] == 21 and j["lines"] == 10, j
assert len({j["run_id"] for j in jobs}) == 2, "run ids are unique"
assert {j["input"] for j in jobs} == {"s3://in/a.txt", "s3://in/b.txt"}
PY
ok $? "every line is JSON; summaries carry run_id, input, rule, bytes, duration, counters"
"$SLUICE" -c "$TMP/sluice.yaml" process s3://in/a.txt >/dev/null 2>"$TMP/text"
like "$(cat "$TMP/text")" '^[0-9T:.-]+Z info  \[[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\] job done rule=count input=s3://in/a.txt state=SUCCEEDED bytes_in=21 bytes_out=21' "text summary line"
"$SLUICE" --log-level error -c "$TMP/sluice.yaml" process s3://in/a.txt >/dev/null 2>"$TMP/quiet"
is "$(cat "$TMP/quiet")" "" "--log-level error silences a successful run"
done_testing
