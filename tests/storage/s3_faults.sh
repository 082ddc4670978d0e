#!/bin/sh
# Fault injection: tests/storage/faultproxy.py sits between sluice and moto
# (signature checking on) and, by rule, cuts a body short, answers 503
# SlowDown / 500 / 200-with-<Error> / 403 ExpiredToken, or stalls. A job
# either succeeds with byte-identical output or fails cleanly: no object,
# no open multipart upload.
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto_checked
cd "$TMP" || exit 1

random_lines 700000 11 >big.txt   # 11.9 MB: three parts of 5 MiB
size=$(wc -c <big.txt | tr -d ' ')
awsm s3 mb s3://src >/dev/null && awsm s3 mb s3://dst >/dev/null &&
    awsm s3 cp big.txt s3://src/big.txt >/dev/null
ok $? "buckets and a $size-byte object (through moto directly)"
etag=$(awsm s3api head-object --bucket src --key big.txt --query ETag --output text)

echo '[]' >rules.json
start_proxy rules.json
s3_config sluice.yaml "$PROXY_URL" "part_size: 5242880" "max_attempts: 3"
add_rule_to sluice.yaml '  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://dst/{name}"'

rules() { printf '%s\n' "$1" >rules.json; : >"$PROXY_LOG"; }
# proxied METHOD [ACTION]: the proxy's log lines for METHOD (and ACTION)
proxied() {
    grep "\"method\": \"$1\"" "$PROXY_LOG" | { [ -n "${2:-}" ] && grep "\"action\": \"$2\"" || cat; }
}
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }
run() { # run NAME INPUT OUTPUT: sluice process with --log-level debug
    "$SLUICE" -c sluice.yaml --log-level debug process --rule copy --output "$3" "$2" \
        >"$1.out" 2>"$1.log"
}
same_object() { # same_object KEY: the object in dst equals big.txt
    rm -f back.txt
    awsm s3 cp "s3://dst/$1" back.txt >/dev/null 2>&1 && cmp -s big.txt back.txt
}

# 1. a GET cut twice mid-body resumes with Range + If-Match each time
rules '[{"method": "GET", "path": "^/src/big.txt$", "action": "drop", "bytes": 3000000, "count": 2}]'
run get-drop s3://src/big.txt "$TMP/get-drop.txt"
ok $? "a download cut twice succeeds"
cmp -s big.txt get-drop.txt; ok $? "byte-identical output"
is "$(proxied GET | wc -l | tr -d ' ')" 3 "three GETs"
is "$(proxied GET | sed -n 1p | field range)" None "the first without Range"
is "$(proxied GET | sed -n 2p | field range)" "bytes=3000000-" "the second resumes where the first stopped"
is "$(proxied GET | sed -n 3p | field range)" "bytes=6000000-" "the third where the second stopped"
is "$(proxied GET | sed -n 3p | field if_match)" "$etag" "with If-Match on the ETag HEAD gave"

# 2. 503 SlowDown on a part (twice), 500 on HEAD: retried, identical
rules '[{"method": "PUT", "query": "partNumber=2&", "action": "status", "status": 503, "code": "SlowDown", "count": 2},
        {"method": "HEAD", "action": "status", "status": 500, "code": "InternalError"}]'
run slowdown s3://src/big.txt s3://dst/slowdown.txt
ok $? "503 SlowDown and 500 are retried"
same_object slowdown.txt; ok $? "byte-identical object"
is "$(proxied PUT status | wc -l | tr -d ' ')" 2 "part 2 was refused twice"
is "$(grep -c 'partNumber=2&' "$PROXY_LOG")" 3 "and sent three times"
is "$(grep -c 'partNumber=1&' "$PROXY_LOG")" 1 "the other parts once (retried one by one)"
is "$(proxied HEAD | wc -l | tr -d ' ')" 2 "HEAD retried after a 500"

# 3. 200 with an <Error> to CompleteMultipartUpload; 403 ExpiredToken on a
#    part and a bare 403 on HEAD (no body there): credentials refreshed once
rules '[{"method": "POST", "query": "uploadId=", "action": "status", "status": 200, "code": "InternalError"},
        {"method": "PUT", "query": "partNumber=1&", "action": "status", "status": 403, "code": "ExpiredToken"},
        {"method": "HEAD", "action": "status", "status": 403, "code": "ExpiredToken"}]'
