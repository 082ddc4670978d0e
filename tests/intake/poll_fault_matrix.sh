#!/bin/sh
# The poll cycle's row of the fault matrix (issue 12). tests/storage/
# faultproxy.py stands between `sluice poll` and moto (signatures checked)
# for SQS and S3 alike. A clean cycle is run first and its requests, as
# the proxy saw them, are the matrix's rows: ReceiveMessage (the message),
# HEAD and GET of the input, PUT of the output, DeleteMessage, and the
# ReceiveMessage that finds the queue empty. Heartbeats
# (ChangeMessageVisibilityBatch) come or not with the machine's speed and are
# no rows; the chaos test meets them.
#
# Each fault hits one row's request once - a reset before it is sent on,
# 503 SlowDown, 500 InternalError, the answer cut in half after the
# request took effect (inside the body or, for a short answer, inside the
# headers), a stall past sluice's timeout -: one job must succeed (one
# SUCCEEDED record) and its message be deleted; the output bucket is
# versioned, and every version of the output, one per PUT that reached S3
# (two when a PUT was sent again after its answer was lost), must hold the
# exact bytes. A reset and a 503 for good on the HEAD, GET, PUT or
# DeleteMessage: the message must end in the dead-letter queue, never
# lost, and nothing is published - or, when only DeleteMessage fails, the
# output once. No multipart upload is left open, and every GET of an input
# carries the ETag its HEAD saw (If-Match).
#
# Every case has its own input, output key, queue and dead-letter queue
# (visibility 2 s, maxReceiveCount 2) and its own `sluice poll`, which
# drains its queue and exits (--max-idle); the proxy's rules tell the
# cases apart by path (S3) and by the queue URL in the body (SQS), so all
# cases run at once and the test lasts about as long as its slowest case:
# a stalled SQS call, which sluice gives up after 10 s (not configurable).
# One python process (matrix.py) does the setup, runs the pollers and
# reads the outcomes; this script judges them.
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto
cd "$TMP" || exit 1

echo '[]' >rules.json
start_proxy rules.json
s3_config sluice.yaml "$PROXY_URL" "max_attempts: 3"
sed -i 's|^rules:|runs:\n  dir: runs\nrules:|' sluice.yaml
add_rule_to sluice.yaml '  - name: copy
    match: {bucket: src}
    plugin: linecount
    output: "s3://dst/{name}"'
# Stalls: sluice gives up on an S3 request after read_timeout 2 s, with
# attempts enough that answers merely slow on a loaded machine cannot use
# them up.
sed 's/^  max_attempts: 3$/  max_attempts: 8\n  read_timeout: 2/' sluice.yaml >stall.yaml

cat >matrix.py <<'PY'
"""matrix.py MOTO_URL PROXY_PORT PROXY_LOG: writes "KEY VALUE..." lines.

The IAM key (moto checks signatures after its first three requests),
the buckets and the clean case; the clean cycle (`sluice poll
--max-idle 1`), whose requests in the proxy's log are the rows; a case
per row and fault, the proxy's rules; every case's poller at once; then
every case's outcome."""
import glob, json, os, re, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
import boto3

MOTO, PROXY_PORT, PROXY_LOG = sys.argv[1], sys.argv[2], sys.argv[3]
SLUICE = os.environ["SLUICE"]
DEADLINE = 3 * int(os.environ.get("SLUICE_TEST_DEADLINE", "60"))
ONCE = {"reset": {"action": "reset"},
        "e503": {"action": "status", "status": 503, "code": "SlowDown"},
        "e500": {"action": "status", "status": 500, "code": "InternalError"},
        "cut": {"action": "drop", "bytes": "half"},
        "stall": {"action": "stall", "seconds": 120}}
ALWAYS = {"reset": {"action": "reset"},
          "e503": {"action": "status", "status": 503, "code": "SlowDown"}}
LABELS = {"AmazonSQS.ReceiveMessage": "receive", "AmazonSQS.DeleteMessage": "delete"}


def client(service, **kw):
    return boto3.client(service, endpoint_url=MOTO, region_name="us-east-1", **kw)


def body_of(case):
    return "".join("%s line %d\n" % (case, i) for i in range(60)).encode()


def make_case(case):
    """The case's input, its queue and dead-letter queue, and the input's
    S3 event in the queue: {"queue": URL, "dlq": URL}."""
    body = body_of(case)
    etag = s3.put_object(Bucket="src", Key="in-" + case, Body=body)["ETag"].strip('"')
    dlq = sqs.create_queue(QueueName="d-" + case)["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:%s:d-%s" % (dlq.rsplit("/", 2)[1], case)
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})
    q = sqs.create_queue(QueueName="q-" + case, Attributes={
        "VisibilityTimeout": "2", "RedrivePolicy": redrive})["QueueUrl"]
    ev = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                       "eventTime": "2026-11-20T09:15:42.118Z", "eventName": "ObjectCreated:Put",
                       "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "src"},
                              "object": {"key": "in-" + case, "size": len(body), "eTag": etag}}}]}
    sqs.send_message(QueueUrl=q, MessageBody=json.dumps(ev))
    return {"queue": q, "dlq": dlq}


