#!/usr/bin/env python3
"""emf_check.py FILE NAMESPACE — checks that every line of FILE (a Lambda's
stdout) is a CloudWatch Embedded Metric Format document as AWS specifies it:
a JSON object whose _aws has an integer Timestamp and a CloudWatchMetrics
list of directives, each with a Namespace, Dimensions (lists of at most 30
keys, each a string member of the root) and Metrics (Name, Unit among
CloudWatch's units; each a numeric member of the root). Prints one line per
document, "RULE OUTCOME": the sorted list tells which jobs were counted.
Exits 1 with the reasons on stderr otherwise."""
import json
import sys

UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
         "Gigabytes", "Terabytes", "Bits", "Count", "Percent", "None", "Count/Second"}


def check(doc, ns):
    errors = []
    aws = doc.get("_aws")
    if not isinstance(aws, dict) or not isinstance(aws.get("Timestamp"), int):
        return ["no _aws block with an integer Timestamp"]
    for d in aws.get("CloudWatchMetrics") or [None]:
        if not isinstance(d, dict):
            errors.append("no CloudWatchMetrics directive")
            continue
        if d.get("Namespace") != ns:
            errors.append("namespace %r" % d.get("Namespace"))
        for dims in d.get("Dimensions", []):
            if len(dims) > 30 or not all(isinstance(doc.get(k), str) for k in dims):
                errors.append("dimensions %r are not string members" % dims)
        for m in d.get("Metrics", []):
            v = doc.get(m.get("Name"))
            if m.get("Unit") not in UNITS:
                errors.append("%s: unit %r" % (m.get("Name"), m.get("Unit")))
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                errors.append("%s: value %r is not a number" % (m.get("Name"), v))
    return errors


def main():
    errors, out = [], []
    for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
        try:
            doc = json.loads(line)
        except ValueError:
            errors.append("line %d: not JSON: %r" % (n, line[:80]))
            continue
        errors += ["line %d: %s" % (n, e) for e in check(doc, sys.argv[2])]
        out.append("%s %s" % (doc.get("rule"), doc.get("outcome")))
    if errors:
        sys.stderr.write("\n".join(errors) + "\n")
        return 1
    print("\n".join(sorted(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
