#!/bin/sh
# `sluice janitor` on local storage (issue 12, finding 4): temporary files
# (.sluice-tmp.*) in the directories the configuration writes to — a rule's
# output prefix on local storage, a rule's plain-path output, the run
# records — are removed when their writer (named in the file name) is a
# dead process of this host, kept while it lives; names without a writer
# (an older sluice) and of another host go only once older than
# --older-than (default 24h); --dry-run lists and removes nothing; places
# the configuration does not write to, and symbolic links, are not
# followed; a RUNNING record of a dead process is ABANDONED by it too.
# (The start of `process` sweeping a killed job's own temporary is in
# tests/notify/runs_crash.sh; uploads on S3 in tests/storage/s3_janitor.sh.)
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: reports
    match: {bucket: in, prefix: r/}
    plugin: linecount
    output: "s3://out/reports/{date}/{key}"'
add_rule "  - name: files
    match: {bucket: in, prefix: f/}
    plugin: linecount
    output: \"$TMP/files/{date}/{basename}\""
J() { "$SLUICE" -c "$TMP/sluice.yaml" janitor "$@"; }
host=$(hostname | sed 's/[^A-Za-z0-9._-]/_/g')

# A dead pid: a process that has come and gone (its pid is free until the
# kernel wraps around, which the test does not wait for).
sh -c 'echo $$' > "$TMP/deadpid"
dead=$(cat "$TMP/deadpid")
live=$$
# tmp_name BASENAME [WRITER]: a temporary's name (without WRITER: an older sluice's)
tmp_name() { echo ".sluice-tmp.$1.AbCdEf${2:+.$2}"; }
mkdir -p "$TMP/root/out/reports/2026-11-20/r" "$TMP/root/out/other" "$TMP/files/2026-11-20" \
    "$TMP/runs/2026-11-20" "$TMP/root/in/r" "$TMP/elsewhere"
D="$TMP/root/out/reports/2026-11-20/r"
touch "$D/$(tmp_name dead.txt "$dead-0-0@$host")"
touch "$D/$(tmp_name live.txt "$live-0-0@$host")"
touch "$D/$(tmp_name legacy-young.txt)"
touch -d '2 days ago' "$D/$(tmp_name legacy-old.txt)"
touch -d '2 hours ago' "$D/$(tmp_name legacy-2h.txt)"
touch "$D/$(tmp_name foreign-young.txt "1-0-0@elsewhere")"
touch -d '3 days ago' "$D/$(tmp_name foreign-old.txt "1-0-0@elsewhere")"
touch "$TMP/files/2026-11-20/$(tmp_name plain.txt "$dead-0-0@$host")"
touch "$TMP/runs/2026-11-20/$(tmp_name RUN.json "$dead-0-0@$host")"
# not where the configuration writes: left alone
touch "$TMP/root/out/other/$(tmp_name outside.txt "$dead-0-0@$host")"
touch "$TMP/root/in/r/$(tmp_name input.txt "$dead-0-0@$host")"
# a link inside an output directory is not followed out of it
touch "$TMP/elsewhere/$(tmp_name linked.txt "$dead-0-0@$host")"
ln -s "$TMP/elsewhere" "$D/link"
# a RUNNING record (and its in-flight mark) of the dead process
id=20261120T091542Z-0badc0de
cat > "$TMP/runs/2026-11-20/$id.json" <<EOF
{"version":"0","id":"$id","detail-type":"Sluice Job State Change","source":"sluice",
 "time":"2026-11-20T09:15:42.000Z","detail":{"rule":"reports","state":"RUNNING","run_id":"$id",
 "input":{"location":"s3://in/r/x.txt","etag":null,"version_id":null,"event_time":null},
 "output":{"location":null},"plugin":{"name":"linecount","version":"1"},"error":null,
 "started_at":"2026-11-20T09:15:42.000Z","ended_at":null,"duration_ms":null,"attempt":1,
 "retry_of":null,"host":"$host","pid":$dead,"process":"$dead-0-0@$host",
 "sluice_version":"0","bytes_in":0,"bytes_out":0,"stats":{}}}
