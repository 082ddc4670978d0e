#!/bin/sh
# Multipart upload and streamed GET against moto with signature checking:
# a ~30 MB output with part_size 5 MiB becomes a byte-identical object with
# a multipart ETag ("-6"); S3 to S3 through the plugin is identical too;
# outputs up to one part are a single PutObject; an empty output is an
# empty object; reading does not hold the object in memory.
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto_checked
cd "$TMP" || exit 1

python3 -c '
import random, sys
r = random.Random(7)
out = sys.stdout.buffer
size = 0
while size < 30000000:
    line = ("%08x " % r.getrandbits(32)).encode() * r.randint(1, 30) + b"\n"
    out.write(line)
    size += len(line)
' >big.txt
size=$(wc -c <big.txt | tr -d ' ')
awsm s3 mb s3://src >/dev/null && awsm s3 mb s3://dst >/dev/null
ok $? "buckets made"

s3_config sluice.yaml "$MOTO_URL" "part_size: 5242880"
add_rule_to sluice.yaml '  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://dst/{name}"'

etag_of() { # etag_of BUCKET KEY
    awsm s3api head-object --bucket "$1" --key "$2" --query ETag --output text | tr -d '"'
}

# 1. a local file up through multipart
"$SLUICE" -c sluice.yaml --log-level debug process --rule copy --output s3://dst/up/big.txt \
    big.txt >/dev/null 2>log1
ok $? "a $size-byte output is uploaded"
like "$(cat log1)" 'multipart upload completed \(6 parts\)' "as 6 parts of 5 MiB"
like "$(etag_of dst up/big.txt)" '^[0-9a-f]{32}-6$' "the object's ETag is a multipart one (-6)"
awsm s3 cp s3://dst/up/big.txt back1.txt >/dev/null
cmp -s big.txt back1.txt; ok $? "byte-identical when read back with awscli"

# 2. S3 to S3: a streamed GET into the plugin, a multipart PUT out of it
awsm s3 cp big.txt "s3://src/data/big file+1.txt" >/dev/null
"$SLUICE" -c sluice.yaml process --rule copy "s3://src/data/big file+1.txt" >printed 2>log2
ok $? "S3 to S3 copy through the plugin"
is "$(cat printed)" "s3://dst/big file+1.txt" "written where the rule says"
awsm s3 cp "s3://dst/big file+1.txt" back2.txt >/dev/null
cmp -s big.txt back2.txt; ok $? "byte-identical"
like "$(cat log2)" "bytes_in=$size bytes_out=$size" "all bytes in and out"

# 3. reading streams: what a 30 MB object costs over a tiny one is the
#    read-ahead ring and the plugin's buffer, not the object
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' true >/dev/null 2>&1 &&
    ! ldd "$SLUICE" 2>/dev/null | grep -q 'lib[at]san'; then
    printf 'tiny\n' >tiny.txt
    awsm s3 cp tiny.txt s3://src/data/tiny.txt >/dev/null
    peak_kb() { # peak_kb KEY OUTFILE
        /usr/bin/time -f '%M' -o rss "$SLUICE" -q -c sluice.yaml process --rule copy \
            --output "$TMP/$2" "s3://src/$1" >/dev/null && tail -n 1 rss
    }
    tiny_kb=$(peak_kb data/tiny.txt tiny.out)
    big_kb=$(peak_kb "data/big file+1.txt" local.txt)
    cmp -s big.txt local.txt; ok $? "S3 to a local file is identical"
    extra=$((big_kb - tiny_kb))
    [ "$extra" -lt 16384 ]; ok $? "a $size-byte object costs ${extra} KiB more than a tiny one (< 16 MiB)"
else
    ok 0 "# SKIP no GNU /usr/bin/time, or a sanitizer build: RSS not measured"
    ok 0 "# SKIP no GNU /usr/bin/time, or a sanitizer build: RSS not measured"
fi

# 4. up to one part: a single PutObject
head -c 5242880 big.txt >exact.txt
"$SLUICE" -c sluice.yaml --log-level debug process --rule copy --output s3://dst/exact.txt \
    exact.txt >/dev/null 2>log4
ok $? "an output of exactly one part"
unlike "$(cat log4)" 'multipart' "is not a multipart upload"
like "$(etag_of dst exact.txt)" '^[0-9a-f]{32}$' "plain ETag"
awsm s3 cp s3://dst/exact.txt back4.txt >/dev/null
cmp -s exact.txt back4.txt; ok $? "byte-identical"
head -c 5242881 big.txt >over.txt
"$SLUICE" -c sluice.yaml process --rule copy --output s3://dst/over.txt over.txt >/dev/null 2>&1
like "$(etag_of dst over.txt)" '^[0-9a-f]{32}-2$' "one byte more: two parts"
awsm s3 cp s3://dst/over.txt back5.txt >/dev/null
cmp -s over.txt back5.txt; ok $? "byte-identical"

# 5. an empty output is an empty object
: >empty.txt
"$SLUICE" -c sluice.yaml process --rule copy --output s3://dst/empty.txt empty.txt >/dev/null 2>&1
ok $? "an empty output"
is "$(awsm s3api head-object --bucket dst --key empty.txt --query ContentLength --output text)" 0 \
    "is an empty object"
is "$(open_uploads dst)" 0 "no upload left open"
done_testing
