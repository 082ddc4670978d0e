#!/bin/sh
# `sluice janitor` and S3 multipart uploads (issue 12, finding 4), against
# moto with signature checking: a job SIGKILLed while its multipart upload
# is open leaves the upload and a mark of it in the run store; the janitor
# keeps it while younger than --older-than, lists it with --dry-run, and
# aborts it with --older-than 0s (the killed job's record turns ABANDONED
# on the way); an upload under the same prefix that sluice did not start
# (awscli's) is never touched; a live job's upload is kept even at 0s, and
# once that job completes no mark is left.
#
# One moto for the file. Jobs are held by the sleepy plugin: it writes
# 6,000,000 bytes (more than the 5 MiB part, so the upload is multipart and
# open) before it says it started and waits for the release file.
. "$top_srcdir/tests/storage/s3_lib.sh"
start_moto_checked
cd "$TMP" || exit 1
awsm s3 mb s3://inbox >/dev/null && awsm s3 mb s3://outbox >/dev/null
ok $? "buckets made"
mkdir slow && seq 3 > slow/a.txt && seq 3 > slow/b.txt
awsm s3 cp --recursive slow s3://inbox/slow/ >/dev/null; ok $? "inputs put"

s3_config sluice.yaml "$MOTO_URL" "part_size: 5242880"
sed -i "s|^rules:|runs: {dir: $TMP/runs}\nrules:|" sluice.yaml
add_rule_to sluice.yaml "  - name: slow
    match: {bucket: inbox, prefix: slow/}
    plugin: sleepy
    options: {release_file: $TMP/release, started_file: $TMP/started, write_first: 6000000}
    output: \"s3://outbox/slow/{basename}\""
J() { "$SLUICE" -c sluice.yaml janitor "$@"; }
RUN_ID_RE='[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}'
started() { _c=$(grep -c started "$TMP/started" 2>/dev/null); [ "${_c:-0}" -ge "$1" ]; }
marks() { ls "$TMP/runs/_uploads" 2>/dev/null | wc -l | tr -d ' '; }
# open_keys: the keys of the uploads open in bucket outbox, sorted
open_keys() {
    awsm s3api list-multipart-uploads --bucket outbox --query 'Uploads[].Key' --output text |
        tr '\t' '\n' | grep -v '^None$' | LC_ALL=C sort | tr '\n' ' '
}

# --- a job killed with its upload open ------------------------------------------------
"$SLUICE" -c sluice.yaml process s3://inbox/slow/a.txt > a.out 2> a.log &
A=$!; _pids="$_pids $A"
wait_until "$SLUICE_TEST_DEADLINE" started 1; ok $? "job a has its multipart upload open"
is "$(marks)" 1 "the run store holds a mark of it"
kill -KILL "$A"; wait "$A"; is $? 137 "job a SIGKILLed"
awsm s3api create-multipart-upload --bucket outbox --key slow/not-sluice.bin >/dev/null
ok $? "awscli opens an upload under the same prefix"
is "$(open_keys)" "slow/a.txt slow/not-sluice.bin " "two uploads open"

J > young.out 2> young.err; is $? 0 "janitor (default: 24h)"
like "$(cat young.out)" "kept +upload +s3://outbox/slow/a\.txt \(upload [^)]+\) +a sluice job's \(run $RUN_ID_RE\); started [0-9]+ s ago, younger than --older-than" \
    "sluice's upload is kept while young"
like "$(cat young.out)" "abandoned +run +$RUN_ID_RE +process $A on .* has ended" \
    "the killed job's record turned ABANDONED"
J --older-than 0s --dry-run > dry.out 2> dry.err; is $? 0 "--older-than 0s --dry-run"
like "$(cat dry.out)" "would-abort +upload +s3://outbox/slow/a\.txt \(upload [^)]+\) +a sluice job's \(run $RUN_ID_RE\); started [0-9]+ s ago: process $A on .* has ended" \
    "would abort sluice's: its process is gone"
like "$(cat dry.out)" "kept +upload +s3://outbox/slow/not-sluice\.bin .*not started by sluice" \
    "not awscli's: no mark"
is "$(open_keys)" "slow/a.txt slow/not-sluice.bin " "a dry run aborts nothing"

J --older-than 0s > old.out 2> old.err; is $? 0 "--older-than 0s"
like "$(cat old.out)" "aborted +upload +s3://outbox/slow/a\.txt" "sluice's upload aborted"
is "$(open_keys)" "slow/not-sluice.bin " "ListMultipartUploads: only awscli's is left"
is "$(marks)" 0 "the mark is gone"

# --- a live job's upload ----------------------------------------------------------
"$SLUICE" -c sluice.yaml process s3://inbox/slow/b.txt > b.out 2> b.log &
B=$!; _pids="$_pids $B"
wait_until "$SLUICE_TEST_DEADLINE" started 2; ok $? "job b has its upload open"
J --older-than 0s > live.out 2> live.err; is $? 0 "janitor beside it"
like "$(cat live.out)" "kept +upload +s3://outbox/slow/b\.txt .*process $B on .* is running" \
    "a running job's upload is kept, however old"
touch release
wait "$B"; is $? 0 "job b completes"
is "$(cat b.out)" "s3://outbox/slow/b.txt" "its output is published"
is "$(marks)" 0 "and its mark removed"
is "$(open_keys)" "slow/not-sluice.bin " "no upload of sluice's is open"
done_testing
