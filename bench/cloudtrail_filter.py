#!/usr/bin/env python3
"""The plain standard-library filter imdswatch is measured against: every instance-profile session (principalId
...:i-...) per address, from every *.json.gz / *.json under the given folders. What a ten-line script does."""
import gzip, json, os, sys
from collections import Counter

uses = Counter()
for top in sys.argv[1:]:
    for root, _, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            with (gzip.open if name.endswith(".gz") else open)(path, "rt", encoding="utf-8") as f:
                for r in json.load(f)["Records"]:
                    principal = r.get("userIdentity", {}).get("principalId", "")
                    if ":i-" in principal:
                        uses[(principal.rsplit(":", 1)[1], r.get("sourceIPAddress"))] += 1
print(f"{len(uses)} instance sessions by address, {sum(uses.values())} calls")
