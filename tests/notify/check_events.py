#!/usr/bin/env python3
"""check_events.py SCHEMA FILE... — validates every job-state event found in
the files against the schema with a real validator (jsonschema, draft
2020-12). A file is one JSON document (an event, or a list of them) or JSON
lines (log lines carrying an "event" field, or events). Prints one line per
event: "PASS <what>" or "FAIL <what>: <errors>"; exits 1 when no event was
found at all."""
import json
import os
import sys

import jsonschema


def events_in(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        docs = [json.loads(text)]
    except ValueError:
        docs = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    for doc in docs:
        for d in doc if isinstance(doc, list) else [doc]:
            if isinstance(d, dict) and "detail-type" in d:
                yield d
            elif isinstance(d, dict) and isinstance(d.get("event"), dict):
                yield d["event"]


def main():
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    n = 0
    for path in sys.argv[2:]:
        for ev in events_in(path):
            n += 1
            d = ev.get("detail", {})
            what = "event %s (%s, %s) in %s is valid" % (
                d.get("run_id"), d.get("state"), d.get("rule"), os.path.basename(path))
            errs = [e.message for e in validator.iter_errors(ev)]
            print("PASS %s" % what if not errs else "FAIL %s: %s" % (what, errs[:3]))
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
