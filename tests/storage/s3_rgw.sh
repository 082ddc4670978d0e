#!/bin/sh
# The S3 backend end to end against a real S3 server: Ceph's RADOS Gateway
# (tests/rgw.sh: one monitor, one in-memory OSD and radosgw on loopback,
# one cluster for the whole file), so the S3 client is not only proven
# against moto. Whole jobs on keys with spaces, '+' and unicode (read and
# written); a multipart upload checked byte for byte with no upload left
# open, and one aborted; a GET cut twice and resumed with Range + If-Match
# through tests/storage/faultproxy.py, and an object replaced between cut
# and resumption (412); ListObjectsV2 with a continuation token; a wrong
# secret and an unknown key: one clear 403 line, nothing published.
# Skipped (loudly) where Ceph is not installed.
S3_SERVER=rgw
. "$top_srcdir/tests/storage/s3_lib.sh"
start_rgw
echo "# Ceph RGW up in $RGW_START_MS ms at $S3_URL ($(tr '\n' ';' <"$RGW_DIR/startup.log"))"
cd "$TMP" || exit 1
PY=$RGW_PY # python3 with boto3, past any version manager's shim

# s3q OP ARGS [-- OP ARGS]...: boto3 against the gateway, one python start
# for several questions, one answer line per OP:
#   get BUCKET KEY FILE  -> "ok" (FILE written) or the error code
#   state BUCKET KEY     -> present | absent | the error code
#   etag BUCKET KEY      -> the ETag (unquoted)
#   uploads BUCKET       -> how many multipart uploads are open
#   keys BUCKET PREFIX   -> the keys under PREFIX, '|'-separated
#   put BUCKET KEY FILE  -> "ok" once FILE is the object
cat >s3q.py <<'PY'
import os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
args, ops, cur = sys.argv[1:], [], []
for a in args:
    if a == "--":
        ops.append(cur); cur = []
    else:
        cur.append(a)
ops.append(cur)
for op in ops:
    try:
        if op[0] == "get":
            s3.download_file(op[1], op[2], op[3]); print("ok")
        elif op[0] == "state":
            s3.head_object(Bucket=op[1], Key=op[2]); print("present")
        elif op[0] == "etag":
            print(s3.head_object(Bucket=op[1], Key=op[2])["ETag"].strip('"'))
        elif op[0] == "uploads":
            print(len(s3.list_multipart_uploads(Bucket=op[1]).get("Uploads", [])))
        elif op[0] == "put":
            s3.upload_file(op[3], op[1], op[2]); print("ok")
        elif op[0] == "keys":
            keys = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=op[1], Prefix=op[2]):
                keys += [o["Key"] for o in page.get("Contents", [])]
            print("|".join(keys))
        else:
            print("unknown op " + op[0])
    except ClientError as e:
        code = e.response["Error"]["Code"]
        print("absent" if op[0] == "state" and code in ("404", "NoSuchKey") else code)
PY
s3q() { S3_URL=$S3_URL "$PY" s3q.py "$@"; }
line() { sed -n "$1p" answers; } # line N: the Nth answer of the last s3q >answers

AWKWARD='dir with space/a+b ü.tsv'
AWKWARD_EV='dir+with+space%2Fa%2Bb+%C3%BC.tsv' # as S3 events carry it (form-encoded)
N=1010                                         # more than one ListObjectsV2 page (1000)
printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' >want.tab
"$PY" - "$S3_URL" "$DATA/hit_data.tsv" "$AWKWARD" <<'PY'
import random, sys
import boto3
from botocore.config import Config
url, hits, awkward = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
for b in ("inbound", "reports", "dst", "src", "many"):
    s3.create_bucket(Bucket=b)
s3.upload_file(hits, "inbound", awkward)
s3.upload_file(hits, "inbound", "hits/hit_data.tsv")
for key in ("x&y <z>.tsv", "sub/ünï cödé+%.tsv"):  # beside the awkward key
    s3.put_object(Bucket="inbound", Key="dir with space/" + key, Body=key.encode() + b"\n")
r = random.Random(11)
with open("big.txt", "wb") as f:  # 11.9 MB: three parts of 5 MiB
    f.write(b"".join(b"%016x\n" % r.getrandbits(64) for _ in range(700000)))