def through_proxy(url):
    return re.sub(r"^(http://127\.0\.0\.1:)\d+/", r"\g<1>%s/" % PROXY_PORT, url)


def poller(case, config, queue, idle):
    """Starts `sluice poll` on the queue (through the proxy). After the
    last job, `idle` empty receives of at least 1 s each (4 of them)
    outlast the 2 s visibility timeout, so a message left on the queue
    comes back before the poller gives up; a slow machine only makes the
    wait longer. (2 s to spare: a heartbeat sent just before the message
    was settled may still extend it once.)"""
    return subprocess.Popen(
        [SLUICE, "-c", config, "--log-level", "debug", "poll", "--queue", through_proxy(queue),
         "--wait", "1", "--visibility", "2", "--workers", "1", "--max-idle", str(idle)],
        stdout=open(case + ".out", "w"), stderr=open(case + ".log", "w"))


def rows():
    """The clean cycle's requests, in order: (label, kind, nth of its kind)."""
    out, seen = [], {}
    for line in open(PROXY_LOG):
        e = json.loads(line)
        if e["target"] == "AmazonSQS.ChangeMessageVisibilityBatch":
            continue  # a heartbeat: whether one comes depends on the machine's speed
        if e["target"]:
            label, kind = LABELS.get(e["target"], e["target"]), ("sqs", e["target"])
        else:
            label = e["method"].lower()
            kind = (e["method"], e["path"], re.sub(r"=.*", "", e["query"].split("&")[0]))
        seen[kind] = seen.get(kind, 0) + 1
        out.append((label, kind, seen[kind]))
    return out


def rule_for(kind, nth, case, how):
    if kind[0] == "sqs":  # every SQS call posts to "/": the queue is in the body
        r = {"header": {"x-amz-target": "^" + re.escape(kind[1]) + "$"},
             "body": re.escape("/q-%s\"" % case)}
    else:
        path = kind[1].replace("/in-clean", "/in-" + case)
        r = {"method": kind[0], "path": "^" + re.escape(path) + "$",
             "query": "^" + re.escape(kind[2]) + ("" if kind[2] else "$")}
    r.update(nth=nth, count=1 if how == "once" else -1)
    return r


def outcomes(cases, rules, rc):
    acted, bare, puts = {}, set(), {}
    for line in open(PROXY_LOG):
        e = json.loads(line)
        if e["rule"] is not None:
            acted.setdefault(e["rule"], set()).add(e["action"])
        if e["method"] == "PUT" and e["action"] in ("pass", "drop"):
            puts[e["path"]] = puts.get(e["path"], 0) + 1  # PUTs that reached S3
        if e["method"] == "GET" and e["path"].startswith("/src/") and not e["if_match"]:
            bare.add(e["path"])
    versions = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket="dst"):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            versions.setdefault(v["Key"], []).append(v)
    succeeded = {}
    for f in glob.glob("runs/*/*.json"):
        d = json.load(open(f))
        d = d.get("detail", d)
        if d.get("state") == "SUCCEEDED":
            succeeded[d["input"]["location"]] = succeeded.get(d["input"]["location"], 0) + 1

    def depth(url):
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return a["ApproximateNumberOfMessages"] + "/" + a["ApproximateNumberOfMessagesNotVisible"]

    def observe(item):
        case, c = item
        # every version of the output has the exact bytes, and there is
        # one per PUT that reached S3 (a PUT is sent again when its answer
        # was lost, or late past read_timeout): nothing else wrote the key
        vs = versions.get("in-" + case, [])
        same = all("VersionId" in v and s3.get_object(
            Bucket="dst", Key=v["Key"], VersionId=v["VersionId"])["Body"].read() == body_of(case)
            for v in vs)
        sent = puts.get("/dst/in-" + case, 0)
        out = "same" if same and len(vs) == sent else "%d-versions-%s-of-%d-puts" % (
            len(vs), "exact" if same else "DIFFERENT", sent)
        out = "0" if not vs and not sent else out
        # the fault met its request ("hit"); a stall: sluice gave up
        # first ("abandoned"), not the proxy ("stall-ran-out")
        how = acted.get(c["rule"], set())
        fault = "/".join(sorted(how)) or "never"
        if how == {rules[c["rule"]]["action"]}:
            fault = "hit"
        elif how == {"stall", "stall-abandoned"}:
            fault = "abandoned"
        return "case %s rc=%s out=%s puts=%d queue=%s dlq=%s succeeded=%d fault=%s" % (
            case, rc[case], out, sent, depth(c["queue"]), depth(c["dlq"]),
            succeeded.get("s3://src/in-" + case, 0), fault)

    with ThreadPoolExecutor(8) as pool:
        for line in pool.map(observe, sorted(cases.items())):
            print(line)
    ups = s3.list_multipart_uploads(Bucket="dst").get("Uploads", [])
    print("open-uploads %d %s" % (len(ups), " ".join(u["Key"] for u in ups) or "-"))
    # a GET without the ETag its HEAD saw could mix two versions of an object
    print("gets-without-if-match %d %s" % (len(bare), " ".join(sorted(bare)) or "-"))


