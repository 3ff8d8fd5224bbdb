#!/usr/bin/env python3
"""An auditor's check of comptoir's event log, independent of the server's own `verify`.

Every stored record carries SHA-256(previous record's hash || its envelope bytes). From an anchor
the auditor kept (a position and its hash, as `GET /v1/admin/log/head` gave it earlier; the
genesis, position 0 and 64 zeros, by default), this walks `GET /v1/admin/log/records` to the head
and recomputes every hash. Any record changed, removed or inserted since the anchor, or a chain
rewritten before it, shows.

Usage: chain_audit.py BASE_URL OWNER_TOKEN [--anchor POSITION:HEX_HASH]
Exit status: 0 intact (prints the head position and hash: the next anchor), 2 altered (prints
the first position that does not check out and why), 1 the check could not run.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.request

GENESIS = "0" * 64
PAGE_RECORDS = 1000


def get(base_url, token, path):
    request = urllib.request.Request(f"{base_url}{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def altered(position, reason):
    print(f"altered at position {position}: {reason}")
    sys.exit(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("token")
    parser.add_argument("--anchor", default=f"0:{GENESIS}")
    args = parser.parse_args()
    anchor_position, anchor_hash = args.anchor.split(":")
    after, expected = int(anchor_position), anchor_hash.lower()
    checked = 0
    while True:
        page = get(args.base_url, args.token,
                   f"/v1/admin/log/records?after={after}&limit={PAGE_RECORDS}")
        if page["previous_hash"] != expected:
            altered(after, "the record there no longer has the hash anchored or checked")
        for record in page["records"]:
            if record["position"] != after + 1:
                altered(after + 1, f"the next record is at {record['position']}")
            envelope = base64.b64decode(record["envelope"])
            computed = hashlib.sha256(bytes.fromhex(expected) + envelope).hexdigest()
            if computed != record["hash"]:
                altered(record["position"], "its bytes do not give its hash")
            expected, after = computed, record["position"]
            checked += 1
        if page["next_after"] is None:
            break
    if after < page["head"]:
        altered(after + 1, f"the records stop at {after}, the head is {page['head']}")
    print(f"intact: {checked} records checked after {anchor_position}; "
          f"head {after} hash {expected}")


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, KeyError) as error:
        print(f"could not check: {error}", file=sys.stderr)
        sys.exit(1)
