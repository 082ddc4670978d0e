#!/bin/sh
# Compressed and archived objects through whole jobs (docs/compression.md):
# plugins read plain bytes; a rule's members: choose archive members and
# compress: compresses the output (read back by gzip -dc and zstd -dc);
# every bad input fails its job with a notified failure naming the object,
# the member and what is wrong, and nothing is published. members_as: jobs
# makes each chosen member a job of its own: its own output by {member},
# run record and notification; a bad member fails alone.
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
  - name: member_jobs
    match: {bucket: in, prefix: jobs/}
    plugin: tabular
    options: {from: tsv, to: jsonl}
    members: ["*hit_data.tsv"]
    members_as: jobs
    output: "s3://out/{stem}/{member}.jsonl"
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

# --- members_as: jobs ------------------------------------------------------
# records INPUT: one line per run record of INPUT, sorted:
# "STATE|MEMBER|OUTPUT|ERROR MESSAGE|DUPLICATE_OF|RETRY_OF"
records() {
    "$PYTHON3" - "$TMP/runs" "$1" <<'PY'
import glob, json, sys
rows = []
for p in glob.glob(sys.argv[1] + "/[0-9]*/*.json"):
    d = json.load(open(p))["detail"]
    if d["input"]["location"] != sys.argv[2]:
        continue
    rows.append("%s|%s|%s|%s|%s|%s" % (d["state"], d["input"].get("member"), d["output"]["location"],
                                  (d["error"] or {}).get("message"), d.get("duplicate_of") is not None,
                                  d["retry_of"] is not None))
print("\n".join(sorted(rows)))
PY
}
# the failure events the log target wrote for INPUT: "MEMBER|MESSAGE"
notified() {
    "$PYTHON3" - "$TMP/log" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        d = json.loads(line).get("event", {}).get("detail", {})
    except ValueError:
        continue
    if d.get("input", {}).get("location") == sys.argv[2]:
        print("%s|%s" % (d["input"].get("member"), d["error"]["message"]))
PY
}
J=$F/jobs
printf '{"page":"home","value":"1"}\n{"page":"cart","value":"2"}\n' > "$TMP/a.jsonl"
printf '{"page":"search","value":"30"}\n' > "$TMP/b.jsonl"
rm -rf "$TMP/root/out" "$TMP/runs"; mkdir -p "$TMP/root/out"
for f in three.tar three.zip; do
    stem=${f%.*}
    put_object in "jobs/$f" "$J/$f"
    out=$(run "s3://in/jobs/$f" 2>"$TMP/log"); is $? 0 "$f: members_as jobs: exit 0"
    is "$out" "$(printf 's3://out/%s/a_hit_data.tsv.jsonl\ns3://out/%s/d/b_hit_data.tsv.jsonl' "$stem" "$stem")" \
        "$f: one output per chosen member, by {member}, in archive order"
    cmp -s "$TMP/root/out/$stem/a_hit_data.tsv.jsonl" "$TMP/a.jsonl"; ok $? "$f: a_hit_data.tsv's own rows, transformed"
    cmp -s "$TMP/root/out/$stem/d/b_hit_data.tsv.jsonl" "$TMP/b.jsonl"; ok $? "$f: d/b_hit_data.tsv's own rows, transformed"
    is "$(tree "out/$stem")" "$(printf 'a_hit_data.tsv.jsonl\nd/b_hit_data.tsv.jsonl')" "$f: notes.txt, not chosen, has no job"
    is "$(records "s3://in/jobs/$f")" "$(printf 'SUCCEEDED|a_hit_data.tsv|s3://out/%s/a_hit_data.tsv.jsonl|None|False|False\nSUCCEEDED|d/b_hit_data.tsv|s3://out/%s/d/b_hit_data.tsv.jsonl|None|False|False' "$stem" "$stem")" \
        "$f: two run records, one per member"
    is "$(grep -c '"msg":"job done"' "$TMP/log")" 2 "$f: two jobs done in the log"
done
if "$PYTHON3" -c 'import jsonschema' 2>/dev/null; then
    "$PYTHON3" "$top_srcdir/tests/notify/check_events.py" "$top_srcdir/schemas/job-state-change.schema.json" \
        "$TMP"/runs/[0-9]*/*.json > "$TMP/checks"
    ok $? "the members' records are valid job-state events, input.member included"
fi
ids=$("$PYTHON3" -c 'import glob, json, sys; print(len({json.load(open(p))["detail"]["run_id"] for p in glob.glob(sys.argv[1] + "/[0-9]*/*.json")}))' "$TMP/runs")
is "$ids" 4 "each member's job has its own run id"

# a redelivered event: each member is a duplicate of its own run
s3_event in jobs/three.tar > "$TMP/ev.json"
"$SLUICE" --log-format json -c "$TMP/sluice.yaml" run "$TMP/ev.json" >/dev/null 2>"$TMP/log"; is $? 0 "run EVENT: exit 0"
"$SLUICE" --log-format json -c "$TMP/sluice.yaml" run "$TMP/ev.json" >/dev/null 2>"$TMP/log"; is $? 0 "the same event again: exit 0"
is "$(records s3://in/jobs/three.tar | grep -c '^SKIPPED|.*|True|False$')" 2 "... both members SKIPPED as duplicates of their own runs"