iam = client("iam", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="sluice-test")
iam.put_user_policy(UserName="sluice-test", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="sluice-test")["AccessKey"]
os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]  # for boto3 and every sluice
os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]
s3, sqs = client("s3"), client("sqs")
s3.create_bucket(Bucket="src")
s3.create_bucket(Bucket="dst")
# every publication of an output is a version of its key
s3.put_bucket_versioning(Bucket="dst", VersioningConfiguration={"Status": "Enabled"})

clean = make_case("clean")
print("clean-rc", poller("clean", "sluice.yaml", clean["queue"], 1).wait(DEADLINE), flush=True)
cycle = rows()
print("rows", " ".join(label for label, _, _ in cycle), flush=True)

rules, cases, names = [], {}, []
for i, (label, kind, nth) in enumerate(cycle, 1):
    for how, faults in (("once", ONCE), ("always", ALWAYS)):
        # a receive failing for good: no job ever runs, the poller never
        # goes idle; not a case
        if how == "always" and label == "receive":
            continue
        for name, act in faults.items():
            case = "%s-%d-%s-%s" % (how, i, label, name)
            rule = rule_for(kind, nth, case, how)
            rule.update(act)
            cases[case] = {"rule": len(rules)}
            rules.append(rule)
            names.append(case)
with ThreadPoolExecutor(8) as pool:
    for case, made in zip(names, pool.map(make_case, names)):
        cases[case].update(made)
json.dump(rules, open("rules.json.tmp", "w"))
os.rename("rules.json.tmp", "rules.json")
print("cases", len(cases), flush=True)

# every case at once, each its own poller
t0 = time.time()
running = {case: poller(case, "stall.yaml" if case.endswith("-stall") else "sluice.yaml",
                        c["queue"], 4) for case, c in cases.items()}
rc = {}
for case, p in running.items():
    try:
        rc[case] = p.wait(max(1, DEADLINE - (time.time() - t0)))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc[case] = "hung"
outcomes(cases, rules, rc)
PY

export SLUICE SLUICE_TEST_DEADLINE
python3 matrix.py "$MOTO_URL" "$PROXY_PORT" "$PROXY_LOG" >outcomes 2>matrix.err
ok $? "setup, the clean cycle, the matrix's pollers and their outcomes (one python process)"
[ -s matrix.err ] && sed 's/^/# /' matrix.err | head -20
is "$(sed -n 's/^clean-rc //p' outcomes)" 0 "a clean cycle: exit 0"
rows=$(sed -n 's/^rows //p' outcomes)
is "$rows" "receive head get put delete receive" \
    "the rows: receive, HEAD and GET of the input, PUT of the output, delete, the empty receive"
n=$(echo "$rows" | wc -w)
receives=$(echo "$rows" | tr ' ' '\n' | grep -c '^receive$')
is "$(sed -n 's/^cases //p' outcomes)" "$(( n * 5 + (n - receives) * 2 ))" \
    "five faults once on each of the $n rows, two for good on each but the receives"
while read -r what case rest; do
    case $what in
    open-uploads) is "$case $rest" "0 -" "no multipart upload left open" ;;
    gets-without-if-match) is "$case $rest" "0 -" \
        "every GET of an input carried If-Match: no HEAD answer taken without its ETag" ;;
    esac
    [ "$what" = case ] || continue
    case $case in
    # puts: PUTs of the output that reached S3. With read_timeout 2 s (the
    # stalls) an answer merely slow is given up and the PUT sent again: not
    # counted there.
    once-*-stall) want="rc=0 out=same queue=0/0 dlq=0/0 succeeded=1 fault=abandoned"
        why="a stall past the timeout once: sluice gave up, one job succeeded, the exact bytes" ;;
    once-*-put-cut) want="rc=0 out=same puts=2 queue=0/0 dlq=0/0 succeeded=1 fault=hit"
        why="the PUT took effect, its answer was cut: sent again, the exact bytes, one job" ;;
    once-*) want="rc=0 out=same puts=1 queue=0/0 dlq=0/0 succeeded=1 fault=hit"
        why="a fault once: one job succeeded, the exact bytes, message deleted" ;;
    always-*-delete-*) want="rc=0 out=same puts=1 queue=0/0 dlq=1/0 succeeded=1 fault=hit"
        why="the message cannot be deleted: published once, the message in the dead-letter queue" ;;
    always-*) want="rc=1 out=0 puts=0 queue=0/0 dlq=1/0 succeeded=0 fault=hit"
        why="a fault for good: failed, nothing published, the message in the dead-letter queue" ;;
    esac
    got=$rest
    case $case in *-stall) got=$(echo "$rest" | sed 's/ puts=[0-9]*//') ;; esac
    is "$got" "$want" "$case: $why"
    [ "$got" = "$want" ] || grep -E ' (error|warn) ' "$case.log" | head -5 | sed 's/^/#   /'
done <outcomes
is "$(grep -c '^case ' outcomes)" "$(sed -n 's/^cases //p' outcomes)" "every case checked"
done_testing
