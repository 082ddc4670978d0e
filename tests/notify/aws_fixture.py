#!/usr/bin/env python3
"""aws_fixture.py — the AWS side of the notification end-to-end test, with
boto3 against moto_server.

  aws_fixture.py setup ENDPOINT OUT.json
      With moto checking signatures (INITIAL_NO_AUTH_ACTION_COUNT=3): makes
      an IAM user with an access key (the 3 unchecked requests), then, signed
      with that key, an SNS topic with an SQS subscription (no raw delivery:
      the SNS envelope arrives) and an EventBridge rule on the default bus
      for source "sluice" whose target is a second SQS queue. Writes the key,
      the topic ARN and both queue URLs to OUT.json.
  aws_fixture.py drain ENDPOINT QUEUE_URL EXPECTED OUT.json [QUEUE_URL EXPECTED OUT.json]...
      For each queue: receives until EXPECTED messages arrived (polling, 60 s
      at most: a generous deadline for a loaded machine), then once more for
      extras (moto delivers SNS and EventBridge targets synchronously, so
      nothing arrives later); deletes them; writes the bodies (a JSON list)
      to OUT.json.
"""
import json
import sys
import time

import boto3

REGION = "us-east-1"


def client(service, endpoint, key=None):
    kw = {"endpoint_url": endpoint, "region_name": REGION}
    if key:
        kw.update(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    return boto3.client(service, **kw)


def setup(endpoint, out):
    iam = client("iam", endpoint)
    iam.create_user(UserName="sluice-test")
    iam.put_user_policy(UserName="sluice-test", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="sluice-test")["AccessKey"]
    sns, sqs, events = (client(s, endpoint, key) for s in ("sns", "sqs", "events"))

    topic = sns.create_topic(Name="etl-failures")["TopicArn"]
    sns_q = sqs.create_queue(QueueName="etl-failures-email")["QueueUrl"]
    sns_q_arn = sqs.get_queue_attributes(QueueUrl=sns_q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_q_arn)

    eb_q = sqs.create_queue(QueueName="etl-failures-bus")["QueueUrl"]
    eb_q_arn = sqs.get_queue_attributes(QueueUrl=eb_q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="sluice-failures", EventBusName="default",
                    EventPattern=json.dumps({"source": ["sluice"],
                                             "detail-type": ["Sluice Job State Change"]}))
    events.put_targets(Rule="sluice-failures", EventBusName="default",
                       Targets=[{"Id": "queue", "Arn": eb_q_arn}])
    json.dump({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"],
               "topic_arn": topic, "sns_queue": sns_q, "eb_queue": eb_q}, open(out, "w"))


def drain(endpoint, queue, expected, out):
    sqs = client("sqs", endpoint)
    bodies = []
    deadline = time.time() + 60
    while len(bodies) < expected and time.time() < deadline:
        got = receive(sqs, queue)
        bodies += got
        if not got:
            time.sleep(0.1)
    bodies += receive(sqs, queue)  # anything beyond what was expected
    json.dump(bodies, open(out, "w"))


def receive(sqs, queue):
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    msgs = got.get("Messages", [])
    for m in msgs:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return [m["Body"] for m in msgs]


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2], sys.argv[3])
    else:
        args = sys.argv[3:]
        for i in range(0, len(args), 3):
            drain(sys.argv[2], args[i], int(args[i + 1]), args[i + 2])
