#!/bin/sh
# `serve` and an event whose job kills the process (issue 12, finding 2):
# a spooled event is replayed first on every start, so a plugin that crashes
# in the engine's process (isolation: none) used to crash-loop `serve` for
# ever, the events behind it never running. Now each start of an entry is
# counted on disk before its jobs run; after --max-attempts starts without
# an end the entry is moved to the spool's quarantine/ and logged, and the
# events behind it run. An isolated plugin's crash fails its job only: the
# entry is done, the server stays up.
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: inproc-crash
    match: {bucket: in, prefix: inproc/}
    plugin: crashy
    options: {mode: segfault}
    isolation: none
    output: "s3://out/{key}"
  - name: iso-crash
    match: {bucket: in, prefix: iso/}
    plugin: crashy
    options: {mode: segfault}
    isolation: process
    output: "s3://out/{key}"
  - name: copy
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'
seq 3 > "$TMP/f"
put_object in inproc/a.txt "$TMP/f"
put_object in iso/c.txt "$TMP/f"
put_object in b.txt "$TMP/f"
# the spool as a server that accepted three events and died would leave it
# (entries run in the order of their ids)
SPOOL=$TMP/spool
mkdir -p "$SPOOL"
s3_event in inproc/a.txt > "$SPOOL/1764000000000-000001-aaaaaaaa.json"
s3_event in b.txt > "$SPOOL/1764000000000-000002-bbbbbbbb.json"
s3_event in iso/c.txt > "$SPOOL/1764000000000-000003-cccccccc.json"
SERVE="$SLUICE -c $TMP/sluice.yaml serve --listen 127.0.0.1:0 --spool $SPOOL --workers 1 --max-attempts 2"

# two starts, each killed by the in-process crash of the first entry
for i in 1 2; do
    $SERVE > /dev/null 2> "$TMP/log$i"
    is $? 139 "start $i: the in-process crash kills serve (isolation: none, by design)"
done
is "$(cat "$SPOOL/1764000000000-000001-aaaaaaaa.attempts")" 2 "both starts were counted on disk"
ok "$([ ! -e "$TMP/root/out/b.txt" ]; echo $?)" "the event behind it has not run yet"

# the third start quarantines it and runs the others
$SERVE > /dev/null 2> "$TMP/log3" &
pid=$!
published() { [ -s "$TMP/root/out/b.txt" ]; }
eventually published; ok $? "start 3: the event behind the crashing one runs"
handled() { [ ! -e "$SPOOL/1764000000000-000003-cccccccc.json" ]; }
eventually handled; ok $? "the isolated crash's event is handled (not left to replay)"
ok "$(kill -0 $pid 2>/dev/null; echo $?)" "serve is still up after the isolated crash"
ok "$([ -e "$SPOOL/quarantine/1764000000000-000001-aaaaaaaa.json" ] &&
    [ ! -e "$SPOOL/1764000000000-000001-aaaaaaaa.json" ] &&
    [ ! -e "$SPOOL/1764000000000-000001-aaaaaaaa.attempts" ]; echo $?)" \
    "the crashing event is moved to quarantine/"
like "$(cat "$TMP/log3")" 'spool: event 1764000000000-000001-aaaaaaaa was started 2 times and each time the process died.*quarantined to .*/quarantine/1764000000000-000001-aaaaaaaa.json' \
    "the log says so and where it went"
like "$(cat "$TMP/log3")" 'job failed: plugin crashy crashed: SIGSEGV \(signal 11\)' \
    "the isolated crash failed its job only"
kill -TERM $pid; wait $pid
is $? 0 "a clean stop"
is "$(ls "$SPOOL" | grep -c '\.json$')" 0 "nothing left to replay"
done_testing