run complete s3://src/big.txt s3://dst/complete.txt
ok $? "a 200 carrying <Error> is an error, and retried"
same_object complete.txt; ok $? "byte-identical object"
is "$(proxied POST | grep -c uploadId=)" 2 "CompleteMultipartUpload sent twice"
is "$(grep -c 'partNumber=1&' "$PROXY_LOG")" 2 "ExpiredToken: the part is sent again"
is "$(proxied HEAD | wc -l | tr -d ' ')" 2 "a bare 403 to HEAD: sent again once"

# 4. stalls: a request that gets no answer times out and is retried. The
#    proxy stalls for up to 120 s and logs how each stall ended: the client
#    closing the connection first (it gave up: read_timeout) or the 120 s
#    running out. No wall-clock bound on sluice itself. read_timeout is 5 s
#    so that an answer merely slow on a loaded machine is not a stall.
cp sluice.yaml stall.yaml
sed -i 's/^  max_attempts: 3$/  max_attempts: 3\n  read_timeout: 5/' stall.yaml
if config_accepts stall.yaml; then
    rules '[{"method": "GET", "path": "^/src/big.txt$", "action": "stall", "seconds": 120},
            {"method": "PUT", "query": "partNumber=1&", "action": "stall", "seconds": 120}]'
    "$SLUICE" -c stall.yaml --log-level debug process --rule copy --output s3://dst/stall.txt \
        s3://src/big.txt >stall.out 2>stall.log
    ok $? "stalled GET and part are timed out and retried"
    stalls_over() { [ "$(grep -c '"action": "stall-' "$PROXY_LOG")" -ge 2 ]; }
    eventually stalls_over
    is "$(grep -c '"action": "stall-abandoned"' "$PROXY_LOG")" 2 \
        "both stalls were cut short by the client (its read_timeout), not by the proxy's 120 s"
    same_object stall.txt; ok $? "byte-identical object"
    is "$(proxied GET stall | wc -l | tr -d ' ')" 1 "one GET stalled"
    is "$(proxied GET pass | wc -l | tr -d ' ')" 1 "then one went through"
else
    for i in 1 2 3 4 5; do
        ok 0 "# SKIP storage.read_timeout is not accepted by the config loader yet"
    done
fi

# 5. retries exhausted on a part: the job fails, nothing is left
rules '[{"method": "PUT", "query": "partNumber=2&", "action": "status", "status": 503, "code": "SlowDown", "count": -1}]'
run exhausted s3://src/big.txt s3://dst/exhausted.txt
is "$?" 1 "a part that keeps failing fails the job (exit 1)"
like "$(cat exhausted.log)" 'job failed: s3://dst/exhausted.txt \(part 2\): SlowDown: injected \(HTTP 503, gave up after 3 attempts\)' \
    "one clear line: object, part, code, status, attempts"
like "$(cat exhausted.log)" 'multipart upload aborted' "the upload was aborted"
is "$(object_state dst exhausted.txt)" absent "no object"
is "$(open_uploads dst)" 0 "no open multipart upload"

# 6. a download that keeps failing after the output became multipart
rules '[{"method": "GET", "path": "^/src/big.txt$", "action": "drop", "bytes": 6000000},
        {"method": "GET", "path": "^/src/big.txt$", "action": "reset", "count": -1}]'
run get-fail s3://src/big.txt s3://dst/get-fail.txt
is "$?" 1 "a download that cannot finish fails the job"
like "$(cat get-fail.log)" 'job failed: s3://src/big.txt: connection failed: .*gave up after 3 attempts' \
    "the input's error, after the attempts"
like "$(cat get-fail.log)" 'multipart upload aborted' "the output's upload was aborted"
is "$(object_state dst get-fail.txt)" absent "no object"
is "$(open_uploads dst)" 0 "no open multipart upload"

# 7. an object replaced between a cut and its resumption is an error
#    (If-Match: 412), never a mix of two versions
awsm s3 cp big.txt s3://src/changing.txt >/dev/null
printf 'new version\n' >new.txt
cat >rules.json <<JSON
[{"method": "GET", "path": "^/src/changing.txt\$", "action": "drop", "bytes": 2000000,
  "exec": "aws --endpoint-url $MOTO_URL s3 cp new.txt s3://src/changing.txt >/dev/null"}]
JSON
: >"$PROXY_LOG"
run changed s3://src/changing.txt s3://dst/changed.txt
is "$?" 1 "a replaced object fails the job"
like "$(cat changed.log)" 'job failed: s3://src/changing.txt: the object changed while it was being read .*PreconditionFailed \(HTTP 412\)' \
    "and says why"
is "$(proxied GET | wc -l | tr -d ' ')" 2 "after one resume attempt (412 is final)"
is "$(object_state dst changed.txt)" absent "no object"
is "$(open_uploads dst)" 0 "no open multipart upload"
done_testing
