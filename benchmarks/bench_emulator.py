"""Benchmark: small authenticated GETs per second against the emulator server, 4 keep-alive clients.

Starts `EmulatorServer` in a child process (its own interpreter, as `promosync emulator serve`
runs), seeds coupon codes, then 4 threads each with one keep-alive requests.Session GET
/record/v1/couponCode/1 for a fixed time: first with an OAuth 2.0 bearer token (the gated
figure: the server's throughput), then signed with OAuth 1.0a TBA per request (reported: there
the clients' own signing CPU on the same two cores is a large part of the cost). Baseline
measured in the same run: a bare ThreadingHTTPServer answering the same-sized body with no
emulator work, driven by the same clients. The 4 client threads are spread over 2 processes by
default so the clients' GIL is not what gets measured.
Target: >= 1,000 GETs/s. Exit status 1 when the target is missed.

    python benchmarks/bench_emulator.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests_oauthlib import OAuth1

from connector.emulator import TEST_CREDENTIALS as C
from connector.emulator.auth import TOKEN_PATH

TARGET = 1000.0
CLIENTS = 4
SERVER_CODE = """
import sys
from connector.emulator import EmulatorServer
srv = EmulatorServer(port=0).start()
pid = srv.backend.create("promotionCode", {"name": "Bench", "useType": "SINGLEUSE",
                         "codePattern": "B-[AN.8]", "numberToGenerate": 10})
print(srv.url, flush=True)
sys.stdin.read()
srv.stop()
"""


def bearer_token(base: str) -> str:
    """An OAuth 2.0 M2M access token from the emulator's token endpoint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    now = int(time.time())
    token_url = base + TOKEN_PATH
    assertion = jwt.encode({"iss": C.oauth2_client_id, "scope": "rest_webservices",
                            "aud": token_url, "iat": now, "exp": now + 600}, pem,
                           algorithm="PS256", headers={"kid": "bench-cert"})
    r = requests.post(token_url, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    r.raise_for_status()
    return str(r.json()["access_token"])


def _auth() -> OAuth1:
    return OAuth1(C.consumer_key, C.consumer_secret, C.token_id, C.token_secret,
                  signature_method="HMAC-SHA256", realm=C.account_id)


def measure(url: str, seconds: float, sign: bool | str, clients: int = CLIENTS
            ) -> tuple[float, int]:
    """GETs per second over `seconds` with `clients` threads; and the error count.
    `sign`: True = OAuth 1.0a TBA per request, a string = that bearer token, False = none."""
    counts = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        session = requests.Session()
        session.trust_env = False  # skip per-request proxy lookups in os.environ (client CPU)
        auth = _auth() if sign is True else None
        if isinstance(sign, str):
            session.headers["Authorization"] = f"Bearer {sign}"
        while time.monotonic() < stop:
            r = session.get(url, auth=auth)
            if r.status_code == 200:
                counts[i] += 1
            else:
                errors[i] += 1
        session.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start), sum(errors)


def _client_process(args: tuple[str, float, bool | str, int]) -> tuple[float, int]:
    return measure(*args)


def measure_spread(url: str, seconds: float, sign: bool | str, processes: int
                   ) -> tuple[float, int]:
    """CLIENTS keep-alive session threads spread over `processes` client processes, so the
    clients' own CPU (requests + OAuth signing, ~1.2 ms a call) is not what gets measured."""
    per = CLIENTS // processes
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_client_process, [(url, seconds, sign, per)] * processes)
    return sum(r[0] for r in results), sum(r[1] for r in results)


def baseline(body: bytes, seconds: float, processes: int) -> float:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))

        def log_message(self, *args: Any) -> None:
            return

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        rate, _ = measure_spread(f"http://127.0.0.1:{srv.server_address[1]}/x", seconds,
                                 False, processes)
    finally:
        srv.shutdown()
        srv.server_close()
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--client-processes", type=int, default=2, choices=(1, 2, 4),
                        help="processes the 4 client threads are spread over (default 2)")
    args = parser.parse_args()
    child = subprocess.Popen([sys.executable, "-c", SERVER_CODE], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        base = child.stdout.readline().strip()
        url = f"{base}/services/rest/record/v1/couponCode/1"
        sample = requests.get(url, auth=_auth())
        sample.raise_for_status()
        token = bearer_token(base)
        rate, errors = measure_spread(url, args.seconds, token, args.client_processes)
        tba_rate, tba_errors = measure_spread(url, args.seconds, True, args.client_processes)
        stats = requests.get(f"{base}/__emulator__/stats").json()
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=10)
    base_rate = baseline(sample.content, args.seconds, args.client_processes)
    print(f"emulator: {rate:,.0f} GETs/s (OAuth 2.0 bearer) with {CLIENTS} keep-alive clients "
          f"in {args.client_processes} processes "
          f"({errors} errors, max in flight {stats['max_in_flight']})")
    print(f"          {tba_rate:,.0f} GETs/s with OAuth 1.0a TBA signed by requests-oauthlib "
          f"({tba_errors} errors; the clients' signing CPU shares the same 2 cores)")
    print(f"baseline: {base_rate:,.0f} GETs/s (bare ThreadingHTTPServer, same body, unsigned, "
          "same clients)")
    print(f"target:   {TARGET:,.0f} GETs/s -> {rate / TARGET:.2f}x target; "
          f"{rate / base_rate:.2f}x baseline")
    print(json.dumps({"gets_per_second": round(rate), "tba_gets_per_second": round(tba_rate),
                      "baseline": round(base_rate), "target": TARGET, "errors": errors}))
    return 0 if rate >= TARGET and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