s3.upload_file("big.txt", "src", "big.txt")
PY
ok $? "buckets, the sample under '$AWKWARD' and beside it, a 12 MB object: put with boto3"
# the $N objects for the listing (section 5) go up meanwhile
"$PY" - "$S3_URL" "$N" >feed-put.log 2>&1 <<'PY' &
import sys
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config
url, n = sys.argv[1], int(sys.argv[2])
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, max_pool_connections=16))
def put(i):  # data files of a delivery set whose manifest has not arrived
    s3.put_object(Bucket="many", Key="feed/%d-rsid_2026-11-20.tsv.gz" % i, Body=b"%d\n" % i)
with ThreadPoolExecutor(16) as pool:
    list(pool.map(put, range(1, n + 1)))
for key in ("feed", "feed-x/1-rsid_2026-11-20.tsv.gz", "1-rsid_2026-11-20.tsv.gz"):
    s3.put_object(Bucket="many", Key=key, Body=b"outside\n")  # neighbours of the prefix
PY
feed_pid=$!
_pids="$_pids $feed_pid"
size=$(wc -c <big.txt | tr -d ' ')

s3_config sluice.yaml "$S3_URL" "part_size: 5242880" "max_attempts: 3"
add_rule_to sluice.yaml '  - name: revenue
    match: {bucket: inbound, suffix: .tsv}
    plugin: revenue
    output: "s3://reports/{date}/{name}"
  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://dst/{key}"
  - name: copy-then-fail
    match: {bucket: nothing-routes-here}
    plugin: linecount
    options: {max_lines: 400000}
    output: "s3://dst/{key}"'
report=2026-11-20/2026-11-20_SearchKeywordPerformance.tab

# 1. whole jobs on a key with spaces, '+' and unicode: an S3 event (the key
#    form-encoded) to the revenue report, and a copy whose output key is
#    the awkward one too (encoded in the URL, signed as sent)
s3_event inbound "$AWKWARD_EV" >ev.json
out=$("$SLUICE" -c sluice.yaml run ev.json 2>run1.log)
ok $? "sluice run: the revenue plugin on s3://inbound/$AWKWARD"
is "$out" "s3://reports/$report" "the report's location is printed"
like "$(cat run1.log)" 'input="s3://inbound/dir with space/a\+b ü\.tsv"' "the decoded key is the one read"
out=$("$SLUICE" -c sluice.yaml process --rule copy "s3://inbound/$AWKWARD" 2>copy1.log)
ok $? "sluice process: a copy to the same awkward key in another bucket"
is "$out" "s3://dst/$AWKWARD" "written where the rule says"
s3q get reports "$report" got.tab -- get dst "$AWKWARD" got.tsv -- keys dst "dir " >answers
is "$(line 1)" ok "the report read back with boto3"
cmp -s got.tab want.tab; ok $? "the report has exactly the spec's bytes"
is "$(line 2)" ok "the copy read back with boto3"
cmp -s got.tsv "$DATA/hit_data.tsv"; ok $? "byte-identical to the input"
is "$(line 3)" "$AWKWARD" "listed under exactly that key"

# 2. multipart: a local 12 MB file up as 3 parts of 5 MiB, an S3 to S3
#    copy (a streamed GET into a multipart PUT); RGW answers
#    CompleteMultipartUpload with an empty <ETag>, which sluice does not need
multi='multi part/big+1 é.txt'
"$SLUICE" -c sluice.yaml --log-level debug process --rule copy --output "s3://dst/$multi" \
    big.txt >/dev/null 2>mp1.log
ok $? "a $size-byte output is uploaded"
like "$(cat mp1.log)" 'multipart upload completed \(3 parts\)' "as 3 parts of 5 MiB"
"$SLUICE" -c sluice.yaml process --rule copy s3://src/big.txt >/dev/null 2>mp2.log
ok $? "S3 to S3 through the plugin"
like "$(cat mp2.log)" "bytes_in=$size bytes_out=$size" "all bytes in and out"
s3q get dst "$multi" back1.txt -- etag dst "$multi" -- get dst big.txt back2.txt -- uploads dst >answers
is "$(line 1)" ok "read back with boto3"
cmp -s big.txt back1.txt; ok $? "byte-identical"
like "$(line 2)" '^[0-9a-f]{32}-3$' "HEAD gives a multipart ETag (-3)"
is "$(line 3)" ok "the S3 to S3 copy read back"
cmp -s big.txt back2.txt; ok $? "byte-identical"
is "$(line 4)" 0 "ListMultipartUploads is empty"