# one bad member fails its own job only: notified, nothing published for it
for f in symlink.tar dotdot.zip crc.zip; do
    put_object in "jobs/$f" "$J/$f"
    out=$(run "s3://in/jobs/$f" 2>"$TMP/log"); is $? 1 "$f: a member failed: exit 1"
    case $f in
        symlink.tar) bad=l_hit_data.tsv why='is a symbolic link \(to "/etc/passwd"\): links are refused' good="a_hit_data.tsv d/b_hit_data.tsv" ;;
        dotdot.zip) bad=../x_hit_data.tsv why='unsafe path' good="a_hit_data.tsv d/b_hit_data.tsv" ;;
        crc.zip) bad=a_hit_data.tsv why='cannot be read: .*CRC' good="d/b_hit_data.tsv" ;;
    esac
    want=""
    for m in $good; do want="$want${want:+
}s3://out/${f%.*}/$m.jsonl"; done
    is "$out" "$want" "$f: the good members are published"
    [ ! -e "$TMP/root/out/${f%.*}/d/b_hit_data.tsv.jsonl" ] || cmp -s "$TMP/root/out/${f%.*}/d/b_hit_data.tsv.jsonl" "$TMP/b.jsonl"
    ok $? "$f: ... with their own content"
    is "$(tree "out/${f%.*}" | grep -v -c -e '^a_hit_data.tsv.jsonl$' -e '^d/b_hit_data.tsv.jsonl$')" 0 "$f: nothing else written, no temporary left"
    bad_re=$(printf '%s' "$bad" | sed 's/[.]/\\./g')
    like "$(records "s3://in/jobs/$f" | grep '^FAILED')" "^FAILED\\|$bad_re\\|None\\|s3://in/jobs/$f: member \"$bad_re\": $why" \
        "$f: the bad member's own FAILED record names the object, the member and what is wrong"
    is "$(records "s3://in/jobs/$f" | grep -c '^SUCCEEDED')" "$(echo $good | wc -w)" "$f: ... the others SUCCEEDED"
    like "$(notified "s3://in/jobs/$f")" "^$bad_re\\|s3://in/jobs/$f: member" "$f: ... and its failure notified"
done
[ ! -e "$TMP/root/out/crc/a_hit_data.tsv.jsonl" ]; ok $? "crc.zip: the corrupt member's output is not published"
like "$("$SLUICE" -c "$TMP/sluice.yaml" runs list --state failed 2>/dev/null)" 's3://in/jobs/symlink\.tar member "l_hit_data\.tsv"  input: ' \
    "runs list names the member of a member's run"

# a member's run retried runs that member only (here the archive was fixed)
id=$("$PYTHON3" -c '
import glob, json, sys
for p in glob.glob(sys.argv[1] + "/[0-9]*/*.json"):
    d = json.load(open(p))["detail"]
    if d["input"]["location"].endswith("crc.zip") and d["state"] == "FAILED":
        print(d["run_id"])' "$TMP/runs")
put_object in jobs/crc.zip "$J/three.zip"
out=$("$SLUICE" -c "$TMP/sluice.yaml" runs retry "$id" 2>"$TMP/log"); is $? 0 "runs retry of the failed member's run: exit 0"
is "$out" "s3://out/crc/a_hit_data.tsv.jsonl" "... that member alone ran"
cmp -s "$TMP/root/out/crc/a_hit_data.tsv.jsonl" "$TMP/a.jsonl"; ok $? "... and its output is published"
like "$(records s3://in/jobs/crc.zip)" 'SUCCEEDED\|a_hit_data\.tsv\|[^|]*\|None\|False\|True' "... its record a retry of the failed one"

# the archive breaking off: the members before it are done, the rest is one
# failure of the archive's own
put_object in jobs/truncated.tar "$J/truncated.tar"
out=$(run s3://in/jobs/truncated.tar 2>"$TMP/log"); is $? 1 "truncated.tar: exit 1"
is "$out" "s3://out/truncated/a_hit_data.tsv.jsonl" "... the member before the cut is published"
like "$(records s3://in/jobs/truncated.tar)" 'FAILED\|None\|None\|s3://in/jobs/truncated\.tar: .*truncated.*; the archive ends there: members after "a_hit_data\.tsv" were not processed' \
    "... and the archive's own failure recorded, saying where it broke"

# --output: a directory holds each member by its path; one location is refused
rm -rf "$TMP/adhoc"
out=$(run --output "$TMP/adhoc/" s3://in/jobs/three.zip 2>/dev/null); is $? 0 "--output DIR/: exit 0"
is "$out" "$(printf '%s/a_hit_data.tsv\n%s/d/b_hit_data.tsv' "$TMP/adhoc" "$TMP/adhoc")" "... each member's output by its path in DIR"
err=$(run --output "$TMP/one.jsonl" s3://in/jobs/three.zip 2>&1 >/dev/null); is $? 1 "--output FILE without {member}: fails"
like "$err" 'rule \\?"member_jobs\\?" runs each archive member as its own job \(members_as: jobs\), so the output must use \{member\}' "... saying why"
[ ! -e "$TMP/one.jsonl" ]; ok $? "... and writes nothing"

# sluice route and sluice validate
out=$("$SLUICE" -c "$TMP/sluice.yaml" route s3://in/jobs/x.tar 2>&1)
like "$out" 'members: "\*hit_data\.tsv" \(each its own job, output by \{member\}\)' "route: members_as jobs"
sed 's|output: "s3://out/{stem}/{member}.jsonl"|output: "s3://out/{stem}/{name}"|' "$TMP/sluice.yaml" > "$TMP/nomember.yaml"
err=$("$SLUICE" -c "$TMP/nomember.yaml" validate 2>&1); is $? 2 "validate: a jobs rule without {member} is refused"
like "$err" 'rules\[[0-9]+\]\.output: rule "member_jobs" has members_as: jobs .*its output must use \{member\}' "... naming the rule"
done_testing
