#!/bin/sh
# Compressed objects on S3 (moto, signature checking on): a gzip'd input
# uploaded with awscli is read through its decoded content; a compress:
# output carries Content-Encoding and Content-Type, by a single PUT (gzip)
# and by a multipart upload (zstd), and reads back with gzip -dc / zstd -dc.
. "$top_srcdir/tests/storage/s3_lib.sh"
command -v zstd >/dev/null 2>&1 || skip_all "zstd is not installed"
start_moto_checked
cd "$TMP" || exit 1

awsm s3 mb s3://inbound >/dev/null && awsm s3 mb s3://outbound >/dev/null; ok $? "buckets made"
awk 'BEGIN { for (i = 0; i < 50000; i++) printf "%d\tpage-%d\n", i, i * 3 }' > plain.tsv
gzip -c plain.tsv > plain.tsv.gz
head -c 9000000 /dev/urandom | base64 > big.txt  # ~12 MB that compresses little: multipart
awsm s3 cp plain.tsv.gz s3://inbound/gz/plain.tsv.gz >/dev/null; ok $? "gzip'd input uploaded"
awsm s3 cp big.txt s3://inbound/zst/big.txt >/dev/null; ok $? "large input uploaded"

s3_config sluice.yaml "$MOTO_URL" "part_size: 5242880"
add_rule_to sluice.yaml '  - name: gz
    match: {bucket: inbound, prefix: gz/}
    plugin: linecount
    compress: gzip
    output: "s3://outbound/{name}"
  - name: zst
    match: {bucket: inbound, prefix: zst/}
    plugin: linecount
    compress: zstd
    output: "s3://outbound/{name}"'

out=$("$SLUICE" -c sluice.yaml process s3://inbound/gz/plain.tsv.gz 2>log1); ok $? "the gzip job succeeds"
is "$out" "s3://outbound/plain.tsv.gz" "the name linecount proposes already ends in .gz: kept"
head=$(awsm s3api head-object --bucket outbound --key plain.tsv.gz --query '[ContentEncoding,ContentType]' --output text)
is "$head" "$(printf 'gzip\ttext/tab-separated-values')" "Content-Encoding gzip, Content-Type by the name without .gz"
awsm s3 cp s3://outbound/plain.tsv.gz got.gz >/dev/null
gzip -dc got.gz | cmp -s - plain.tsv; ok $? "gzip -dc of the output gives the decoded input"

out=$("$SLUICE" -c sluice.yaml --log-level debug process s3://inbound/zst/big.txt 2>log2); ok $? "the zstd job succeeds"
is "$out" "s3://outbound/big.txt.zst" "the output gets .zst"
like "$(cat log2)" "multipart upload started" "... uploaded in parts"
head=$(awsm s3api head-object --bucket outbound --key big.txt.zst --query '[ContentEncoding,ContentType]' --output text)
is "$head" "$(printf 'zstd\ttext/plain')" "Content-Encoding zstd, Content-Type text/plain"
awsm s3 cp s3://outbound/big.txt.zst got.zst >/dev/null
zstd -q -dc got.zst | cmp -s - big.txt; ok $? "zstd -dc of the output gives the input"
done_testing
