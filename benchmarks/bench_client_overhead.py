"""Issue 3 target: the NetSuite client's overhead per request is at most 1.3x that of a bare
requests.Session against the same server, measured in the same run.

Both sides GET the same couponCode record from one emulator server on 127.0.0.1, one request at
a time, signed with the same TBA credentials (OAuth 1.0a HMAC-SHA256, a fresh signature per
request), and parse the JSON body. The bare side is `requests.Session().get(url, auth=OAuth1)`
+ `.json()`; the client side is `NetSuiteClient.get()`, i.e. the whole stack: retry policy,
concurrency semaphore, error table, logging. Rounds alternate so machine noise hits both; the
best round of each is compared.

    python benchmarks/bench_client_overhead.py [--requests 1500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests
from requests_oauthlib import OAuth1

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import Report  # noqa: E402

from connector.emulator import TEST_CREDENTIALS as C  # noqa: E402
from connector.emulator import EmulatorServer  # noqa: E402
from connector.netsuite import NetSuiteClient, TokenAuth  # noqa: E402

TARGET = 1.3


def bare_round(url: str, n: int) -> float:
    session = requests.Session()
    auth = OAuth1(
        C.consumer_key,
        C.consumer_secret,
        C.token_id,
        C.token_secret,
        signature_method="HMAC-SHA256",
        realm=C.account_id,
    )
    started = time.perf_counter()
    for _ in range(n):
        response = session.get(url, auth=auth, timeout=30)
        response.raise_for_status()
        response.json()
    elapsed = time.perf_counter() - started
    session.close()
    return elapsed


def client_round(base_url: str, record_id: str, n: int) -> float:
    auth = TokenAuth(
        account_id=C.account_id,
        consumer_key=C.consumer_key,
        consumer_secret=C.consumer_secret,
        token_id=C.token_id,
        token_secret=C.token_secret,
    )
    with NetSuiteClient(
        account_id=C.account_id, auth=auth, base_url=base_url, concurrency=4
    ) as client:
        started = time.perf_counter()
        for _ in range(n):
            client.get("couponCode", record_id)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    report = Report("bench_client_overhead")
    with EmulatorServer(port=0) as server:
        server.backend.create(
            "promotionCode",
            {
                "name": "Bench",
                "useType": "SINGLEUSE",
                "customForm": {"id": "-10502"},
                "codePattern": "B-[AN.8]",
                "numberToGenerate": 10,
            },
        )
        record_id = "1"
        url = f"{server.url}/services/rest/record/v1/couponCode/{record_id}"
        bare_round(url, 50)  # warm both paths up
        client_round(server.url, record_id, 50)
        bare, ours = [], []
        for _ in range(args.rounds):
            bare.append(bare_round(url, args.requests))
            ours.append(client_round(server.url, record_id, args.requests))
    per_bare = min(bare) / args.requests * 1000
    per_ours = min(ours) / args.requests * 1000
    ratio = per_ours / per_bare
    report.check(
        f"client GET vs bare requests.Session ({args.requests} signed GETs, best of {args.rounds})",
        f"{per_ours:.2f} ms vs {per_bare:.2f} ms per request = {ratio:.2f}x",
        f"<= {TARGET}x",
        ratio <= TARGET,
    )
    report.finish()


if __name__ == "__main__":
    main()
