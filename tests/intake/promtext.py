#!/usr/bin/env python3
"""promtext.py FILE|URL [SAVE] — checks a Prometheus text exposition (format 0.0.4) and
prints its samples as JSON: {"name{label=\"v\",...}": value, ...}. Exits 1
with the reasons on stderr when the text is not valid. A URL is fetched
first (GET; the text is saved to SAVE when given).

Two checks, both must pass: a strict checker written here (every sample
belongs to a family declared by # HELP and # TYPE before it, names and
label names are valid, label values escaped, values are floats, no sample
twice, counters are not negative, a histogram's buckets are cumulative
with le="+Inf" equal to _count), and prometheus_client's own parser when
it can be imported (Debian's python3-prometheus-client is tried too, when
the python3 on PATH is another one)."""
import json
import math
import re
import sys

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def family_of(name, families):
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and families.get(name[: -len(suffix)], {}).get("type") == "histogram":
            return name[: -len(suffix)]
    return None


def parse_labels(text, errors, lineno):
    labels = []
    if not text:
        return labels
    body = text[1:-1]
    pos = 0
    while pos < len(body):
        m = LABEL.match(body, pos)
        if not m:
            errors.append("line %d: bad label list %s" % (lineno, text))
            return labels
        labels.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                errors.append("line %d: expected ',' in %s" % (lineno, text))
                return labels
            pos += 1
    names = [n for n, _ in labels]
    if len(set(names)) != len(names):
        errors.append("line %d: a label twice in %s" % (lineno, text))
    return labels


def strict(text):
    errors, families, samples = [], {}, {}
    if not text.endswith("\n"):
        errors.append("the text does not end with a newline")
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not NAME.match(parts[2]):
                errors.append("line %d: bad comment %r" % (lineno, line))
                continue
            fam = families.setdefault(parts[2], {})
            key = "help" if parts[1] == "HELP" else "type"
            if key in fam:
                errors.append("line %d: second # %s for %s" % (lineno, parts[1], parts[2]))
            if key == "type" and parts[3] not in TYPES:
                errors.append("line %d: unknown type %s" % (lineno, parts[3]))
            if key == "type" and fam.get("samples"):
                errors.append("line %d: # TYPE after samples of %s" % (lineno, parts[2]))
            fam[key] = parts[3]
            continue
        if line.startswith("#") or not line.strip():
            continue
        m = SAMPLE.match(line)
        if not m:
            errors.append("line %d: not a sample: %r" % (lineno, line))
            continue
        name, ltext, vtext = m.groups()
        fam = family_of(name, families)
        if fam is None or "type" not in families[fam] or "help" not in families[fam]:
            errors.append("line %d: %s has no # HELP and # TYPE before it" % (lineno, name))
            continue
        families[fam]["samples"] = True
        labels = parse_labels(ltext, errors, lineno)
        try:
            value = float(vtext)
        except ValueError:
            errors.append("line %d: value %r is not a number" % (lineno, vtext))
            continue
        key = name + ("{" + ",".join('%s="%s"' % kv for kv in labels) + "}" if labels else "")
        if key in samples:
            errors.append("line %d: %s twice" % (lineno, key))
        samples[key] = value
        ftype = families[fam]["type"]
        if ftype == "counter" and (value < 0 or math.isnan(value)):
            errors.append("line %d: counter %s is %s" % (lineno, key, vtext))
        if ftype == "counter" and not name.endswith("_total"):
            errors.append("line %d: counter %s does not end in _total" % (lineno, name))
    for fam, info in families.items():
        if info.get("type") != "histogram":
            continue
        buckets = [(k, v) for k, v in samples.items() if k.startswith(fam + "_bucket{")]
        bounds = []
        for k, v in buckets:
            le = re.search(r'le="([^"]+)"', k).group(1)
            bounds.append((float(le), v))
        bounds.sort()
        if not bounds or bounds[-1][0] != math.inf:
            errors.append("%s: no le=\"+Inf\" bucket" % fam)
            continue
        if any(b[1] < a[1] for a, b in zip(bounds, bounds[1:])):
            errors.append("%s: buckets are not cumulative" % fam)
        if samples.get(fam + "_count") != bounds[-1][1]:
            errors.append("%s: _count differs from the +Inf bucket" % fam)
    return errors, samples


def with_client(text):
    """prometheus_client's parser: None when it cannot be imported."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            return None
    try:
        return sum(len(f.samples) for f in text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        return e


def main():
    src = sys.argv[1]
    if src.startswith("http://"):
        import urllib.request
        with urllib.request.urlopen(src, timeout=60) as r:
            text = r.read().decode("utf-8")
        if len(sys.argv) > 2:  # keep what was scraped, for the test's log
            with open(sys.argv[2], "w", encoding="utf-8") as f:
                f.write(text)
    else:
        with open(src, encoding="utf-8") as f:
            text = f.read()
    errors, samples = strict(text)
    client = with_client(text)
    if isinstance(client, Exception):
        errors.append("prometheus_client: %s" % client)
    elif client is not None and client != len(samples):
        errors.append("prometheus_client read %d samples, the strict check %d" % (client, len(samples)))
    if errors:
        sys.stderr.write("\n".join(errors) + "\n")
        return 1
    sys.stderr.write("# checked strictly%s\n" % ("" if client is None else " and by prometheus_client"))
    print(json.dumps(samples, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
