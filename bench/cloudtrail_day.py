#!/usr/bin/env python3
"""A day of an organisation's CloudTrail in the S3 layout, built from the shared corpora.

    bench/cloudtrail_day.py CORPORA_CLOUDTRAIL_DIR OUT_DIR SIZE_MB [SEED]

Writes OUT_DIR/AWSLogs/<account>/CloudTrail/<region>/2026/11/24/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz,
each a one-line {"Records":[...]} of about 25 MB uncompressed (2-4 MB gzipped, as AWS delivers under load), until
SIZE_MB of JSON has been written. Every record body (requestParameters, responseElements, user agents ...) is one
of the corpus records (Stratus Red Team detonations, the OTRF capture); what varies is who made the call:
  ~30 % an EC2 instance-profile session (2,000 instances; each calls from its own address, its SSM agent too),
   ~5 % IAM users from their own addresses, the rest Lambda/ECS role sessions and AWS services.
Three incidents are planted (in the first file): the Stratus 'steal instance credentials' sequence (IAM user's address), an instance
session used from outside AWS with a desktop user agent, and one through a private address that the instance's
own sessions never use, delivered by IMDSv1 while the instance's own use v2. The bench checks that all three are
found in every size.
"""
import gzip
import json
import os
import random
import sys
import uuid

ACCOUNTS = ["111122223333", "444455556666", "777788889999"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
FILE_BYTES = 25 << 20
DAY = "2026-11-24"


def load_templates(corpora):
    records = []
    for root, _, files in os.walk(corpora):
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if name.endswith(".ndjson"):
                records += [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                data = json.loads(text)
                records += data["Records"] if isinstance(data, dict) else data
    return records


def fill(template, identity, ip, delivery=None, agent=None):
    """The record as a compact JSON string with its identity, address, time placeholder and a fresh eventID."""
    r = dict(template)
    r.pop("@timestamp", None)
    r.pop("@version", None)
    r["eventVersion"] = "1.09"
    r["userIdentity"] = identity
    r["sourceIPAddress"] = ip
    r["eventTime"] = "@@TIME@@"
    r["eventID"] = "@@ID@@"
    if agent:
        r["userAgent"] = agent
    if delivery:
        r["userIdentity"] = dict(identity, sessionContext=dict(identity["sessionContext"], ec2RoleDelivery=delivery))
    return json.dumps(r, separators=(",", ":")).split("@@")


def instance_identity(account, instance, role, key):
    return {
        "type": "AssumedRole", "principalId": f"AROA{account}EXAMPLE:{instance}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{instance}", "accountId": account, "accessKeyId": key,
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{account}EXAMPLE",
                                             "arn": f"arn:aws:iam::{account}:role/{role}", "accountId": account, "userName": role},
                           "attributes": {"creationDate": f"{DAY}T00:00:00Z", "mfaAuthenticated": "false"}, "ec2RoleDelivery": "2.0"},
    }


