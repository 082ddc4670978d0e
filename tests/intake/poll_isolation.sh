#!/bin/sh
# `sluice poll` outlives a crashing plugin (issue 12, finding 2): under
# `isolation: process` a plugin that segfaults fails its job only — its
# message stays, returns after the visibility timeout and lands in the
# dead-letter queue — while the poller goes on with the other messages and
# keeps polling. (In the engine's process the first crash ended the poller,
# both in-flight messages returning later.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/moto.sh"
moto_start
make_workspace
add_rule '  - name: crash
    match: {bucket: in, prefix: crash/}
    plugin: crashy
    options: {mode: segfault}
    isolation: process
    output: "s3://out/{key}"
  - name: copy
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'

queue() { sqs_queue "$@"; }
send() { sqs_send "$@"; }
depth() { sqs_depth "$@"; }

DLQ=$(queue dlq)
DLQ_ARN=$(awsm sqs get-queue-attributes --queue-url "$DLQ" --attribute-names QueueArn --query Attributes.QueueArn)
Q=$(queue q "{\"VisibilityTimeout\":\"2\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"2\\\"}\"}")
seq 3 > "$TMP/f"
put_object in crash/x.txt "$TMP/f"
put_object in a.txt "$TMP/f"
put_object in b.txt "$TMP/f"
send "$Q" "$(s3_event in crash/x.txt)"
send "$Q" "$(s3_event in a.txt)"
"$SLUICE" -c "$TMP/sluice.yaml" poll --wait 1 --queue "$Q" --visibility 2 --workers 1 \
    >/dev/null 2>"$TMP/log" &
pid=$!
dead_lettered() { [ "$(depth "$DLQ")" = "1 0" ]; }
eventually dead_lettered; ok $? "the crashing message reached the dead-letter queue"
ok "$(kill -0 $pid 2>/dev/null; echo $?)" "the poller is still running after two crashes"
is "$(grep -c 'job failed: plugin crashy crashed: SIGSEGV (signal 11)' "$TMP/log")" 2 \
    "each receive failed its job with the signal named"
cmp -s "$TMP/root/out/a.txt" "$TMP/f"; ok $? "the message beside it was processed"
# and it goes on polling: a message sent after the crashes is processed too
send "$Q" "$(s3_event in b.txt)"
published() { [ -s "$TMP/root/out/b.txt" ]; }
eventually published; ok $? "a message sent after the crashes is processed"
kill -TERM $pid; wait $pid; rc=$?
is "$rc" 1 "exit status 1 after job failures (not a signal's)"
is "$(tree out | grep -c crash/)" 0 "no output for the crashing job"
is "$(find "$TMP/root" -name '.sluice-tmp*' | wc -l | tr -d ' ')" 0 "no temporary file left"
done_testing
