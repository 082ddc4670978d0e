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
done_testing
