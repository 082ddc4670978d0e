#!/bin/sh
# decode.sh — storage/decode.h against the system's tools: every codec and
# archive format written by gzip, zstd, bzip2, bsdtar and python's zipfile
# and tarfile reads back to the original bytes; every bad input fails with
# a message naming the object, the member and what is wrong.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/storage/decode_fixtures.sh"
missing=$(decode_tools_missing)
[ -z "$missing" ] || skip_all "$missing is not installed"
CAT=$top_builddir/tests/storage/decode_cat
F=$TMP/fx
decode_fixtures "$F"

for f in "$F"/good/*; do
    out=$("$CAT" "$f" 2>&1 > "$TMP/out"); rc=$?
    ok $rc "$(basename "$f") decodes ${out:+($out)}"
    cmp -s "$TMP/out" "$F/plain.tsv"; ok $? "$(basename "$f") gives the original bytes"
done
# the system tools agree on the multi-member streams
gzip -dc "$F/good/multi.gz" | cmp -s - "$F/plain.tsv"; ok $? "gzip -dc reads the multi-member gzip the same"
zstd -dc "$F/good/multi.zst" | cmp -s - "$F/plain.tsv"; ok $? "zstd -dc reads the two frames the same"

# plain bytes pass through; `none` never decodes; a forced codec checks
"$CAT" "$F/plain.tsv" | cmp -s - "$F/plain.tsv"; ok $? "plain bytes pass through"
"$CAT" --codec none "$F/good/plain.gz" | cmp -s - "$F/good/plain.gz"; ok $? "decompress none gives the raw bytes"
"$CAT" --codec gzip "$F/good/plain.gz" | cmp -s - "$F/plain.tsv"; ok $? "decompress gzip reads gzip"
err=$("$CAT" --codec gzip "$F/good/plain.zst" 2>&1 >/dev/null); ok $(( ! $? )) "decompress gzip on zstd fails"
like "$err" 'plain\.zst: not gzip data' "... saying the object is not gzip"

# archives of several members
for f in "$F"/ab/*; do
    b=$(basename "$f")
    err=$("$CAT" "$f" 2>&1 >/dev/null); ok $(( ! $? )) "$b: two files and no members: fails"
    like "$err" "$b: the archive holds several files \\(\"a\\.tsv\", \"b\\.tsv\"" "... naming both"
    "$CAT" --member 'b*' "$f" | cmp -s - "$F/src/b.tsv"; ok $? "$b: members [b*] reads b.tsv"
    cat "$F/src/a.tsv" "$F/src/b.tsv" > "$TMP/ab"
    "$CAT" --member '*.tsv' "$f" | cmp -s - "$TMP/ab"; ok $? "$b: members [*.tsv] reads both in archive order"
    is "$("$CAT" --list "$f")" "$(printf 'a.tsv\t21\nb.tsv\t60')" "$b: decode_archive_next lists each member"
    err=$("$CAT" --member 'c*' "$f" 2>&1 >/dev/null); ok $(( ! $? )) "$b: no member matching fails"
    like "$err" 'no member of the archive matches members: \["c\*"\]' "... naming the pattern"
done
err=$("$CAT" --list "$F/good/plain.gz" 2>&1); ok $(( ! $? )) "decode_archive_open refuses a non-archive"
like "$err" 'plain\.gz: not a zip or tar archive inside the gzip' "... saying so"

# bad input: each fails, naming the object, the member and what is wrong
for f in "$F"/bad/*; do
    case $f in *.why) continue ;; esac
    b=$(basename "$f")
    err=$("$CAT" "$f" 2>&1 >"$TMP/out"); rc=$?
    is "$rc" 1 "$b: exit status 1"
    like "$err" "^$f: .*$(cat "$f.why")" "$b: $(head -c 60 "$f.why")"
done
# the bomb stopped early, far from its 10 GiB
sz=$("$CAT" "$F/bad/bomb.bz2" 2>/dev/null | wc -c)
ok $(( sz > 100 * 1024 * 1024 )) "the bomb stopped before 100 MiB (at $sz bytes)"
# a configured max_expanded_bytes
err=$("$CAT" --max-expanded 100000 "$F/good/plain.gz" 2>&1 >/dev/null); ok $(( ! $? )) "max_expanded_bytes 100000 refuses a larger content"
like "$err" 'plain\.gz: decoded content exceeds max_expanded_bytes \(100000 bytes\)' "... saying so"
err=$("$CAT" --max-expanded 100000 --member 'p*' "$F/good/py_deflate.zip" 2>&1 >/dev/null); ok $(( ! $? )) "... and in a zip member"
like "$err" 'member "plain\.tsv": decoded content exceeds max_expanded_bytes' "... naming the member"
err=$("$CAT" --max-ratio 2 "$F/good/plain.zst19" 2>&1 >/dev/null); ok $(( ! $? )) "max_ratio 2 refuses a zstd -19 object"
like "$err" 'over max_ratio 2\)' "... saying so"

# member by member in isolation (members_as: jobs): a bad member fails
# alone and the archive goes on; refused members not chosen are passed over
J=$F/jobs
for f in three.tar three.zip; do
    is "$("$CAT" --isolated --member '*hit_data.tsv' "$J/$f")" "$(printf 'a_hit_data.tsv\t25\nd/b_hit_data.tsv\t21')" \
        "$f: isolated, the two chosen members in archive order"
done
out=$("$CAT" --isolated --member '*hit_data.tsv' "$J/symlink.tar"); is $? 0 "symlink.tar: isolated, the archive goes on"
is "$out" "$(printf 'a_hit_data.tsv\t25\nl_hit_data.tsv\tfailed: %s: member "l_hit_data.tsv": is a symbolic link (to "/etc/passwd"): links are refused\nd/b_hit_data.tsv\t21' "$J/symlink.tar")" \
    "... the link member refused alone"
is "$("$CAT" --isolated --member 'd/*' "$J/symlink.tar")" "$(printf 'd/b_hit_data.tsv\t21')" \
    "... and passed over unread when not chosen"
err=$("$CAT" --member '*hit_data.tsv' "$J/symlink.tar" 2>&1 >/dev/null); ok $(( ! $? )) "symlink.tar as one stream: fails whole"
like "$err" 'member "l_hit_data\.tsv": is a symbolic link' "... naming the link"
out=$("$CAT" --isolated --member '*hit_data.tsv' "$J/dotdot.zip")
like "$out" '^\.\./x_hit_data\.tsv	failed: .*: member "\.\./x_hit_data\.tsv": unsafe path' "dotdot.zip: isolated, the .. member refused alone"
like "$out" "^d/b_hit_data\.tsv	21\$" "... the member after it read"
out=$("$CAT" --isolated "$J/crc.zip")
like "$out" '^a_hit_data\.tsv	failed: .*: member "a_hit_data\.tsv": cannot be read: .*CRC' "crc.zip: isolated, the corrupt member fails"
unlike "$out" 'truncated' "... not called truncated: the archive is whole"
like "$out" "^d/b_hit_data\.tsv	21\$" "... the member after it read"
out=$("$CAT" --isolated "$J/truncated.tar" 2>"$TMP/err"); rc=$?
is "$rc" 1 "truncated.tar: isolated, the archive cannot go on"
is "$out" "$(printf 'a_hit_data.tsv\t25\nnotes.txt\t13')" "... after the whole members before the cut"
like "$(cat "$TMP/err")" 'truncated' "... saying it is truncated"
done_testing
