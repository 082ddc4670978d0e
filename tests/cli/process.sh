#!/bin/sh
# `sluice process`: objects, files, prefixes and directories, parallel jobs,
# unmatched keys skipped, unsafe keys refused, usage errors.
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: tsv
    match: {bucket: in, prefix: data/, suffix: .tsv}
    plugin: linecount
    options: {mode: count}
    output: "s3://out/{dir}/{stem}.count"'
add_rule '  - name: dated
    match: {bucket: in, regex: "^daily/(?<day>[0-9]{4}-[0-9]{2}-[0-9]{2})/"}
    plugin: linecount
    output: "s3://out/by-day/{day}/{basename}"'
for i in 1 2 3 4 5 6; do seq $i > "$TMP/f$i"; put_object in "data/part-$i.tsv" "$TMP/f$i"; done
put_object in "data/readme.md" "$TMP/f1"
put_object in "daily/2026-11-24/x.log" "$TMP/f3"

out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process s3://in/data/part-3.tsv); ok $? "one object"
is "$out" "s3://out/data/part-3.count" "output from the template"
is "$(cat "$TMP/root/out/data/part-3.count")" "3" "plugin option mode=count applied"

out=$("$SLUICE" -c "$TMP/sluice.yaml" process --recursive --jobs 4 s3://in/data/ 2>"$TMP/log"); ok $? "prefix, 4 jobs"
is "$(printf '%s\n' "$out" | LC_ALL=C sort | tr '\n' ' ')" "s3://out/data/part-1.count s3://out/data/part-2.count s3://out/data/part-3.count s3://out/data/part-4.count s3://out/data/part-5.count s3://out/data/part-6.count " "every .tsv processed once"
for i in 1 2 3 4 5 6; do is "$(cat "$TMP/root/out/data/part-$i.count")" "$i" "part-$i counted"; done
like "$(cat "$TMP/log")" 'job skipped: no rule matches.*readme.md' "unmatched key logged and skipped"
like "$(cat "$TMP/log")" '7 jobs: 6 succeeded, 0 failed, 1 skipped' "batch summary"

out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process s3://in/daily/2026-11-24/x.log); ok $? "regex rule"
is "$out" "s3://out/by-day/2026-11-24/x.log" "named capture in the output"

err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/data/ 2>&1); is $? 2 "prefix without --recursive: exit 2"
like "$err" 'add --recursive' "says to add --recursive"
err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/data/part-1.tsv s3://in/data/part-2.tsv --output "$TMP/one.txt" 2>&1); is $? 2 "two inputs, one literal output: exit 2"
like "$err" 'would receive 2 outputs' "explains the output clash"
err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/x --rule nope 2>&1); is $? 2 "unknown --rule: exit 2"
like "$err" 'no rule named "nope"' "names the rule"

# plain directory, recursively, forced rule, into a directory
mkdir -p "$TMP/dir/sub"; seq 2 > "$TMP/dir/a.txt"; seq 5 > "$TMP/dir/sub/b.txt"
out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process -R "$TMP/dir" --rule tsv --output "$TMP/res/"); ok $? "directory, --rule, --output DIR/"
is "$(cat "$TMP/res/a.txt") $(cat "$TMP/res/b.txt")" "2 5" "each file counted into the directory"

# unsafe keys never leave the storage root
for key in '../escape.tsv' 'data/../../escape.tsv' '/etc/passwd'; do
    err=$("$SLUICE" -c "$TMP/sluice.yaml" process --rule tsv "s3://in/$key" 2>&1); is $? 1 "key '$key' fails the job"
    like "$err" 'refus|unsafe|outside|not allowed|invalid' "key '$key' refused with a reason"
done
ok "$([ ! -e "$TMP/escape.tsv" ] && [ ! -e "$TMP/root/escape.tsv" ]; echo $?)" "nothing written outside"
done_testing