# 3. a plugin failing after more than a part was uploaded: the upload is
#    aborted, nothing is published, nothing is left open
"$SLUICE" -c sluice.yaml --log-level debug process --rule copy-then-fail \
    --output s3://dst/failed/big.txt big.txt >/dev/null 2>fail.log
is "$?" 1 "the failing job exits 1"
like "$(cat fail.log)" 'multipart upload started' "its output had become a multipart upload"
like "$(cat fail.log)" 'multipart upload aborted' "which was aborted"
s3q state dst failed/big.txt -- uploads dst >answers
is "$(line 1)" absent "no object"
is "$(line 2)" 0 "no upload left open"

# 4. ranged resume: faultproxy.py between sluice and RGW cuts the GET twice;
#    each resumption asks for the rest with Range and If-Match on the ETag
echo '[]' >rules.json
start_proxy rules.json
s3_config proxied.yaml "$PROXY_URL" "part_size: 5242880" "max_attempts: 3"
add_rule_to proxied.yaml '  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://dst/{key}"'
rules() { printf '%s\n' "$1" >rules.json; : >"$PROXY_LOG"; }
# gets: "RANGE IF-MATCH" of each GET the proxy saw
gets() {
    "$PY" -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["method"] == "GET":
        print(r["range"], r["if_match"])' <"$PROXY_LOG"
}
s3q etag src big.txt -- put src changing.txt big.txt >answers
etag=$(line 1)
rules '[{"method": "GET", "path": "^/src/big.txt$", "action": "drop", "bytes": 3000000, "count": 2}]'
"$SLUICE" -c proxied.yaml process --rule copy --output "$TMP/resumed.txt" s3://src/big.txt \
    >/dev/null 2>resume.log
ok $? "a download cut twice succeeds"
cmp -s big.txt resumed.txt; ok $? "byte-identical output"
gets >gets.txt
is "$(wc -l <gets.txt | tr -d ' ')" 3 "three GETs"
like "$(sed -n 1p gets.txt)" '^None ' "the first without Range"
is "$(sed -n 2p gets.txt)" "bytes=3000000- \"$etag\"" "the second resumes where the first stopped, If-Match on the ETag"
is "$(sed -n 3p gets.txt)" "bytes=6000000- \"$etag\"" "the third where the second stopped"
# the object replaced between the cut and the resumption: RGW answers 412
printf 'new version\n' >new.txt
cat >rules.json <<JSON
[{"method": "GET", "path": "^/src/changing.txt\$", "action": "drop", "bytes": 2000000,
  "exec": "S3_URL=$S3_URL '$PY' $TMP/s3q.py put src changing.txt $TMP/new.txt >/dev/null"}]
JSON
: >"$PROXY_LOG"
"$SLUICE" -c proxied.yaml process --rule copy --output s3://dst/changed.txt s3://src/changing.txt \
    >/dev/null 2>changed.log
is "$?" 1 "an object replaced mid-read fails the job"
like "$(cat changed.log)" 'job failed: s3://src/changing.txt: the object changed while it was being read .*PreconditionFailed \(HTTP 412\)' \
    "and says why: PreconditionFailed (412)"
is "$(gets | wc -l | tr -d ' ')" 2 "after one resume attempt"

# 5. listing. A prefix of awkward keys (XML-escaped in the listing), each
#    processed once; and $N data files of a delivery set, more than one
#    ListObjectsV2 page, all found by `sluice deliveries`
"$SLUICE" -c sluice.yaml process --jobs 2 --recursive --rule copy --output "$TMP/rec/{key}" \
    "s3://inbound/dir with space/" >printed 2>rec.log
