#!/bin/sh
# The job-state event: emitted for failed, succeeded and skipped jobs, and
# valid against schemas/job-state-change.schema.json (checked with a real
# JSON Schema validator).
. "$top_srcdir/tests/lib.sh"
"$PYTHON3" -c 'import jsonschema' 2>/dev/null || skip_all "python3 jsonschema not installed"
make_workspace
cat >> "$TMP/sluice.yaml" <<'YAML'
  - name: fail
    match: {bucket: in, prefix: fail/}
    plugin: failing
    output: "s3://out/{name}"
    on_success: [audit]
  - name: count
    match: {bucket: in, prefix: ok/}
    plugin: linecount
    output: "s3://out/{key}"
    on_success: [audit]
notify:
  audit: {type: log}
YAML
seq 3 > "$TMP/f"; put_object in fail/a.txt "$TMP/f"; put_object in ok/b.txt "$TMP/f"; put_object in other/c.txt "$TMP/f"
"$SLUICE" --log-format json -c "$TMP/sluice.yaml" process s3://in/fail/a.txt s3://in/ok/b.txt s3://in/other/c.txt s3://in/ok/missing.txt >/dev/null 2>"$TMP/log"
is $? 1 "batch with failures exits 1"
"$PYTHON3" - "$TMP/log" "$top_srcdir/schemas/job-state-change.schema.json" > "$TMP/checks" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
events = [l["event"] for l in map(json.loads, open(sys.argv[1])) if "event" in l]
def ok(cond, name):
    print("%s %s" % ("PASS" if cond else "FAIL", name))
for e in events:
    errs = list(jsonschema.Draft202012Validator(schema).iter_errors(e))
    ok(not errs, "event for %s (%s) is valid: %s" % (e["detail"]["input"]["location"], e["detail"]["state"], [x.message for x in errs][:2]))
by = {}
for e in events:
    by.setdefault(e["detail"]["input"]["location"], []).append(e["detail"])
f = by["s3://in/fail/a.txt"][0]
ok(f["state"] == "FAILED" and f["error"]["kind"] == "plugin" and "failing on purpose" in f["error"]["message"], "plugin failure: kind and message")
ok(f["rule"] == "fail" and f["plugin"] == {"name": "failing", "version": "0.0.1"}, "rule and plugin named")
ok(f["output"]["location"] is None and f["stats"] == {"before_failure": 1}, "no output, plugin stats kept: %s %s" % (f["output"], f["stats"]))
s = by["s3://in/ok/b.txt"][0]
ok(s["state"] == "SUCCEEDED" and s["output"]["location"] == "s3://out/ok/b.txt" and s["stats"]["lines"] == 3, "success event through the audit log target")
m = by["s3://in/ok/missing.txt"][0]
ok(m["state"] == "FAILED" and m["error"]["kind"] == "input" and "no such object" in m["error"]["message"], "missing object is an input error")
ok(all(d["run_id"] for ds in by.values() for d in ds), "run ids present")
# a broken event must be rejected by the schema (the test can fail)
bad = json.loads(json.dumps(events[0])); bad["detail"]["state"] = "DONE"
ok(list(jsonschema.Draft202012Validator(schema).iter_errors(bad)) != [], "schema rejects an unknown state")
PY
ok $? "the validator ran to the end"
while read -r verdict name; do
    [ "$verdict" = PASS ]; ok $? "$name"
done < "$TMP/checks"
[ -s "$TMP/checks" ]; ok $? "the checks ran"
done_testing
