#!/bin/sh
# End to end against moto with signature checking on: `sluice run` with an
# S3 event writes the spec's exact report to the output bucket (plain key,
# then a key with spaces, '+' and unicode); failing plugins leave no
# object and no open multipart upload; a wrong secret is one clear error;
# endpoints come from the config or from AWS_ENDPOINT_URL[_S3].
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto_checked
cd "$TMP" || exit 1

printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' >want.tab
awsm s3 mb s3://inbound >/dev/null && awsm s3 mb s3://reports >/dev/null
ok $? "buckets made with awscli (signed with the test key)"
awsm s3 cp "$DATA/hit_data.tsv" "s3://inbound/hits/hit_data.tsv" >/dev/null
ok $? "sample uploaded with awscli"
awsm s3 cp "$DATA/hit_data.tsv" "s3://inbound/hits/2009 09/a+b café.tsv" >/dev/null
ok $? "sample uploaded under a key with spaces, '+' and unicode"

s3_config sluice.yaml "$MOTO_URL" "part_size: 5242880"
add_rule_to sluice.yaml '  - name: revenue
    match: {bucket: inbound, prefix: hits/, suffix: .tsv}
    plugin: revenue
    output: "s3://reports/{date}/{name}"
  - name: copy-then-fail
    match: {bucket: inbound, prefix: big/}
    plugin: linecount
    options: {max_lines: 400000}
    output: "s3://reports/copies/{name}"
  - name: fails
    match: {bucket: inbound, prefix: fail/}
    plugin: failing
    output: "s3://reports/failed/{name}"'
report=2026-11-20/2026-11-20_SearchKeywordPerformance.tab

# 1. the event for the plain key
s3_event inbound hits/hit_data.tsv >ev1.json
out=$("$SLUICE" -c sluice.yaml --log-level debug run ev1.json 2>log1); ok $? "sluice run exits 0"
is "$out" "s3://reports/$report" "the report's location is printed"
awsm s3 cp "s3://reports/$report" got1.tab >/dev/null; ok $? "aws s3 cp gets the report back"
cmp -s got1.tab want.tab; ok $? "the report has exactly the spec's bytes"
unlike "$(cat log1)" "$AWS_SECRET_ACCESS_KEY|Signature=|Credential=" \
    "neither the secret nor a signature appears in the (debug) log"

# 2. the same through a key that needs encoding everywhere (event: form
#    encoded; URL and signature: encoded once, '/' kept)
awsm s3 rm "s3://reports/$report" >/dev/null
s3_event inbound 'hits%2F2009+09%2Fa%2Bb+caf%C3%A9.tsv' >ev2.json
out=$("$SLUICE" -c sluice.yaml run ev2.json 2>log2); ok $? "run with an awkward key exits 0"
is "$out" "s3://reports/$report" "same report location"
awsm s3 cp "s3://reports/$report" got2.tab >/dev/null
cmp -s got2.tab want.tab; ok $? "exact bytes from the key with spaces, '+' and unicode"
like "$(cat log2)" 'input="s3://inbound/hits/2009 09/a\+b café.tsv"' "the decoded key is the one read"

# 3. a plugin that fails after writing more than a part: the multipart
#    upload is opened, then aborted; nothing is left behind
python3 -c '
import sys
line = b"0123456789" * 5 + b"\n"          # 51 bytes
sys.stdout.buffer.write(line * 411765)    # ~21 MB, 411765 lines
' >big.txt
awsm s3 cp big.txt s3://inbound/big/big.txt >/dev/null; ok $? "a 21 MB input uploaded"
s3_event inbound big/big.txt >ev3.json
"$SLUICE" -c sluice.yaml --log-level debug run ev3.json >out3 2>log3
is "$?" 1 "the failing job exits 1"
like "$(cat log3)" 'multipart upload started' "the output had become a multipart upload"
like "$(cat log3)" 'multipart upload aborted' "which was aborted"
like "$(cat log3)" 'job failed: more than 400000 lines' "the plugin's error is the job's error"
is "$(object_state reports copies/big.txt)" absent "no output object"
is "$(open_uploads reports)" 0 "ListMultipartUploads is empty"

# 4. the failing test plugin (a small partial output): no object either
printf 'x\n' >small.txt
awsm s3 cp small.txt s3://inbound/fail/small.txt >/dev/null
s3_event inbound fail/small.txt >ev4.json
"$SLUICE" -c sluice.yaml run ev4.json >/dev/null 2>log4
is "$?" 1 "the failing plugin's job exits 1"
is "$(object_state reports failed/partial.out)" absent "its partial output was never published"
is "$(open_uploads reports)" 0 "and no upload is open"

# 5. a wrong secret: 403 SignatureDoesNotMatch, one clear line, exit 1
AWS_SECRET_ACCESS_KEY=not-the-secret "$SLUICE" -c sluice.yaml run ev1.json >/dev/null 2>log5
is "$?" 1 "a wrong secret exits 1"
err=$(grep 'job failed' log5)
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 1 "one error line"
like "$err" 'job failed: s3://inbound/hits/hit_data\.tsv: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided\. Check your key and signing method\. \(HTTP 403\)' \
    "names the object, the S3 code, its message and the status"
unlike "$(cat log5)" 'not-the-secret' "the wrong secret is not echoed"
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 "$SLUICE" -c sluice.yaml run ev1.json >/dev/null 2>log6
like "$(cat log6)" 'InvalidAccessKeyId: .*\(HTTP 403\)' "an unknown key is InvalidAccessKeyId"

# 6. errors for what is not there
"$SLUICE" -c sluice.yaml process --rule revenue s3://inbound/hits/missing.tsv >/dev/null 2>log7
is "$?" 1 "a missing object exits 1"
like "$(cat log7)" 'job failed: s3://inbound/hits/missing\.tsv: NoSuchKey: .* \(HTTP 404\)' "NoSuchKey"
"$SLUICE" -c sluice.yaml process --rule revenue s3://nobucket/hits/x.tsv >/dev/null 2>log8
like "$(cat log8)" 'job failed: s3://nobucket/hits/x\.tsv: NoSuchBucket: .* \(HTTP 404\)' "NoSuchBucket"

# 7. the endpoint from the environment: AWS_ENDPOINT_URL_S3 wins over
#    AWS_ENDPOINT_URL, which applies when it is alone
s3_config env.yaml "" 
add_rule_to env.yaml '  - name: revenue
    match: {bucket: inbound}
    plugin: revenue
    output: "s3://reports/env/{name}"'
dead="http://127.0.0.1:$CLOSED_PORT"
out=$(AWS_ENDPOINT_URL_S3="$MOTO_URL" AWS_ENDPOINT_URL="$dead" "$SLUICE" -q -c env.yaml run ev1.json)
ok $? "AWS_ENDPOINT_URL_S3 is used (and wins over AWS_ENDPOINT_URL)"
is "$out" "s3://reports/env/2026-11-20_SearchKeywordPerformance.tab" "output written there"
out=$(AWS_ENDPOINT_URL="$MOTO_URL" "$SLUICE" -q -c env.yaml run ev1.json); ok $? "AWS_ENDPOINT_URL alone is used"
AWS_ENDPOINT_URL="$dead" "$SLUICE" -c env.yaml run ev1.json >/dev/null 2>log9
like "$(cat log9)" 'job failed: s3://inbound/hits/hit_data\.tsv: connection failed: .*gave up after [0-9]+ attempts' \
    "an unreachable endpoint is a connection error after the retries"
done_testing
