#!/bin/sh
# The production path end to end, all on moto: a bucket notification
# S3 -> SQS, `sluice poll` running with S3 storage, the sample uploaded
# with awscli -> the report appears in the output bucket with the exact
# bytes and the message leaves the queue. A failing file: its message
# stays, comes back after the visibility timeout, lands in the DLQ after
# maxReceiveCount, and its SNS failure notification is delivered.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/moto.sh"
moto_start

awsm s3 mb s3://inbound >/dev/null && awsm s3 mb s3://outbound >/dev/null
ok $? "buckets made with awscli"
DLQ=$(awsm sqs create-queue --queue-name events-dlq --query QueueUrl)
DLQ_ARN=$(awsm sqs get-queue-attributes --queue-url "$DLQ" --attribute-names QueueArn --query Attributes.QueueArn)
Q=$(awsm sqs create-queue --queue-name events --attributes "{\"VisibilityTimeout\":\"2\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"2\\\"}\"}" --query QueueUrl)
Q_ARN=$(awsm sqs get-queue-attributes --queue-url "$Q" --attribute-names QueueArn --query Attributes.QueueArn)
awsm s3api put-bucket-notification-configuration --bucket inbound --notification-configuration \
    "{\"QueueConfigurations\":[{\"QueueArn\":\"$Q_ARN\",\"Events\":[\"s3:ObjectCreated:*\"]}]}"
ok $? "bucket notification S3 -> SQS configured"
TOPIC=$(awsm sns create-topic --name ops --query TopicArn)
NQ=$(awsm sqs create-queue --queue-name ops-mail --query QueueUrl)
NQ_ARN=$(awsm sqs get-queue-attributes --queue-url "$NQ" --attribute-names QueueArn --query Attributes.QueueArn)
awsm sns subscribe --topic-arn "$TOPIC" --protocol sqs --notification-endpoint "$NQ_ARN" >/dev/null

cat > "$TMP/sluice.yaml" <<YAML
storage:
  type: s3
  endpoint: $MOTO_URL
  region: us-east-1
plugins:
  path: [$top_builddir/tests/plugins]
runs:
  dir: runs
notify:
  ops: {type: sns, topic_arn: "$TOPIC", endpoint: "$MOTO_URL", region: us-east-1}
on_failure: [ops]
rules:
  - name: broken
    match: {bucket: inbound, prefix: bad/}
    plugin: failing
    output: "s3://outbound/{name}"
  - name: revenue
    match: {bucket: inbound, prefix: hit-data/, suffix: .tsv}
    plugin: revenue
    output: "s3://outbound/{date}/{name}"
YAML

"$SLUICE" -c "$TMP/sluice.yaml" poll --queue "$Q" --wait 1 --visibility 2 --workers 2 >"$TMP/out" 2>"$TMP/log" &
pid=$!

# The report is named after the event's date, which moto sets at the
# upload: the date before or after it (the test may straddle midnight).
day0=$(date -u +%Y-%m-%d)
awsm s3 cp "$DATA/hit_data.tsv" "s3://inbound/hit-data/hit_data.tsv" >/dev/null
day1=$(date -u +%Y-%m-%d)
report_there() {
    for today in "$day0" "$day1"; do
        key="$today/${today}_SearchKeywordPerformance.tab"
        awsm s3api head-object --bucket outbound --key "$key" >/dev/null 2>&1 && return 0
    done
    return 1
}
eventually report_there; ok $? "the report appears in the output bucket (event date $today)"
awsm s3 cp "s3://outbound/$key" "$TMP/report.tab" >/dev/null 2>&1
printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' > "$TMP/want"
cmp -s "$TMP/report.tab" "$TMP/want"; ok $? "with exactly the spec's bytes"

# the failing file
awsm s3 cp "$DATA/hit_data.tsv" "s3://inbound/bad/x.tsv" >/dev/null
dead_lettered() {
    [ "$(awsm sqs get-queue-attributes --queue-url "$DLQ" --attribute-names ApproximateNumberOfMessages --query Attributes.ApproximateNumberOfMessages)" = "1" ]
}
eventually dead_lettered; ok $? "the failing file's message lands in the DLQ after maxReceiveCount"
kill -TERM $pid; wait $pid; rc=$?
is "$rc" "1" "poll stops on SIGTERM, exit 1 (a job failed)"

depth=$(awsm sqs get-queue-attributes --queue-url "$Q" --attribute-names All \
    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' | tr '\t' ' ')
is "$depth" "0 0" "the queue is empty: processed messages were deleted"
is "$(grep -c 'job failed: failing on purpose' "$TMP/log")" "2" "the failing job ran once per receive"
awsm s3api list-objects-v2 --bucket outbound --query 'Contents[].Key' > "$TMP/keys"
unlike "$(cat "$TMP/keys")" 'partial' "no output object from the failing plugin"
is "$(awsm s3api list-multipart-uploads --bucket outbound --query 'Uploads[].Key')" "None" "and no open multipart upload"

"$PYTHON3" - "$MOTO_URL" "$NQ" > "$TMP/mail" <<'PY'
import json, sys, boto3
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1")
msgs = sqs.receive_message(QueueUrl=sys.argv[2], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
for m in msgs:
    env = json.loads(m["Body"])
    print("SUBJECT " + env.get("Subject", ""))
PY
n=$(grep -c '^SUBJECT ' "$TMP/mail")
ok "$([ "$n" -ge 1 ]; echo $?)" "SNS failure notification delivered ($n message(s), one per failed attempt)"
like "$(cat "$TMP/mail")" 'SUBJECT .*(FAILED|failed).*broken|SUBJECT .*broken.*(FAILED|failed)' "its subject names the rule and the failure"
done_testing
