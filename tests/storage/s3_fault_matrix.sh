#!/bin/sh
# The fault matrix (issue 12): tests/storage/faultproxy.py between sluice
# and moto (signatures checked) injects a fault into each request of a job
# in turn: the GET of its input and every request of its output's
# multipart PUT (create, each part, complete). Faults: a connection reset,
# 503 SlowDown, 500 InternalError, an answer cut in half (inside its head
# when the body is short or empty, as a part's), a stall past
# read_timeout, each once (retried: the job must succeed with the exact
# bytes); a reset and a 503 for good on that request (the job must fail
# with nothing published). Whatever happens, no multipart upload is left
# open. s3_faults.sh checks the protocol of each recovery (ranges,
# If-Match, which part is sent again); this one checks the outcome at
# every point a job can be hit. Each run has its own input object and
# output key, so the runs go four at a time under one rules file.
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto_checked
cd "$TMP" || exit 1

random_lines 400000 12 >big.txt   # 6.8 MB: two parts of 5 MiB
awsm s3 mb s3://src >/dev/null && awsm s3 mb s3://dst >/dev/null &&
    awsm s3 cp big.txt s3://src/big.txt >/dev/null
ok $? "buckets and the input (through moto directly)"

echo '[]' >rules.json
start_proxy rules.json
s3_config sluice.yaml "$PROXY_URL" "part_size: 5242880" "max_attempts: 3"
add_rule_to sluice.yaml '  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://dst/{name}"'
# Stalls: read_timeout 2 s, and attempts enough that answers merely slow
# on a loaded machine cannot use them up.
sed 's/^  max_attempts: 3$/  max_attempts: 8\n  read_timeout: 2/' sluice.yaml >stall.yaml
cat >run.sh <<'SH'
#!/bin/sh
# run.sh NAME: one job of the matrix; "NAME STATUS" appended to results
config=sluice.yaml
case $1 in *-stall) config=stall.yaml ;; esac
"$SLUICE" -c $config --log-level debug process --rule copy --output "s3://dst/$1" \
    "s3://src/in-$1" >"$1.out" 2>"$1.log"
echo "$1 $?" >>results
SH
export SLUICE

# The requests of one clean run, in order: the matrix's rows.
sh run.sh clean 2>/dev/null; : # (in-clean does not exist: a first probe)
awsm s3 cp s3://src/big.txt s3://src/in-clean >/dev/null
: >results; : >"$PROXY_LOG"
sh run.sh clean
is "$(cat results)" "clean 0" "a clean run succeeds"
python3 - "$PROXY_LOG" >requests <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    key = re.sub(r"=.*", "=", e["query"].split("&")[0]) if e["query"] else ""
    print(json.dumps({"method": e["method"], "path": e["path"], "query": key}))
PY
n=$(wc -l <requests | tr -d ' ')
kinds=$(python3 -c 'import json,sys
print(" | ".join("%(method)s %(path)s?%(query)s" % json.loads(l) for l in open(sys.argv[1])))' requests)
like "$kinds" '^(HEAD /src/in-clean\?( \| )?)?GET /src/in-clean\? \| POST /dst/clean\?uploads= \| PUT /dst/clean\?partNumber= \| PUT /dst/clean\?partNumber= \| POST /dst/clean\?uploadId=$' \
    "the rows: the input's GET, then create, two parts, complete ($n requests)"

# The matrix: per row and fault a run with its own input copy (made in
# moto directly) and a rule for its request only.
python3 - requests "$MOTO_URL" >matrix.txt <<'PY'
import json, re, sys, boto3
faults = {"once": {"reset": {"action": "reset"},
                   "e503": {"action": "status", "status": 503, "code": "SlowDown"},
                   "e500": {"action": "status", "status": 500, "code": "InternalError"},
                   "cut": {"action": "drop", "bytes": "half"},
                   "stall": {"action": "stall", "seconds": 120}},
          "always": {"reset": {"action": "reset"},
                     "e503": {"action": "status", "status": 503, "code": "SlowDown"}}}
s3 = boto3.client("s3", endpoint_url=sys.argv[2], region_name="us-east-1")
rules = []
for i, line in enumerate(open(sys.argv[1]), 1):
    req = json.loads(line)
    for how, acts in faults.items():
        for name, act in acts.items():
            run = "%s-%d-%s" % (how, i, name)
            path = req["path"].replace("/in-clean", "/in-" + run).replace("/dst/clean", "/dst/" + run)
            rule = {"method": req["method"], "path": "^" + re.escape(path) + "$",
                    "query": "^" + re.escape(req["query"]), "count": 1 if how == "once" else -1}
            rule.update(act)
            rules.append(rule)
            s3.copy_object(Bucket="src", Key="in-" + run, CopySource={"Bucket": "src", "Key": "big.txt"})
            print(run)
json.dump(rules, open("rules.json", "w"))
PY
is "$(grep -c . matrix.txt)" "$(( n * 7 ))" "seven runs per row"
xargs -P 4 -n 1 sh run.sh <matrix.txt

# Every outcome: succeeded with the exact bytes, or failed with no
# object; no upload open in the end.
python3 - results big.txt "$MOTO_URL" >outcomes <<'PY'
import sys, boto3, botocore
s3 = boto3.client("s3", endpoint_url=sys.argv[3], region_name="us-east-1")
want = open(sys.argv[2], "rb").read()
for line in sorted(open(sys.argv[1])):
    key, rc = line.split()
    try:
        got = s3.get_object(Bucket="dst", Key=key)["Body"].read()
        state = "same" if got == want else "DIFFERENT"
    except botocore.exceptions.ClientError as e:
        state = "absent" if e.response["Error"]["Code"] == "NoSuchKey" else "error " + str(e)
    print(key, rc, state)
ups = s3.list_multipart_uploads(Bucket="dst").get("Uploads", [])
print("open-uploads", len(ups), " ".join(u["Key"] for u in ups) or "-")
PY
while read -r key rc state; do
    case $key in
    open-uploads) is "$rc $state" "0 -" "no multipart upload left open" ;;
    once-*) is "$rc $state" "0 same" "$key: a fault once: succeeded, the exact bytes" ;;
    always-*) is "$rc $state" "1 absent" "$key: a fault for good: failed, nothing published" ;;
    esac
    case "$key $rc $state" in
    "open-uploads 0 -" | once-*" 0 same" | always-*" 1 absent" | clean*) ;;
    open-uploads*) ;;
    *) grep -E ' (error|warn) ' "$key.log" | head -5 | sed 's/^/#   /' ;;
    esac
done <outcomes
is "$(grep -c . outcomes)" "$(( n * 7 + 2 ))" "every run checked (and the clean one)"
done_testing
