#!/usr/bin/env python3
"""Helpers of the CloudFormation tests (tests/infra/cfn_*.sh), against the
moto at $MOTO_URL.

  cfn_stack.py declared-notification TEMPLATE STACK LOGICAL_ID
      The NotificationConfiguration the template declares on bucket
      LOGICAL_ID, resolved against the deployed STACK (Ref to parameters and
      resources, Fn::GetAtt X.Arn) and turned into the shape of
      put-/get-bucket-notification-configuration, as canonical JSON.
  cfn_stack.py bucket-notification BUCKET
      The bucket's notification configuration as S3 reports it, in the same
      canonical JSON (Ids dropped, lists sorted).
  cfn_stack.py facts STACK DIR
      One process (awscli is slow to start) writes what the tests check
      into DIR: status, outputs (OUT_<Key> lines), params (PARAM_<Key>),
      resources ("ID TYPE" lines), one file per output value.
  cfn_stack.py template-types TEMPLATE
      Every resource's logical id and type, one "ID TYPE" per line.

moto 5's CloudFormation ignores an AWS::S3::Bucket's
NotificationConfiguration; the tests use this to say so and then apply
exactly what the template declares.
"""
import json
import os
import sys

import boto3
import yaml


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub ...)."""


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


def load_template(path):
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


def client(service):
    return boto3.client(service, endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")


class Resolver:
    def __init__(self, stack):
        cfn = client("cloudformation")
        desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        self.params = {p["ParameterKey"]: p["ParameterValue"] for p in desc.get("Parameters", [])}
        self.params["AWS::StackName"] = stack
        self.params["AWS::Region"] = "us-east-1"
        self.params["AWS::Partition"] = "aws"
        self.params["AWS::AccountId"] = desc["StackId"].split(":")[4]
        self.physical = {}
        self.types = {}
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]:
            if r.get("LogicalResourceId"):
                self.physical[r["LogicalResourceId"]] = r.get("PhysicalResourceId")
                self.types[r["LogicalResourceId"]] = r.get("ResourceType")

    def arn(self, logical):
        kind, phys = self.types.get(logical), self.physical.get(logical)
        if kind == "AWS::SQS::Queue":
            url = phys.rsplit("/", 2)
            queue_url = os.environ["MOTO_URL"] + "/" + url[-2] + "/" + url[-1]
            return client("sqs").get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if kind == "AWS::Lambda::Function":
            return client("lambda").get_function(FunctionName=phys)["Configuration"]["FunctionArn"]
        if kind == "AWS::SNS::Topic":
            return phys
        raise SystemExit("cfn_stack.py: no ARN for %s (%s)" % (logical, kind))

    def resolve(self, v):
        if isinstance(v, list):
            return [self.resolve(x) for x in v]
        if not isinstance(v, dict):
            return v
        if list(v) == ["Ref"]:
            name = v["Ref"]
            if name in self.params:
                return self.params[name]
            if name in self.physical:
                return self.physical[name]
            raise SystemExit("cfn_stack.py: cannot resolve Ref %s" % name)
        if list(v) == ["Fn::GetAtt"]:
            logical, attr = v["Fn::GetAtt"]
            if attr != "Arn":
                raise SystemExit("cfn_stack.py: GetAtt %s.%s not supported" % (logical, attr))
            return self.arn(logical)
        return {k: self.resolve(x) for k, x in v.items()}


def canonical(conf):
    """API-shaped notification configuration, comparable: no Ids, sorted."""
    out = {}
    for kind, arn_key in (("QueueConfigurations", "QueueArn"),
                          ("TopicConfigurations", "TopicArn"),
                          ("LambdaFunctionConfigurations", "LambdaFunctionArn")):
        items = []
        for c in conf.get(kind, []):
            rules = c.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            items.append({
                arn_key: c[arn_key],
                "Events": sorted(c["Events"]),
                "FilterRules": sorted(({"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules),
                                      key=lambda r: r["Name"]),
            })
        if items:
            out[kind] = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return out


def api_shape(conf):
    """canonical() form -> put-bucket-notification-configuration's shape."""
    out = {}
    for kind, items in conf.items():
        out[kind] = []
        for i in items:
            c = {k: v for k, v in i.items() if k != "FilterRules"}
            if i["FilterRules"]:
                c["Filter"] = {"Key": {"FilterRules": i["FilterRules"]}}
            out[kind].append(c)
    return out


def declared_notification(template, stack, logical):
    props = load_template(template)["Resources"][logical]["Properties"]
    nc = Resolver(stack).resolve(props["NotificationConfiguration"])
    conf = {}
    for kind, cfn_key, arn_key in (("QueueConfigurations", "Queue", "QueueArn"),
                                   ("TopicConfigurations", "Topic", "TopicArn"),
                                   ("LambdaConfigurations", "Function", "LambdaFunctionArn")):
        api_kind = "LambdaFunctionConfigurations" if kind == "LambdaConfigurations" else kind
        for c in nc.get(kind, []):
            rules = c.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            conf.setdefault(api_kind, []).append({
                arn_key: c[cfn_key], "Events": [c["Event"]],
                "Filter": {"Key": {"FilterRules": rules}}})
    return canonical(conf)


def facts(stack, d):
    cfn = client("cloudformation")
    st = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    with open(os.path.join(d, "status"), "w") as f:
        print(st["StackStatus"], file=f)
    for key, items, k, v in (("outputs", st.get("Outputs", []), "OutputKey", "OutputValue"),
                             ("params", st.get("Parameters", []), "ParameterKey", "ParameterValue")):
        os.makedirs(os.path.join(d, key), exist_ok=True)
        for i in items:
            with open(os.path.join(d, key, i[k]), "w") as f:
                print(i[v], file=f)
    with open(os.path.join(d, "resources"), "w") as f:
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]:
            if r.get("LogicalResourceId"):
                print(r["LogicalResourceId"], r["ResourceType"], file=f)


def main(argv):
    if len(argv) >= 2 and argv[1] == "declared-notification" and len(argv) == 5:
        c = declared_notification(argv[2], argv[3], argv[4])
        print(json.dumps({"canonical": c, "api": api_shape(c)}, sort_keys=True))
    elif len(argv) == 3 and argv[1] == "bucket-notification":
        conf = client("s3").get_bucket_notification_configuration(Bucket=argv[2])
        print(json.dumps(canonical(conf), sort_keys=True))
    elif len(argv) == 4 and argv[1] == "facts":
        facts(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "template-types":
        for logical, r in load_template(argv[2])["Resources"].items():
            print(logical, r["Type"])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
