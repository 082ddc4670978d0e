# tests/notify/lib_notify.sh — helpers for the notification and run-record
# tests; sourced after tests/lib.sh.
NOTIFY_DIR="$top_srcdir/tests/notify"
SCHEMA="$top_srcdir/schemas/job-state-change.schema.json"

need_jsonschema() {
    "$PYTHON3" -c 'import jsonschema' 2>/dev/null || skip_all "python3 jsonschema not installed"
}

# jfield FILE PATH: the value at a dotted path of a JSON file (detail.state,
# detail.input.etag); "null" for null or absent, JSON for objects and lists.
jfield() {
    "$PYTHON3" - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for p in sys.argv[2].split("."):
    v = v[int(p)] if isinstance(v, list) else v.get(p) if isinstance(v, dict) else None
print("null" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else v)
PY
}

# record_of RUN_ID: the path of that run's record below $TMP/runs.
record_of() { ls "$TMP"/runs/[0-9]*/"$1.json" 2>/dev/null | head -1; }
# records_count: how many run records there are below $TMP/runs.
records_count() { ls "$TMP"/runs/[0-9]*/*.json 2>/dev/null | wc -l | tr -d ' '; }


# check_events FILE...: every job-state event in the files (JSON documents,
# or JSON-lines logs whose lines carry an "event") is valid for the schema;
# one TAP line per event.
check_events() {
    "$PYTHON3" "$NOTIFY_DIR/check_events.py" "$SCHEMA" "$@" > "$TMP/checks"
    ok $? "the validator ran to the end"
    while read -r verdict name; do
        [ "$verdict" = PASS ]; ok $? "$name"
    done < "$TMP/checks"
}