ok $? "process --recursive over s3://inbound/dir with space/"
like "$(cat rec.log)" "3 jobs: 3 succeeded, 0 failed, 0 skipped" "3 jobs, all succeeded"
cmp -s "rec/$AWKWARD" "$DATA/hit_data.tsv"; ok $? "the sample's copy is byte-identical"
is "$(cat "rec/dir with space/x&y <z>.tsv")" "x&y <z>.tsv" "a key with '&', '<' and '>' (escaped in the XML)"
is "$(cat "rec/dir with space/sub/ünï cödé+%.tsv")" "sub/ünï cödé+%.tsv" "a key with unicode, '+' and '%', one level down"
wait "$feed_pid"
ok $? "$N objects put with boto3 (plus neighbours beside the prefix)" || sed 's/^/# /' feed-put.log
"$SLUICE" -c sluice.yaml deliveries --prefix s3://many/feed/ --json >feed.json 2>feed.log
ok $? "sluice deliveries over s3://many/feed/"
is "$("$PY" -c 'import json, sys
sets = [json.loads(l) for l in sys.stdin if l.strip()]
print(len(sets), sets[0]["state"], sets[0]["data_files"])' <feed.json)" "1 waiting $N" \
    "one set (nothing from beside the prefix), waiting for its manifest, with all $N data files"
# (radosgw writes its log from a thread of its own: waited for)
list_requests() { grep 'beast: .* "GET /many?.*list-type=2' "$RGW_DIR/client.rgw.log"; }
two_logged() { [ "$(list_requests | wc -l)" -ge 2 ]; }
eventually two_logged
is "$(list_requests | wc -l | tr -d ' ')" 2 "two ListObjectsV2 pages (the gateway's access log)"
like "$(list_requests | tail -n 1)" 'continuation-token=' "the second asked with the continuation token"

# 6. a wrong secret: RGW's 403 SignatureDoesNotMatch (its <Message/> is
#    empty), one clear line, exit 1, nothing published, neither reading
#    nor writing; an unknown key is InvalidAccessKeyId
AWS_SECRET_ACCESS_KEY=not-the-secret "$SLUICE" -c sluice.yaml process --rule copy \
    s3://inbound/hits/hit_data.tsv >/dev/null 2>wrong1.log
is "$?" 1 "reading with a wrong secret exits 1"
err=$(grep 'job failed' wrong1.log)
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 1 "one error line"
like "$err" 'job failed: s3://inbound/hits/hit_data\.tsv: SignatureDoesNotMatch \(HTTP 403\) rule=' \
    "names the object, SignatureDoesNotMatch and the status (RGW's message is empty: no ': ')"
unlike "$(cat wrong1.log)" 'not-the-secret' "the wrong secret is not echoed"
head -c 1000 big.txt >small.txt
AWS_SECRET_ACCESS_KEY=not-the-secret "$SLUICE" -c sluice.yaml process --rule copy \
    --output s3://dst/wrong/small.txt small.txt >/dev/null 2>wrong2.log
is "$?" 1 "writing a PutObject with a wrong secret exits 1"
like "$(grep 'job failed' wrong2.log)" 'job failed: s3://dst/wrong/small\.txt: SignatureDoesNotMatch \(HTTP 403' \
    "SignatureDoesNotMatch"
AWS_SECRET_ACCESS_KEY=not-the-secret "$SLUICE" -c sluice.yaml process --rule copy \
    --output s3://dst/wrong/big.txt big.txt >/dev/null 2>wrong3.log
is "$?" 1 "writing a multipart upload with a wrong secret exits 1"
like "$(grep 'job failed' wrong3.log)" 'job failed: s3://dst/wrong/big\.txt.*: SignatureDoesNotMatch \(HTTP 403' \
    "SignatureDoesNotMatch"
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 "$SLUICE" -c sluice.yaml process --rule copy \
    s3://inbound/hits/hit_data.tsv >/dev/null 2>wrong4.log
like "$(grep 'job failed' wrong4.log)" 'InvalidAccessKeyId \(HTTP 403\)' "an unknown key is InvalidAccessKeyId"
s3q keys dst wrong/ -- keys dst hits/ -- uploads dst >answers
is "$(line 1)" "" "nothing was published under dst/wrong/"
is "$(line 2)" "" "nor the copy the wrong secret could not read"
is "$(line 3)" 0 "and no upload is open"
done_testing
