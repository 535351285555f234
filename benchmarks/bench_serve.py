"""Benchmark: the HTTP API of `promosync serve` against the same work through `Register`
in-process, on PostgreSQL, in one run (R41).

The server is `promosync serve` in its own process, as a user runs it. 16 clients send:
* POST /v1/validate: `Register.check`, the dry run of a scan (one read of the store);
* scan + pay: POST .../codes then POST .../pay, each with an Idempotency-Key, on transactions
  opened beforehand (as bench_redeem does), and the same without keys.
Baselines, same store, same run: the same work by 16 threads of one process calling Register
directly (the server's own deployment, without HTTP), and for scan + pay also by 16 worker
processes (registers that each run Register themselves, as bench_redeem measures them). Each
target's figure and its baseline are measured in three alternating turns, so that the
machine's own ups and downs during the run weigh on both alike.
The clients are 16 processes, each with one keep-alive HTTP/1.1 connection on a plain socket
(requests written as bytes, answers read by their Content-Length): independent callers, as
registers are. Registers run on their own machines; here the clients share the two cores with
the server and PostgreSQL, so they are kept as light as a load generator is (the standard
library's HTTP client cost three times as much CPU per request, taken from the server). For
scale, scan + pay with keys is measured again with clients of the standard library's
http.client (what `requests` sends through).
Both sides are warmed up first, uncounted: 40 validates and 40 scan + pays per client, in-process
and over HTTP. A server runs for hours; its first requests meet PostgreSQL sessions that have
not run the statements yet, and code run for the first time. The new server's first requests
are printed for scale.
Then idempotency: 1,000 transactions each paid 3 times with the same key by 16 clients at once,
retries interleaved: every code must be redeemed once, and every answer to a key the same.

Targets: validate p99 < 20 ms; HTTP redemptions >= half the in-process (threads) rate; no code
used twice. Exit code 1 when one is missed.

    PROMOSYNC_TEST_POSTGRES_URL=postgresql://... python benchmarks/bench_serve.py [--codes N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from connector import Register, create_promotion, generate_codes, open_store, su_format
from connector.serve.keys import create_key
from connector.serve.settings import load_serve_settings
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 16
WARM = 40  # requests per client before the measured turns, on each side
CART = [{"item": "ITEM", "amount": "20.00"}]
Result = tuple[float, float, list[float]]  # start, end, latencies (s)


class LeanClient:
    """One keep-alive HTTP/1.1 connection on a plain socket: requests written as bytes,
    answers read by their Content-Length."""

    def __init__(self, base: str, key: str) -> None:
        import socket
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
                     "Content-Type: application/json\r\n").encode()
        self.buf = b""

    def post(self, path: str, body: Any = None, idem: str | None = None) -> tuple[int, bytes]:
        return self.send("POST", path, body, idem)

    def send(self, method: str, path: str, body: Any = None, idem: str | None = None
             ) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else b""
        extra = f"Idempotency-Key: {idem}\r\n".encode() if idem is not None else b""
        self.sock.sendall(method.encode() + b" " + path.encode() + b" HTTP/1.1\r\n" +
                          self.head + extra + b"Content-Length: " + str(len(data)).encode() +
                          b"\r\n\r\n" + data)
        return self._answer()

    def _answer(self) -> tuple[int, bytes]:
        buf = self.buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self.sock.recv(65536)
        head = buf[:end].lower()
        status = int(head[9:12])
        at = head.find(b"content-length:")
        length = int(head[at + 15:head.find(b"\r\n", at)].strip())
        while len(buf) < end + 4 + length:
            buf += self.sock.recv(65536)
        self.buf = buf[end + 4 + length:]
        return status, buf[end + 4:end + 4 + length]


class Client:
    """One keep-alive HTTP connection with the API key."""

    def __init__(self, base: str, key: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.key = key

    def post(self, path: str, body: Any = None, idem: str | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        if idem is not None:
            headers["Idempotency-Key"] = idem
        data = json.dumps(body).encode() if body is not None else b""
        self.conn.request("POST", path, body=data, headers=headers)
        answer = self.conn.getresponse()
        return answer.status, answer.read()


class Threads:
    """`workers` threads kept for every in-process measurement, each with its store connection
    made before the first (a Register keeps one per thread): no turn pays for connecting."""

    def __init__(self, workers: int, store: Store) -> None:
        self.workers = workers
        self.pool = ThreadPoolExecutor(workers)
        ready = threading.Barrier(workers)
        lines = store.thread_connections

        def connect() -> None:
            ready.wait()  # every thread of the pool takes one
            if lines is not None:
                lines.own()

        for done in [self.pool.submit(connect) for _ in range(workers)]:
            done.result()

    def run(self, items: Sequence[Any], make: Callable[[], Callable[[Any], None]]
            ) -> tuple[float, list[float]]:
        """Rate (items/s) and latencies of the threads sharing `items`."""
        shares = [list(items[i::self.workers]) for i in range(self.workers)]
        start = threading.Barrier(self.workers)

        def worker(share: list[Any]) -> Result:
            work = make()
            start.wait()
            t0, lat = time.monotonic(), []
            for item in share:
                t1 = time.monotonic()
                work(item)
                lat.append(time.monotonic() - t1)
            return t0, time.monotonic(), lat

        results = [f.result() for f in [self.pool.submit(worker, sh) for sh in shares]]
        elapsed = max(r[1] for r in results) - min(r[0] for r in results)
        return len(items) / elapsed, [x for r in results for x in r[2]]


def _clients(items: Sequence[Any], make: Callable[[], Callable[[Any], Any]]
             ) -> tuple[float, list[float], list[Any]]:
    """Rate (items/s), latencies and what each call returned (None left out) of CLIENTS
    processes sharing `items`, each with what `make` opens in it (a connection to the server,
    a register of its own): independent clients, as registers and web stores are, none
    waiting for another's interpreter lock."""
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Barrier(CLIENTS), ctx.Queue()

    def client(share: list[Any]) -> None:
        try:
            work = make()
            start.wait(timeout=60)
            t0, lat, said = time.monotonic(), [], []
            for item in share:
                t1 = time.monotonic()
                answer = work(item)
                lat.append(time.monotonic() - t1)
                if answer is not None:
                    said.append(answer)
            out.put((t0, time.monotonic(), lat, said))
        except BaseException as exc:  # noqa: BLE001 - told to the parent, which stops
            out.put(("failed", repr(exc)[:500], [], []))

    procs = [ctx.Process(target=client, args=(list(items[i::CLIENTS]),))
             for i in range(CLIENTS)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    failed = [r[1] for r in results if r[0] == "failed"]
    if failed:
        raise SystemExit(f"a client failed: {failed[0]}")
    elapsed = max(r[1] for r in results) - min(r[0] for r in results)
    return (len(items) / elapsed, [x for r in results for x in r[2]],
            [x for r in results for x in r[3]])


ROUNDS = 3
Measure = Callable[[Sequence[Any]], tuple[float, list[float]]]


def _alternating(local: Measure, local_items: Sequence[Any], http: Measure,
                 http_items: Sequence[Any]) -> tuple[tuple[float, list[float]], ...]:
    """(rate, latencies) of `local` and of `http`, measured in ROUNDS turns each, alternately,
    each turn on its share of the items: a machine that slows down or speeds up during the
    run (two shared cores do) weighs on the baseline and the figure alike."""
    spent = [0.0, 0.0]
    latencies: list[list[float]] = [[], []]
    for turn in range(ROUNDS):
        for side, (measure, items) in enumerate(((local, local_items), (http, http_items))):
            share = list(items[turn::ROUNDS])
            rate, lat = measure(share)
            spent[side] += len(share) / rate
            latencies[side] += lat
    return ((len(local_items) / spent[0], latencies[0]),
            (len(http_items) / spent[1], latencies[1]))


def _ms(lat: list[float]) -> str:
    p99 = statistics.quantiles(lat, n=100)[98]
    return f"p50 {statistics.median(lat) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"


def _p99(lat: list[float]) -> float:
    return statistics.quantiles(lat, n=100)[98] * 1000


class Server:
    """`promosync serve` in a child process."""

    def __init__(self, url: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "connector", "--database-url", url, "serve", "--port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("promosync serve on "):
            raise SystemExit(f"the server did not start: {first!r}")
        self.base = first.split()[3].rstrip(":")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _setup(store: Store, count: int) -> list[str]:
    create_promotion(store, name="Bench", kind="order", rate=5, percent=False)
    generate_codes(store, "Bench", count=count, fmt=su_format())
    with store.read() as conn:
        return list(conn.scalars(select(s.codes.c.code).order_by(s.codes.c.id)))


def _open(store: Store, codes: list[str]) -> list[tuple[str, str]]:
    reg = Register(store)
    return [(reg.open(lines=["ITEM:20.00"]).id, c) for c in codes]


def bench(url: str, n: int) -> bool:
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    store = open_store(url)
    warm = 2 * WARM * CLIENTS  # codes redeemed while warming up, in-process and over HTTP
    codes = _setup(store, 8 * n + 1000 + warm)
    made, key = create_key(store, "bench", ["register"])
    batches = [codes[i * n:(i + 1) * n] for i in range(8)]
    retried = codes[8 * n:8 * n + 1000]
    warming = codes[8 * n + 1000:]
    reg = Register(store)

    def local_validate() -> Callable[[Any], None]:
        def work(code: str) -> None:
            reg.check(code, lines=["ITEM:20.00"])
        return work

    def local_redeem() -> Callable[[Any], None]:
        def work(item: tuple[str, str]) -> None:
            reg.scan(item[0], item[1])
            reg.pay(item[0])
        return work

    def local_keyed() -> Callable[[Any], None]:
        """The server's own calls for a keyed scan and payment, keys kept, without HTTP."""
        from connector.redeem.server_functions import KeyClaim

        server = reg.server_functions
        assert server is not None
        api_key = made.id

        def work(item: tuple[str, str]) -> None:
            sale, code = item
            now = utcnow()
            scanned = server.keyed_scan(sale, code, KeyClaim(api_key, f"s-{sale}", "-", now, 201))
            paid = server.keyed_pay(sale, KeyClaim(api_key, f"p-{sale}", "-", now, 200))
            assert "answered" in scanned and "answered" in paid, (scanned, paid)
        return work

    def own_register() -> Callable[[Any], None]:
        """A register of its own in each process (bench_redeem's processes): its own store."""
        mine = Register(open_store(url, create=False))

        def work(item: tuple[str, str]) -> None:
            mine.scan(item[0], item[1])
            mine.pay(item[0])
        return work

    r_proc, r_proc_lat, _ = _clients(_open_fresh(url, batches[2]), own_register)
    threads = Threads(CLIENTS, store)
    server = Server(url)
    try:
        def http_validate() -> Callable[[Any], None]:
            client = LeanClient(server.base, key)

            def work(code: str) -> None:
                status, body = client.post("/v1/validate", {"code": code, "lines": CART})
                assert status == 200, body
            return work

        def http_redeem(keys: bool, kind: type[LeanClient | Client] = LeanClient
                        ) -> Callable[[], Callable[[Any], None]]:
            def make() -> Callable[[Any], None]:
                client = kind(server.base, key)

                def work(item: tuple[str, str]) -> None:
                    sale, code = item
                    status, body = client.post(f"/v1/transactions/{sale}/codes", {"code": code},
                                               idem=f"scan-{sale}" if keys else None)
                    assert status == 201, body
                    status, body = client.post(f"/v1/transactions/{sale}/pay",
                                               idem=f"pay-{sale}" if keys else None)
                    assert status == 200, body
                return work
            return make

        def http_read() -> Callable[[Any], None]:
            client = LeanClient(server.base, key)

            def work(sale: str) -> None:
                status, body = client.send("GET", f"/v1/transactions/{sale}")
                assert status == 200, body
            return work

        # warm-up, not counted: the first requests on both sides (statements prepared and run
        # for the first time in each PostgreSQL session, code paths run once)
        threads.run(batches[0][:WARM * CLIENTS], local_validate)
        w_http, w_http_lat, _ = _clients(batches[3][:WARM * CLIENTS], http_validate)
        half = len(warming) // 2
        threads.run(_open(store, warming[:half]), local_redeem)
        _clients(_open_fresh(url, warming[half:]), http_redeem(True))
        (v_local, v_local_lat), (v_http, v_http_lat) = _alternating(
            lambda part: threads.run(part, local_validate), batches[0],
            lambda part: _clients(part, http_validate)[:2], batches[3])
        readable = [sale for sale, _code in _open_fresh(url, batches[3][:n // 4])] * 4
        g_http, g_http_lat, _ = _clients(readable, http_read)
        (r_local, r_local_lat), (r_http, r_http_lat) = _alternating(
            lambda part: threads.run(part, local_redeem), _open(store, batches[1]),
            lambda part: _clients(part, http_redeem(True))[:2], _open_fresh(url, batches[4]))
        r_bare, r_bare_lat, _ = _clients(_open_fresh(url, batches[5]), http_redeem(False))
        r_keyed, r_keyed_lat = threads.run(_open(store, batches[7]), local_keyed)
        r_std, r_std_lat, _ = _clients(_open_fresh(url, batches[6]), http_redeem(True, Client))
        same, retries = _retried_pays(server.base, key, _open_fresh(url, retried, scan=True))
    finally:
        server.stop()
        threads.pool.shutdown()
    with store.read() as conn:
        twice = conn.scalar(select(func.count()).where(s.codes.c.use_count > 1))
        redeemed = conn.scalar(select(func.count()).select_from(s.code_events)
                               .where(s.code_events.c.kind == "redeemed"))
        used = conn.scalar(select(func.count()).where(s.codes.c.use_count == 1))
    store.close()
    # batches 1, 2, 4, 5, 6, 7, the retried pays and the warm-up's
    expected = 6 * n + len(retried) + len(warming)
    ok_v = _p99(v_http_lat) < 20
    ok_r = r_http >= r_local / 2
    ok_once = twice == 0 and redeemed == used == expected and same
    print(f"PostgreSQL, {CLIENTS} concurrent clients, {n:,} operations each; server: "
          f"promosync serve (one process, {_threads()}); load average before: {load_before}")
    print(f"  validate in-process (Register.check, {CLIENTS} threads): "
          f"{v_local:,.0f}/s, {_ms(v_local_lat)}")
    print(f"  validate over HTTP: {v_http:,.0f}/s, {_ms(v_http_lat)} "
          f"(target p99 < 20 ms) -> {'OK' if ok_v else 'MISSED'}")
    print(f"  for scale, validate's warm-up over HTTP (the {WARM * CLIENTS:,} first requests of "
          f"the new server, not counted above): {w_http:,.0f}/s, {_ms(w_http_lat)}")
    print(f"  for scale, one read over HTTP (GET /v1/transactions/ID): {g_http:,.0f}/s, "
          f"{_ms(g_http_lat)}")
    print(f"  scan + pay in-process, {CLIENTS} threads of one process: {r_local:,.0f}/s, "
          f"{_ms(r_local_lat)}")
    print(f"  scan + pay in-process, {CLIENTS} processes: {r_proc:,.0f}/s, {_ms(r_proc_lat)}")
    print(f"  scan + pay over HTTP with Idempotency-Keys: {r_http:,.0f}/s, {_ms(r_http_lat)} "
          f"({r_http / r_local:.2f}x of threads, {r_http / r_proc:.2f}x of processes; "
          f"target >= 0.5x of threads) -> {'OK' if ok_r else 'MISSED'}")
    print(f"  scan + pay over HTTP without keys: {r_bare:,.0f}/s, {_ms(r_bare_lat)} "
          f"({r_bare / r_local:.2f}x of threads)")
    print(f"  for scale, the keyed calls in-process (the same store functions with the keys "
          f"kept, {CLIENTS} threads): {r_keyed:,.0f}/s, {_ms(r_keyed_lat)}; HTTP with keys is "
          f"{r_http / r_keyed:.2f}x of it")
    print(f"  for scale, with keys from clients of http.client (the standard library's, which "
          f"cost {CLIENTS} clients more of the cores): {r_std:,.0f}/s, {_ms(r_std_lat)} "
          f"({r_std / r_local:.2f}x of threads)")
    print(f"  idempotency: {len(retried):,} pays x {retries} tries with the same keys, "
          f"{CLIENTS} clients at once: every key answered alike: {same}")
    print(f"  codes redeemed: {used:,} (expected {expected:,}), redeemed events: {redeemed:,}, "
          f"used twice: {twice} -> {'OK' if ok_once else 'MISSED'}")
    print(f"  load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return ok_v and ok_r and ok_once


def _threads() -> str:
    settings = load_serve_settings()
    return (f"threads: {settings.serve_register_threads} for transactions, "
            f"{settings.serve_validate_threads} for validate, {settings.serve_threads} for "
            f"the rest, {settings.serve_loop_connections} store connections on the event loop")


def _open_fresh(url: str, codes: list[str], scan: bool = False) -> list[tuple[str, str]]:
    store = open_store(url, create=False)
    items = _open(store, codes)
    if scan:
        reg = Register(store)
        for sale, code in items:
            reg.scan(sale, code)
    store.close()
    return items


def _retried_pays(base: str, key: str, items: list[tuple[str, str]]) -> tuple[bool, int]:
    """Every pay sent 3 times with its key, shuffled so that retries run at once."""
    tries = 3
    calls = [sale for sale, _code in items for _ in range(tries)]
    random.Random(7).shuffle(calls)

    def make() -> Callable[[Any], Any]:
        client = LeanClient(base, key)

        def work(sale: str) -> tuple[str, int, bytes]:
            status, body = client.post(f"/v1/transactions/{sale}/pay", idem=f"retry-{sale}")
            return sale, status, body
        return work

    answers: dict[str, set[tuple[int, bytes]]] = {}
    for sale, status, body in _clients(calls, make)[2]:
        answers.setdefault(sale, set()).add((status, body))
    same = all(len(a) == 1 and next(iter(a))[0] == 200 for a in answers.values())
    return same and len(answers) == len(items), tries


def _reset_pg(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=3000, help="operations per measurement")
    args = parser.parse_args()
    url = os.environ.get("PROMOSYNC_TEST_POSTGRES_URL")
    if not url:
        print("PostgreSQL: skipped (set PROMOSYNC_TEST_POSTGRES_URL)")
        return 0
    _reset_pg(url)
    return 0 if bench(url, args.codes) else 1


if __name__ == "__main__":
    sys.exit(main())