def service_identity(account, n):
    role = f"lambda-role-{n % 50}"
    return {"type": "AssumedRole", "principalId": f"AROA{account}LAMBDA:fn-{n % 400}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/fn-{n % 400}", "accountId": account, "accessKeyId": f"ASIALAMBDA{n % 997:06d}",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{account}:role/{role}", "userName": role}}}


def main():
    corpora, out, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 16)
    templates = load_templates(corpora)
    instances = [(f"i-{rng.getrandbits(68):017x}", ACCOUNTS[i % 3], f"app-role-{i % 40}", f"54.{i // 250 % 250}.{i % 250}.{10 + i % 200}") for i in range(2000)]
    users = [(f"user{u}", ACCOUNTS[u % 3], f"203.0.113.{u + 1}") for u in range(20)]
    ssm_agent = "aws-sdk-go/1.44.0 (go1.20; linux; amd64) amazon-ssm-agent/3.2.1"
    server = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.6"
    target = size_mb << 20
    written = 0
    files = 0
    seconds = 0
    planted = plant(templates, instances, users)
    sample = [len("".join(fill(t, service_identity("1", 1), "1.2.3.4"))) for t in templates]
    step = 2 * 86400 * (sum(sample) / len(sample)) / target  # the day's records spread over its 24 hours
    while written < target:
        region = REGIONS[files % 3]
        account = ACCOUNTS[files // 3 % 3]
        parts = []
        size = 0
        start = seconds
        while size < FILE_BYTES and written + size < target:
            k = rng.random()
            t = templates[rng.randrange(len(templates))]
            if k < 0.30:
                inst, acct, role, ip = instances[rng.randrange(len(instances))]
                agent = ssm_agent if k < 0.06 else server if any(d in t.get("userAgent", "") for d in ("Darwin", "Windows")) else None
                rec = fill(t, instance_identity(acct, inst, role, f"ASIA{inst[2:14].upper()}"), ip, "2.0", agent)
            elif k < 0.35:
                name, acct, ip = users[rng.randrange(len(users))]
                rec = fill(t, {"type": "IAMUser", "principalId": f"AIDA{name.upper()}", "arn": f"arn:aws:iam::{acct}:user/{name}", "accountId": acct, "userName": name}, ip)
            else:
                rec = fill(t, service_identity(account, rng.randrange(10000)), f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
            seconds = min(seconds + rng.random() * step, 86399)
            text = "".join(p if i % 2 == 0 else (stamp(seconds) if p == "TIME" else str(uuid.UUID(int=rng.getrandbits(128)))) for i, p in enumerate(rec))
            parts.append(text)
            size += len(text) + 1
        if files == 0:
            for incident in planted:
                parts.extend(render(incident, start))
        folder = os.path.join(out, "AWSLogs", account, "CloudTrail", region, "2026", "11", "24")
        os.makedirs(folder, exist_ok=True)
        name = f"{account}_CloudTrail_{region}_20261124T{int(seconds) // 3600:02d}{int(seconds) % 3600 // 60:02d}Z_{rng.getrandbits(64):016x}.json.gz"
        with gzip.open(os.path.join(folder, name), "wt", compresslevel=6, encoding="utf-8") as f:
            f.write('{"Records":[')
            f.write(",".join(parts))
            f.write("]}")
        written += size
        files += 1
    print(f"{files} files, {written / 1e6:.0f} MB of JSON in {out}", file=sys.stderr)


def stamp(seconds):
    s = int(seconds)
    return f"{DAY}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}Z"


def plant(templates, instances, users):
    """The three incidents, as lists of (record parts) to add to the first file."""
    def named(event):
        return next((t for t in templates if t.get("eventName") == event), None) or dict(templates[0], eventName=event)

    ssm_agent = "aws-sdk-go/1.44.0 (go1.20; linux; amd64) amazon-ssm-agent/3.2.1"
    agents = [fill(named("UpdateInstanceInformation"), instance_identity(a, i, r, f"ASIAOWN{n}"), ip, "2.0", ssm_agent)
              for n, (i, a, r, ip) in enumerate(instances[1:4])]
    # 1. the Stratus sequence: an IAM user's address, then the instance's session from it (IMDSv1)
    user, acct_u, user_ip = users[0]
    inst1, acct1, role1, _ = instances[1]
    command = dict(named("SendCommand"), requestParameters={"documentName": "AWS-RunShellScript", "instanceIds": [inst1]})
    steal = [fill(command, {"type": "IAMUser", "principalId": "AIDAUSER0", "arn": f"arn:aws:iam::{acct_u}:user/{user}", "accountId": acct_u, "userName": user}, user_ip)]
    steal += [fill(named(e), instance_identity(acct1, inst1, role1, "ASIASTOLEN1"), user_ip, "1.0") for e in ("GetCallerIdentity", "DescribeInstances")]
    # 2. outside AWS, from a laptop
    inst2, acct2, role2, _ = instances[2]
    laptop = "aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64 prompt/off command/s3.ls"
    outside = [fill(named(e), instance_identity(acct2, inst2, role2, "ASIASTOLEN2"), "198.51.100.77", "2.0", laptop) for e in ("ListBuckets", "GetCallerIdentity")]
    # 3. a private address the instance never uses, IMDSv1 while the instance's own sessions use v2
    inst3, acct3, role3, _ = instances[3]
    sdk = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.6"
    private = [fill(named(e), instance_identity(acct3, inst3, role3, "ASIASTOLEN3"), "10.99.1.23", "1.0", sdk) for e in ("ListBuckets", "GetObject")]
    return [agents, steal, outside, private]


def render(records, start):
    return ["".join(p if i % 2 == 0 else (stamp(start + 1 + n) if p == "TIME" else str(uuid.uuid4())) for i, p in enumerate(rec))
            for n, rec in enumerate(records)]


if __name__ == "__main__":
    main()
