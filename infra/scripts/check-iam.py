"""The template after SAM's transform (offline, with the samtranslator that sam-cli ships): every function runs under
a role written in template.yaml, and no IAM role or policy - ours or one SAM generates (the scheduler's) - carries a
managed policy, a wildcard action or a wildcard resource. IamPolicyTest checks the source; this checks what SAM makes
of it, so a SAM default (AWSLambdaBasicExecutionRole, AWSLambdaDynamoDBExecutionRole, ...) cannot slip in."""
import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The transform looks managed policy names up in IAM only for Policies entries; the template has none."""

    def load(self):
        return {}


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(open(path).read())
    written_roles = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    for r in template["Resources"].values():
        if r["Type"] == "AWS::Serverless::Function":
            r["Properties"]["CodeUri"] = "s3://bucket/key"  # the transform wants S3 locations; sam build checks the zips
    try:
        out = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        print("the SAM transform failed: " + "; ".join(str(c) for c in e.causes))
        return 1
    problems = []
    for rid, r in out["Resources"].items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::Lambda::Function":
            role = props.get("Role", {})
            target = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
            if target not in written_roles:
                problems.append(f"{rid}: runs under {json.dumps(role)}, not a role written in the template")
        if r["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if props.get("ManagedPolicyArns"):
                problems.append(f"{rid}: managed policies {props['ManagedPolicyArns']}")
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            if "PolicyDocument" in props:
                documents.append(props["PolicyDocument"])
            for doc in documents:
                for st in doc.get("Statement", []):
                    if "NotAction" in st or "NotResource" in st:
                        problems.append(f"{rid}: NotAction/NotResource")
                    for a in strings(st.get("Action")):
                        if "*" in a:
                            problems.append(f"{rid}: wildcard action {a}")
                    for res in strings(st.get("Resource")):
                        if "*" in res:
                            problems.append(f"{rid}: wildcard resource {res}")
    checked = sum(1 for r in out["Resources"].values() if r["Type"] == "AWS::IAM::Role")
    if problems:
        print("IAM after the SAM transform:\n  " + "\n  ".join(problems))
        return 1
    print(f"IAM after the SAM transform: {checked} roles, each function under its own, no wildcard, no managed policy")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"))
