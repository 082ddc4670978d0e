#!/bin/sh
# Compressed and archived objects through whole jobs (docs/compression.md):
# plugins read plain bytes; a rule's members: choose archive members and
# compress: compresses the output (read back by gzip -dc and zstd -dc);
# every bad input fails its job with a notified failure naming the object,
# the member and what is wrong, and nothing is published.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/storage/decode_fixtures.sh"
missing=$(decode_tools_missing)
[ -z "$missing" ] || skip_all "$missing is not installed"
F=$TMP/fx
decode_fixtures "$F"
make_workspace
cat >> "$TMP/sluice.yaml" <<'YAML'
  - name: members
    match: {bucket: in, prefix: ab/}
    plugin: linecount
    members: ["b*"]
    output: "s3://out/{key}"
  - name: gz_out
    match: {bucket: in, prefix: gzout/}
    plugin: linecount
    compress: gzip
    output: "s3://out/{name}"
  - name: zst_out
    match: {bucket: in, prefix: zstout/}
    plugin: linecount
    compress: zstd
    compress_level: 19
    output: "s3://out/{name}"
  - name: raw
    match: {bucket: in, prefix: raw/}
    plugin: linecount
    decompress: none
    output: "s3://out/{key}"
  - name: small
    match: {bucket: in, prefix: small/}
    plugin: linecount
    max_expanded_bytes: 100000
    output: "s3://out/{key}"
  - name: copy
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"
notify:
  audit: {type: log}
on_failure: [audit]
YAML
run() { "$SLUICE" --log-format json -c "$TMP/sluice.yaml" process "$@"; }

# every good object: the plugin reads the original bytes
keys=""
for f in "$F"/good/*; do
    put_object in "good/$(basename "$f")" "$f"; keys="$keys s3://in/good/$(basename "$f")"
done
# shellcheck disable=SC2086
run $keys >/dev/null 2>"$TMP/log"; is $? 0 "every good object's job succeeds"
for f in "$F"/good/*; do
    cmp -s "$TMP/root/out/good/$(basename "$f")" "$F/plain.tsv"; ok $? "$(basename "$f"): the plugin read the original bytes"
done

# members: chooses; without it two files fail
for f in "$F"/ab/*; do
    put_object in "ab/$(basename "$f")" "$f"; put_object in "two/$(basename "$f")" "$f"
    run "s3://in/ab/$(basename "$f")" >/dev/null 2>&1; is $? 0 "$(basename "$f"): members [b*] succeeds"
    cmp -s "$TMP/root/out/ab/$(basename "$f")" "$F/src/b.tsv"; ok $? "... with b.tsv's bytes"
    err=$(run "s3://in/two/$(basename "$f")" 2>&1 >/dev/null); is $? 1 "$(basename "$f") without members: fails"
    like "$err" 'the archive holds several files \(\\?"a\.tsv\\?", \\?"b\.tsv\\?"' "... naming the files"
    [ ! -e "$TMP/root/out/two/$(basename "$f")" ]; ok $? "... and publishes nothing"
done

# decompress: none hands over the raw bytes
put_object in raw/plain.gz "$F/good/plain.gz"
run s3://in/raw/plain.gz >/dev/null 2>&1; is $? 0 "decompress: none succeeds"
cmp -s "$TMP/root/out/raw/plain.gz" "$F/good/plain.gz"; ok $? "... with the raw gzip bytes"

# compress: the output, with its suffix, read back by the system tools
put_object in gzout/plain.tsv "$F/plain.tsv"
out=$(run s3://in/gzout/plain.tsv 2>/dev/null); is $? 0 "compress: gzip succeeds"
is "$out" "s3://out/plain.tsv.gz" "{name} gets .gz"
gzip -dc "$TMP/root/out/plain.tsv.gz" | cmp -s - "$F/plain.tsv"; ok $? "gzip -dc reads the output back"
put_object in zstout/plain.tsv "$F/plain.tsv"
out=$(run s3://in/zstout/plain.tsv 2>/dev/null); is $? 0 "compress: zstd succeeds"
is "$out" "s3://out/plain.tsv.zst" "{name} gets .zst"
zstd -q -dc "$TMP/root/out/plain.tsv.zst" | cmp -s - "$F/plain.tsv"; ok $? "zstd -dc reads the output back"
sz=$(wc -c < "$TMP/root/out/plain.tsv.zst")
ok $(( sz >= $(wc -c < "$F/plain.tsv") / 4 )) "the zstd output is compressed ($sz bytes)"

# sluice route says what would be decoded and compressed
out=$("$SLUICE" -c "$TMP/sluice.yaml" route s3://in/ab/x.tar.gz 2>&1)
like "$out" 'decode: auto \(gzip, zstd, bzip2, zip, tar by magic bytes when read; the key suggests \.tar\.gz\)' "route: auto decoding, the key's hint"
like "$out" 'members: "b\*" \(in archive order, as one stream\)' "route: the members"
out=$("$SLUICE" -c "$TMP/sluice.yaml" route s3://in/zstout/x.tsv 2>&1)
like "$out" 'compress: zstd \(level 19\): \.zst added to \{name\}' "route: the output compression"
out=$("$SLUICE" -c "$TMP/sluice.yaml" route s3://in/raw/x.gz 2>&1)
like "$out" 'decode: none' "route: decompress none"

# bad input: every job fails, is notified, publishes nothing
rm -rf "$TMP/root/out"; mkdir -p "$TMP/root/out"
keys=""
for f in "$F"/bad/*; do
    case $f in *.why) continue ;; esac
    put_object in "bad/$(basename "$f")" "$f"; keys="$keys s3://in/bad/$(basename "$f")"
done
put_object in small/plain.gz "$F/good/plain.gz"; keys="$keys s3://in/small/plain.gz"
echo 'decoded content exceeds max_expanded_bytes \(100000 bytes\)' > "$TMP/small.why"
# shellcheck disable=SC2086
run $keys >/dev/null 2>"$TMP/log"; is $? 1 "a batch of bad objects exits 1"
is "$(tree out)" "" "nothing published, no temporary left"
for f in "$F"/bad/* "$TMP/small.why"; do
    case $f in *.why) ;; *) continue ;; esac
    b=$(basename "$f" .why)
    key=bad/$b; [ "$b" = small ] && key=small/plain.gz
    got=$("$PYTHON3" - "$TMP/log" "s3://in/$key" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        l = json.loads(line)
    except ValueError:
        continue
    d = l.get("event", {}).get("detail", {})
    if d.get("input", {}).get("location") == sys.argv[2]:
        print("%s|%s|%s|%s" % (d.get("state"), d.get("error", {}).get("kind"),
                               d.get("output", {}).get("location"), d.get("error", {}).get("message")))
PY
)
    like "$got" "^FAILED\\|input\\|None\\|s3://in/$key: .*$(cat "$f")" "$b: a notified input failure naming the object and what is wrong"
done
done_testing
