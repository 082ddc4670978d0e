#!/usr/bin/env python3
"""sigv4_diff.py — differential test of sluice's SigV4 signer against botocore.

Generates deterministic (seeded) requests with awkward keys, query strings
and headers, signs each with botocore (S3SigV4Auth for S3, SigV4Auth for the
other services; fixed clock and credentials) and with sluice's signer through
the tests/aws/sigv4_cli driver (spawned once, one JSON line per request),
and asserts the canonical requests and the Authorization headers are
byte-identical. TAP on stdout.

The driver is $SIGV4_CLI, else $top_builddir/tests/aws/sigv4_cli.
"""
import calendar
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import types

try:
    from unittest import mock

    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode
except ImportError:
    print("1..0 # SKIP botocore missing")
    sys.exit(0)

SEED = 20261125
N_S3 = 200
N_OTHER = 120

# Key material: every character class that has bitten a signer somewhere.
PIECES = [
    "a", "Z", "0", "9", "-", "_", ".", "~", " ", "  ", "+", "%", "%20", "%2F",
    "=", "&", "?", "#", "!", "*", "'", "(", ")", ",", ";", ":", "@", "$", "[",
    "]", "{", "}", "|", "\\", "^", "`", '"', "<", ">", "\u00e9", "\u00fc",
    "\u65e5\u672c", "\u20ac", "\U0001f680", "\u00a0", "report", "2026-11-25",
    "data.tsv", "A+B", "x=y&z",
]
PATH_PIECES = ["/", "//", "./", "../", "/./", "/../"]
QUERY_NAMES = [
    "prefix", "list-type", "max-keys", "continuation-token", "Marker",
    "delimiter", "a", "A", "b b", "x+y", "k=v", "\u00e9", "uploadId",
    "partNumber", "versionId", "Action", "~t", "", "acl", "a&b", "%",
]
HEADER_NAMES = [
    "Content-Type", "Content-MD5", "Content-Length", "Content-Encoding",
    "x-amz-meta-Author", "X-Amz-Meta-multi-word", "Range", "If-None-Match",
    "x-amz-acl", "Cache-Control", "X-Custom-Thing", "x-amz-storage-class",
    "Accept", "x-amz-target", "X-Amz-Tagging",
]
HEADER_VALUES = [
    "text/tab-separated-values", "  leading", "trailing   ", "a   b    c",
    "a\tb \t c", '"a   b   c"', "bytes=0-9", "x,y", "*", "", "   ", "k=v&x=y",
    "AmazonSQS.ReceiveMessage", "GLACIER", "max-age=0, no-cache", "1234",
]
# (scheme, netloc as written in the URL, Host header as it must be signed)
S3_PATH_ENDPOINTS = [
    ("http", "127.0.0.1:9000", "127.0.0.1:9000"),
    ("http", "localhost:4566", "localhost:4566"),
    ("http", "minio.local:80", "minio.local"),
    ("https", "s3.eu-west-1.amazonaws.com:443", "s3.eu-west-1.amazonaws.com"),
    ("https", "s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com"),
]
OTHER_ENDPOINTS = [
    ("sqs", "https", "sqs.eu-west-1.amazonaws.com"),
    ("sns", "https", "sns.us-east-1.amazonaws.com"),
    ("events", "https", "events.ap-southeast-2.amazonaws.com"),
    ("sts", "http", "127.0.0.1:5000"),
    ("execute-api", "https", "abc123.execute-api.us-east-1.amazonaws.com"),
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
METHODS = ["GET", "PUT", "POST", "HEAD", "DELETE", "get", "put"]
TIMES = [
    datetime.datetime(2026, 11, 25, 14, 37, 15),
    datetime.datetime(2015, 8, 30, 12, 36, 0),
    datetime.datetime(2024, 2, 29, 23, 59, 59),
    datetime.datetime(2038, 1, 19, 3, 14, 8),
    datetime.datetime(2000, 1, 1, 0, 0, 0),
]
CREDENTIALS = [
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("ASIAQWERTYUIOPASDFGH", "a+b/c=d"),
]


def awkward(rng, lo=0, hi=6, extra=()):
    pool = PIECES + list(extra)
    return "".join(rng.choice(pool) for _ in range(rng.randint(lo, hi)))


def random_case(rng, name):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def random_token(rng):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = "".join(rng.choice(alphabet) for _ in range(rng.randint(16, 120)))
    return "IQoJb3JpZ2luX2VjE" + body + "=" * rng.randint(0, 2)


def random_query(rng):
    pairs = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
        n = rng.choice(QUERY_NAMES) if rng.random() < 0.7 else awkward(rng, 1, 3)
        v = "" if rng.random() < 0.25 else awkward(rng, 1, 5)
        pairs.append((n, v))
        if rng.random() < 0.15:  # the very same pair twice
            pairs.append((n, v))
    return pairs


def query_string(rng, pairs):
    parts = []
    for n, v in pairs:
        if v == "" and rng.random() < 0.3:
            parts.append(percent_encode(n))  # a bare name
        else:
            parts.append(percent_encode(n) + "=" + percent_encode(v))
    return "&".join(parts)


def random_headers(rng):
    names = rng.sample(HEADER_NAMES, rng.randint(0, 5))
    return [(random_case(rng, n), rng.choice(HEADER_VALUES)) for n in names]


def s3_case(rng, i):
    bucket = rng.choice(["bucket", "my.bucket", "b-1"])
    key = awkward(rng, 1, 8, extra=PATH_PIECES)
    virtual = rng.random() < 0.35
    if virtual:
        region = rng.choice(REGIONS)
        scheme = rng.choice(["https", "https", "http"])
        host = "%s.s3.%s.amazonaws.com" % (bucket, region)
        netloc, path = host, "/" + key
    else:
        scheme, netloc, host = rng.choice(S3_PATH_ENDPOINTS)
        region = rng.choice(REGIONS)
        path = "/%s/%s" % (bucket, key) if rng.random() < 0.9 else "/" + bucket
    return dict(kind="S3 %s" % ("virtual-host" if virtual else "path-style"), s3=True,
                service="s3", region=region, scheme=scheme, netloc=netloc, host=host,
                path=path, unsigned=rng.random() < 0.2)


def other_case(rng, i):
    service, scheme, host = rng.choice(OTHER_ENDPOINTS)
    if rng.random() < 0.3:
        path = "/"
    else:
        path = "/" + awkward(rng, 1, 8, extra=PATH_PIECES * 3)
    return dict(kind=service, s3=False, service=service, region=rng.choice(REGIONS),
                scheme=scheme, netloc=host, host=host, path=path, unsigned=False)


def build_case(rng, i, spec):
    spec["id"] = i
    spec["method"] = rng.choice(METHODS)
    spec["query"] = random_query(rng)
    spec["headers"] = random_headers(rng)
    spec["body"] = b"" if rng.random() < 0.3 else awkward(rng, 0, 12).encode("utf-8")
    spec["time"] = rng.choice(TIMES)
    spec["akid"], spec["secret"] = rng.choice(CREDENTIALS)
    spec["token"] = random_token(rng) if rng.random() < 0.5 else None
    spec["wire"] = rng.random() < 0.15
    spec["wire_path"] = percent_encode(spec["path"], safe="/~")
    qs = query_string(rng, spec["query"])
    spec["url"] = "%s://%s%s%s" % (spec["scheme"], spec["netloc"], spec["wire_path"],
                                   "?" + qs if qs else "")
    return spec


def botocore_sign(spec):
    """botocore's canonical request and Authorization header for spec."""
    creds = Credentials(spec["akid"], spec["secret"], spec["token"])
    cls = botocore.auth.S3SigV4Auth if spec["s3"] else botocore.auth.SigV4Auth
    auth = cls(creds, spec["service"], spec["region"])
    request = AWSRequest(method=spec["method"], url=spec["url"],
                         headers=dict(spec["headers"]), data=spec["body"])
    if spec["unsigned"]:
        request.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": False})
    seen = {}
    real_canonical_request = auth.canonical_request

    def capture(req):
        seen["creq"] = real_canonical_request(req)
        return seen["creq"]

    auth.canonical_request = capture
    with mock.patch.object(botocore.auth, "get_current_datetime",
                           return_value=spec["time"]):
        auth.add_auth(request)
    return seen["creq"], request.headers["Authorization"]


def driver_input(spec):
    """The request as a sluice caller describes it to sigv4_sign."""
    payload = ("UNSIGNED-PAYLOAD" if spec["unsigned"]
               else hashlib.sha256(spec["body"]).hexdigest())
    headers = [("Host" if spec["id"] % 2 else "host", spec["host"])] + spec["headers"]
    if spec["s3"]:  # the S3 client sends it; the signer signs what it is given
        headers.append(("X-Amz-Content-SHA256", payload))
    return {
        "id": spec["id"],
        "method": spec["method"],
        "path": spec["wire_path"] if spec["wire"] else spec["path"],
        "wire": spec["wire"],
        "query": [list(p) for p in spec["query"]],
        "headers": [list(h) for h in headers],
        "payload_hash": payload,
        "region": spec["region"],
        "service": spec["service"],
        "now": calendar.timegm(spec["time"].timetuple()),
        "s3": spec["s3"],
        "akid": spec["akid"],
        "secret": spec["secret"],
        "token": spec["token"],
    }


def driver_path():
    if os.environ.get("SIGV4_CLI"):
        return os.environ["SIGV4_CLI"]
    top = os.environ.get("top_builddir") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    return os.path.join(top, "tests", "aws", "sigv4_cli")


def diag(label, text):
    for line in repr(text).split("\\n"):
        print("#   %s %s" % (label, line))


def main():
    rng = random.Random(SEED)
    specs = [build_case(rng, i, s3_case(rng, i)) for i in range(N_S3)]
    specs += [build_case(rng, N_S3 + i, other_case(rng, i)) for i in range(N_OTHER)]

    driver = driver_path()
    if not os.access(driver, os.X_OK):
        print("1..1")
        print("not ok 1 - the sigv4_cli driver is built (%s)" % driver)
        return 1
    stdin = "".join(json.dumps(driver_input(s)) + "\n" for s in specs)
    proc = subprocess.run([driver], input=stdin.encode("utf-8"), capture_output=True,
                          timeout=120)
    out = [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines() if l]
    by_id = {o.get("id"): o for o in out}

    print("1..%d" % (2 + 2 * len(specs)))
    n = 0
    failed = 0

    def report(passed, name):
        nonlocal n, failed
        n += 1
        failed += 0 if passed else 1
        print("%s %d - %s" % ("ok" if passed else "not ok", n, name))
        return passed

    report(proc.returncode == 0, "driver exits 0")
    if proc.stderr:
        diag("stderr", proc.stderr.decode("utf-8", "replace"))
    report(len(out) == len(specs), "driver answered all %d requests" % len(specs))

    kinds = {}
    for spec in specs:
        kinds[spec["kind"]] = kinds.get(spec["kind"], 0) + 1
        want_creq, want_auth = botocore_sign(spec)
        got = by_id.get(spec["id"], {})
        label = "case %d (%s %s %s%s)" % (spec["id"], spec["kind"], spec["method"].upper(),
                                          spec["wire_path"][:40],
                                          ", token" if spec["token"] else "")
        if not report(got.get("canonical_request") == want_creq,
                      label + ": canonical request"):
            print("#   url: %r" % spec["url"])
            diag("got: ", got.get("canonical_request", got.get("error")))
            diag("want:", want_creq)
        if not report(got.get("authorization") == want_auth, label + ": authorization"):
            diag("got: ", got.get("authorization"))
            diag("want:", want_auth)
    print("# cases by kind: %s" % ", ".join("%s=%d" % kv for kv in sorted(kinds.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
