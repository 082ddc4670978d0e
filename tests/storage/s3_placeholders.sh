#!/bin/sh
# Issue 12, finding 1 (path traversal through a key into a file-path output):
# with S3 storage, objects named to climb out of the output location
# ("p/../../../../x/PWNED") are put into moto, and rules whose outputs are
# plain paths or s3:// locations built from {key}, {dir}, {basename},
# {stem} and a regex capture are run on them with `sluice process --force`.
# Every job must fail naming the placeholder and its value, and nothing may
# be written anywhere: not where the traversal points, not under the
# output directory, not in the output bucket. On main the first case wrote
# $TMP/escaped/PWNED.lines.
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto_checked
cd "$TMP" || exit 1

awsm s3 mb s3://inbox >/dev/null && awsm s3 mb s3://outbox >/dev/null
ok $? "buckets made"
printf 'a\nb\n' >two.txt
# botocore sends dot segments as they are; moto keeps them in the key
count_keys() {
    awsm s3api list-objects-v2 --bucket "$1" --output json |
        python3 -c 'import json,sys; t=sys.stdin.read().strip(); print(len(json.loads(t).get("Contents", [])) if t else 0)'
}
put() { awsm s3api put-object --bucket inbox --key "$1" --body two.txt >/dev/null; }
mkdir -p out/a/b/c
D=$TMP/out/a/b/c   # four levels below $TMP/out... and five below $TMP

s3_config sluice.yaml "$MOTO_URL"
add_rule_to sluice.yaml "  - name: bykey
    match: {bucket: inbox, prefix: p/}
    plugin: linecount
    output: \"$D/{key}.lines\"
  - name: bydir
    match: {bucket: inbox, prefix: d/}
    plugin: linecount
    output: \"$D/{dir}/x.lines\"
  - name: bybase
    match: {bucket: inbox, prefix: b/}
    plugin: linecount
    output: \"$D/sub{basename}/x.lines\"
  - name: bystem
    match: {bucket: inbox, prefix: s/}
    plugin: linecount
    output: \"$D/{stem}/x.lines\"
  - name: bycapture
    match: {bucket: inbox, regex: '^c/(?<rest>.*)\$'}
    plugin: linecount
    output: \"$D/{rest}.lines\"
  - name: tos3
    match: {bucket: inbox, prefix: o/}
    plugin: linecount
    output: \"s3://outbox/{key}.lines\"
  - name: absolute
    match: {bucket: inbox, prefix: abs}
    plugin: linecount
    output: \"$D{key}.lines\""

# run KEY RULE PLACEHOLDER VALUE-AS-SHOWN: the job fails (exit 1) and says why
run_refused() {
    err=$("$SLUICE" -c sluice.yaml process --force "s3://inbox/$1" 2>&1)
    is $? 1 "$2: 's3://inbox/$1' fails the job"
    like "$err" "placeholder \\{$3\\} has the value \"$4\", refused because" \
        "$2: the message names {$3} and the value"
    like "$err" "rule=$2" "$2: the failing rule is named"
}
put 'p/../../../../../escaped/PWNED' && put 'd/../../../../../escaped/PWNED' &&
    put 'b/..' && put 's/...' && put 'c/../../../../../escaped/PWNED' &&
    put 'o/../../escaped/PWNED' && put 'abs/../../../../../escaped/PWNED' &&
    put 'p/ok/data.txt'
ok $? "objects with dot segments put into moto"
is "$(count_keys inbox)" 8 \
    "moto kept all eight keys as named"

run_refused 'p/../../../../../escaped/PWNED' bykey key 'p/../../../../../escaped/PWNED'
run_refused 'd/../../../../../escaped/PWNED' bydir dir 'd/../../../../../escaped'
run_refused 'b/..' bybase basename '..'
run_refused 's/...' bystem stem '..'
run_refused 'c/../../../../../escaped/PWNED' bycapture rest '../../../../../escaped/PWNED'
run_refused 'o/../../escaped/PWNED' tos3 key 'o/../../escaped/PWNED'
run_refused 'abs/../../../../../escaped/PWNED' absolute key 'abs/../../../../../escaped/PWNED'

ok "$([ ! -e "$TMP/escaped" ] && [ ! -e "$TMP/out/escaped" ]; echo $?)" \
    "nothing was written where the keys pointed"
is "$(cd out && find . -type f | wc -l | tr -d ' ')" 0 "nothing was written under the output directory"
is "$(count_keys outbox)" 0 \
    "nothing was written to the output bucket"

# a key with ordinary segments still works, and lands where the template says
out=$("$SLUICE" -q -c sluice.yaml process --force 's3://inbox/p/ok/data.txt' 2>err)
ok $? "a multi-segment key is fine"
is "$out" "$D/p/ok/data.txt.lines" "output under the template's directory"
is "$(cat "$D/p/ok/data.txt.lines" 2>/dev/null)" "$(printf 'a\nb')" "and holds the plugin's output"
done_testing