EOF
mkdir -p "$TMP/runs/_running/$host"
echo "{\"run_id\":\"$id\",\"record\":\"2026-11-20/$id.json\"}" > "$TMP/runs/_running/$host/$id.json"
temps() { (cd "$TMP" && find . -name '.sluice-tmp.*' | sed 's|.*/\.sluice-tmp\.||; s|\..*||' | LC_ALL=C sort | tr '\n' ' '); }
all_temps=$(temps)

# --- dry run ----------------------------------------------------------------------
J --dry-run > "$TMP/dry" 2> "$TMP/dry.err"; is $? 0 "--dry-run: exit 0"
is "$(temps)" "$all_temps" "--dry-run removes nothing"
like "$(cat "$TMP/runs/2026-11-20/$id.json")" '"state":"RUNNING"' "nor changes a record"
like "$(cat "$TMP/dry")" "would-remove +temp +$D/\.sluice-tmp\.dead\.txt\..*process $dead on $host has ended" \
    "it lists a dead writer's temporary"
like "$(cat "$TMP/dry")" "would-abandon +run +$id +process $dead on $host has ended" "and the record"
like "$(cat "$TMP/dry")" "kept +temp +$D/\.sluice-tmp\.live\.txt\..*process $live on $host is running" \
    "a live writer's is kept"

# --- the real thing -------------------------------------------------------------
J > "$TMP/out" 2> "$TMP/err"; is $? 0 "janitor: exit 0"
is "$(temps)" "foreign-young input legacy-2h legacy-young linked live outside " \
    "what is left: the live, the young, and what is not the configuration's"
like "$(cat "$TMP/out")" "removed +temp +$D/\.sluice-tmp\.legacy-old\.txt\.AbCdEf +named by an older sluice \(no writer in the name\); last written 2 d ago" \
    "an old name without a writer: removed by age"
like "$(cat "$TMP/out")" "kept +temp +$D/\.sluice-tmp\.legacy-young\.txt\.AbCdEf +.*younger than --older-than" \
    "a young one kept"
like "$(cat "$TMP/out")" "removed +temp +.*foreign-old.*runs on elsewhere, not on this host; last written 3 d ago" \
    "another host's, old: removed by age"
like "$(cat "$TMP/out")" "kept +temp +.*foreign-young" "another host's, young: kept"
like "$(cat "$TMP/out")" "removed +temp +$TMP/files/2026-11-20/\.sluice-tmp\.plain" "in a plain-path output"
like "$(cat "$TMP/out")" "removed +temp +$TMP/runs/2026-11-20/\.sluice-tmp\.RUN" "among the run records"
like "$(cat "$TMP/out")" "abandoned +run +$id" "the dead process's record"
like "$(cat "$TMP/runs/2026-11-20/$id.json")" '"state": "ABANDONED"' "is ABANDONED"
[ ! -e "$TMP/runs/_running/$host/$id.json" ]; ok $? "its in-flight mark is gone"
J --older-than 1h > "$TMP/out1h" 2>&1; is $? 0 "--older-than 1h"
like "$(cat "$TMP/out1h")" "removed +temp +.*legacy-2h" "removes a 2-hour-old one"
is "$(temps)" "foreign-young input legacy-young linked live outside " "and only that"
J > "$TMP/again" 2>&1
unlike "$(cat "$TMP/again")" "^(removed|abandoned)" "a second run finds nothing more"

# --- options -------------------------------------------------------------------------
J --older-than 1x > /dev/null 2> "$TMP/err"; is $? 2 "a bad duration is a usage error"
like "$(cat "$TMP/err")" "--older-than: expected a duration such as 90s" "and says what is expected"
J --older-than 99999999999999999999d > /dev/null 2>&1; is $? 2 "an enormous one too"
J extra > /dev/null 2>&1; is $? 2 "no arguments"
"$SLUICE" janitor --help | grep -q -- '--older-than'; ok $? "janitor --help"
"$SLUICE" --help | grep -q 'janitor'; ok $? "sluice --help lists it"
done_testing
