#!/bin/sh
# infra/cloudformation/sluice-workers.yaml deployed to moto's CloudFormation
# with test-parameters/sluice-workers.json, then the production path on the
# stack's own resources, minus EC2: the configuration the workers read (the
# stack's SSM parameter, verbatim), `sluice poll` on the stack's queue, the
# sample uploaded to the stack's inbound bucket -> S3 notification -> SQS ->
# the report in the stack's outbound bucket; a bad file -> the stack's DLQ
# and a failure notification on the stack's topic.
#
# moto 5 lacks, and so this test does not deploy (cfn-lint checks them):
# AWS::SQS::QueuePolicy, AWS::AutoScaling::ScalingPolicy,
# AWS::CloudWatch::Alarm; and it ignores an AWS::S3::Bucket's
# NotificationConfiguration and LifecycleConfiguration (TODO below; the
# declared notification is then applied as the template states it).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/moto.sh"
. "$top_srcdir/tests/infra/cfn_lib.sh"
moto_start


T="$top_srcdir/infra/cloudformation/sluice-workers.yaml"
PARAMS="$top_srcdir/infra/cloudformation/test-parameters/sluice-workers.json"
STACK=sluice-workers-test

cfn_deploy "$STACK" "$T" "$PARAMS"
is "$(cfn_status)" "CREATE_COMPLETE" "the stack reaches CREATE_COMPLETE on moto"
cfn_report_unsupported "$T"

Q=$(cfn_output QueueUrl)
DLQ=$(cfn_output DeadLetterQueueUrl)
DLQ_ARN=$(cfn_output DeadLetterQueueArn)
TOPIC=$(cfn_output FailureTopicArn)
IN=$(cfn_output InboundBucket)
OUT=$(cfn_output OutboundBucket)
CONFIG_PARAM=$(cfn_output ConfigParameterName)
like "$Q" "^https://sqs\.us-east-1\.amazonaws\.com/[0-9]{12}/$STACK-events\$" "output QueueUrl names the stack's queue"
like "$DLQ_ARN" "^arn:aws:sqs:us-east-1:[0-9]{12}:$STACK-events-dlq\$" "output DeadLetterQueueArn names the DLQ"
like "$TOPIC" "^arn:aws:sns:us-east-1:[0-9]{12}:$STACK-failures\$" "output FailureTopicArn names the topic"
is "$IN $OUT" "$(cfn_param InboundBucketName) $(cfn_param OutboundBucketName)" \
    "outputs InboundBucket, OutboundBucket name the parameters' buckets"
awsm s3api head-bucket --bucket "$IN" >/dev/null && awsm s3api head-bucket --bucket "$OUT" >/dev/null
ok $? "both buckets exist"

# moto hands out queue URLs with AWS's host; the same queue on moto:
QM=$(moto_queue_url "$Q") DLQM=$(moto_queue_url "$DLQ")
redrive=$(awsm sqs get-queue-attributes --queue-url "$QM" --attribute-names RedrivePolicy --query Attributes.RedrivePolicy)
is "$("$PYTHON3" -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["deadLetterTargetArn"], r["maxReceiveCount"])' "$redrive")" \
    "$DLQ_ARN $(cfn_param MaxReceiveCount)" "the queue's redrive policy: the stack's DLQ after MaxReceiveCount receives"
is "$(awsm sqs get-queue-attributes --queue-url "$QM" --attribute-names VisibilityTimeout --query Attributes.VisibilityTimeout)" \
    "$(cfn_param VisibilityTimeout)" "the queue's visibility timeout is the parameter's"
is "$(awsm sns list-subscriptions-by-topic --topic-arn "$TOPIC" --query 'Subscriptions[].[Protocol,Endpoint]' | tr '\t' ' ')" \
    "email $(cfn_param AlertEmail)" "the topic has the AlertEmail subscription"

asg=$(cfn_output WorkerGroupName)
is "$(awsm autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
    --query 'AutoScalingGroups[0].[MinSize,MaxSize]' | tr '\t' ' ')" \
    "$(cfn_param MinWorkers) $(cfn_param MaxWorkers)" "the Auto Scaling group has the parameters' bounds"
lt=$(awsm autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
    --query 'AutoScalingGroups[0].LaunchTemplate.LaunchTemplateId')
awsm ec2 describe-launch-template-versions --launch-template-id "$lt" \
    --query 'LaunchTemplateVersions[0].LaunchTemplateData.UserData' | base64 -d > "$TMP/user-data"
like "$(cat "$TMP/user-data")" "aws ssm get-parameter --region us-east-1 --name \"$CONFIG_PARAM\"" \
    "the workers' user data reads the stack's configuration parameter"
like "$(cat "$TMP/user-data")" "SLUICE_QUEUE_URL=%s.*\"$Q\"" "and points sluice-poll.service at the stack's queue"
like "$(cat "$TMP/user-data")" "systemctl enable --now sluice-poll.service" "and starts the systemd unit"
like "$(cat "$TMP/user-data")" "s3://$(cfn_param ArtifactBucket)/$(cfn_param ArtifactKey)" \
    "from the artifact the parameters name"
bash -n "$TMP/user-data"; ok $? "the user data is a valid bash script"

