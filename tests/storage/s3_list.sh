#!/bin/sh
# `sluice process s3://bucket/prefix/ --recursive --jobs 4` over more keys
# than one ListObjectsV2 page holds: every object is processed exactly
# once, with the right content, and nothing outside the prefix. moto is
# told to answer 100 keys a page (a server may return fewer than the 1000
# asked): three pages from 250 objects. The 1000-key default of a real
# server is covered by tests/storage/s3_rgw.sh.
. "$top_srcdir/tests/storage/s3_lib.sh"
MOTO_ENV=MOTO_S3_DEFAULT_MAX_KEYS=100 start_moto_checked
cd "$TMP" || exit 1

N=250
python3 - "$MOTO_URL" "$N" <<'PY'
import sys
from concurrent.futures import ThreadPoolExecutor
import boto3
url, n = sys.argv[1], int(sys.argv[2])
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
s3.create_bucket(Bucket="many")
def put(i):
    s3.put_object(Bucket="many", Key="logs/part-%05d.txt" % i, Body=b"object %d\n" % i)
with ThreadPoolExecutor(8) as pool:
    list(pool.map(put, range(n)))
# neighbours that must not be listed: before, after and beside the prefix
for key in ("log", "logs", "logs-x/a.txt", "logz/a.txt", "a.txt"):
    s3.put_object(Bucket="many", Key=key, Body=b"outside\n")
# a "folder" marker is not an object to process
s3.put_object(Bucket="many", Key="logs/", Body=b"")
PY
ok $? "$N objects put with boto3 (plus neighbours outside the prefix)"

s3_config sluice.yaml "$MOTO_URL"
add_rule_to sluice.yaml '  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://unused/{key}"'

"$SLUICE" -c sluice.yaml process --jobs 4 --recursive --output "$TMP/out/{key}" \
    s3://many/logs/ >printed 2>log
ok $? "process --recursive --jobs 4 exits 0"
like "$(cat log)" "$N jobs: $N succeeded, 0 failed, 0 skipped" "$N jobs, all succeeded"
is "$(grep -c 'job done' log)" "$N" "$N jobs ran"
is "$(grep 'job done' log | sed 's/.*input=\([^ ]*\).*/\1/' | sort -u | wc -l | tr -d ' ')" "$N" \
    "each object exactly once"
is "$(sort -u printed | wc -l | tr -d ' ')" "$N" "$N distinct outputs printed"
is "$(find out -type f | wc -l | tr -d ' ')" "$N" "$N output files"
bad=0
i=0
while [ $i -lt $N ]; do
    f=$(printf 'out/logs/part-%05d.txt' $i)
    [ "$(cat "$f" 2>/dev/null)" = "object $i" ] || bad=$((bad + 1))
    i=$((i + 1))
done
is "$bad" 0 "every output holds its own object's content"
unlike "$(cat log)" 'outside|logs-x|logz|input=s3://many/logs/ ' "nothing outside the prefix, no folder marker"
pages=$(grep -c 'GET /many?.*list-type=2' "$TMP/moto.log")
is "$pages" 3 "three ListObjectsV2 pages"
is "$(grep 'GET /many?.*list-type=2' "$TMP/moto.log" | grep -c 'continuation-token=')" 2 \
    "the second and third asked with a continuation token"
tokens=$(grep 'GET /many?.*list-type=2' "$TMP/moto.log" | sed -n 's/.*continuation-token=\([^& ]*\).*/\1/p' | sort -u | wc -l)
is "$tokens" 2 "each with the token of the page before (two different tokens)"

# listing through a stale prefix is empty, not an error
"$SLUICE" -c sluice.yaml process --recursive --output "$TMP/none/" s3://many/nothing/ >/dev/null 2>log2
ok $? "an empty prefix is not an error"
like "$(cat log2)" 'nothing to process' "and says so"
"$SLUICE" -c sluice.yaml process --recursive --output "$TMP/none/" s3://nosuchbucket/x/ >/dev/null 2>log3
is "$?" 2 "listing a missing bucket exits 2"
like "$(cat log3)" 's3://nosuchbucket/x/: NoSuchBucket: .*\(HTTP 404\)' "with NoSuchBucket"
done_testing