# The bucket notification the template declares.
"$PYTHON3" "$top_srcdir/tests/infra/cfn_stack.py" declared-notification "$T" "$STACK" InboundBucket > "$TMP/declared"
want=$("$PYTHON3" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["canonical"], sort_keys=True))' "$TMP/declared")
like "$want" "\"QueueArn\": \"arn:aws:sqs:us-east-1:[0-9]{12}:$STACK-events\"" "the template declares the inbound bucket's notification to the stack's queue"
like "$want" "\"Name\": \"prefix\", \"Value\": \"$(cfn_param InboundPrefix)\"}, \\{\"Name\": \"suffix\", \"Value\": \"\\$(cfn_param InboundSuffix)\"" \
    "for the parameters' prefix and suffix"
got=$("$PYTHON3" "$top_srcdir/tests/infra/cfn_stack.py" bucket-notification "$IN")
[ "$got" = "$want" ]
ok $? "the bucket notification exists as declared # TODO moto 5 ignores AWS::S3::Bucket NotificationConfiguration"
if [ "$got" != "$want" ]; then
    echo "# moto did not apply the NotificationConfiguration; applying the template's declaration with s3api"
    awsm s3api put-bucket-notification-configuration --bucket "$IN" --notification-configuration \
        "$("$PYTHON3" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["api"]))' "$TMP/declared")"
    is "$("$PYTHON3" "$top_srcdir/tests/infra/cfn_stack.py" bucket-notification "$IN")" "$want" "the declared notification, applied"
fi

# The configuration the workers run with: the stack's parameter, verbatim.
awsm ssm get-parameter --name "$CONFIG_PARAM" --query Parameter.Value > "$TMP/sluice.yaml"
like "$(cat "$TMP/sluice.yaml")" "topic_arn: \"$TOPIC\"" "the configuration names the stack's topic"
"$SLUICE" validate --config "$TMP/sluice.yaml" > "$TMP/validate" 2>&1
ok $? "sluice validate accepts the stack's configuration"

# A queue of our own on the topic, to see the failure mail (moto delivers
# no e-mail).
NQM=$(awsm sqs create-queue --queue-name mail-copy --query QueueUrl)
NQ_ARN=$(awsm sqs get-queue-attributes --queue-url "$NQM" --attribute-names QueueArn --query Attributes.QueueArn)
awsm sns subscribe --topic-arn "$TOPIC" --protocol sqs --notification-endpoint "$NQ_ARN" >/dev/null

# sluice poll as the unit runs it, but against moto (AWS_ENDPOINT_URL for S3
# and SNS; the queue URL's host is moto's) and with a short visibility
# timeout so the bad file's message comes back soon.
AWS_ENDPOINT_URL=$MOTO_URL "$SLUICE" --log-format json -c "$TMP/sluice.yaml" poll --queue "$QM" --wait 1 \
    --visibility 2 --workers 2 > "$TMP/out" 2> "$TMP/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; kill "$MOTO_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

prefix=$(cfn_param InboundPrefix) outprefix=$(cfn_param OutboundPrefix)
day0=$(date -u +%Y-%m-%d)
awsm s3 cp "$DATA/hit_data.tsv" "s3://$IN/${prefix}hit_data.tsv" > /dev/null
day1=$(date -u +%Y-%m-%d)
report_there() {
    for today in "$day0" "$day1"; do
        key="$outprefix$today/${today}_SearchKeywordPerformance.tab"
        awsm s3api head-object --bucket "$OUT" --key "$key" > /dev/null 2>&1 && return 0
    done
    return 1
}
eventually report_there; ok $? "the sample's report appears in the stack's outbound bucket ($OUT/${key:-?})"
awsm s3 cp "s3://$OUT/$key" "$TMP/report.tab" > /dev/null 2>&1
printf 'Search Engine Domain\tSearch Keyword\tRevenue\ngoogle.com\tipod\t480.00\nbing.com\tzune\t250.00\nyahoo.com\tcd player\t0.00\n' > "$TMP/want"
cmp -s "$TMP/report.tab" "$TMP/want"; ok $? "with exactly the spec's bytes"
runs=$(awsm s3api list-objects-v2 --bucket "$OUT" --prefix _sluice/runs/ --query 'length(Contents)')
ok "$([ "${runs:-0}" -ge 1 ] 2>/dev/null; echo $?)" "the run record is in the outbound bucket under _sluice/runs/ ($runs objects)"

printf 'this is not hit data\n' > "$TMP/bad.tsv"
awsm s3 cp "$TMP/bad.tsv" "s3://$IN/${prefix}bad.tsv" > /dev/null
dead_lettered() {
    [ "$(awsm sqs get-queue-attributes --queue-url "$DLQM" --attribute-names ApproximateNumberOfMessages \
        --query Attributes.ApproximateNumberOfMessages)" = "1" ]
}
eventually dead_lettered; ok $? "the bad file's message lands in the stack's DLQ after MaxReceiveCount receives"
awsm sqs receive-message --queue-url "$DLQM" --query 'Messages[0].Body' > "$TMP/dead"
like "$(cat "$TMP/dead")" "\"key\": ?\"hit-data(/|%2F)bad\\.tsv\"" "the dead letter is the bad file's S3 event"

kill -TERM "$pid"; wait "$pid"; rc=$?
is "$rc" "1" "sluice poll stops on SIGTERM, status 1 (a job failed)"
is "$(awsm sqs get-queue-attributes --queue-url "$QM" --attribute-names All \
    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' | tr '\t' ' ')" \
    "0 0" "the stack's queue is empty"
awsm sqs receive-message --queue-url "$NQM" --max-number-of-messages 10 --query 'Messages[].Body' --output json > "$TMP/mail"
like "$(cat "$TMP/mail")" "FAILED" "the failure was published to the stack's topic"
like "$(cat "$TMP/mail")" "${prefix}bad.tsv" "naming the bad file"
done_testing
