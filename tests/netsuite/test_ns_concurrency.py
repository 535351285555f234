"""R31 concurrency: one semaphore per client keeps in-flight requests <= concurrency across
threads; map_concurrent keeps input order and raises the first failing item's error."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
import responses

from connector.errors import NetSuiteNotFound
from connector.netsuite import NetSuiteClient

from .conftest import RECORDS


class InFlightCounter:
    """A responses callback that counts concurrent requests while it holds each one briefly."""

    def __init__(self, hold: float = 0.03) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.now = 0
        self.max = 0

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        with self.lock:
            self.now += 1
            self.max = max(self.max, self.now)
        time.sleep(self.hold)
        with self.lock:
            self.now -= 1
        record_id = request.url.rsplit("/", 1)[-1]
        if record_id.startswith("missing"):
            return 404, {}, '{"title": "Not Found", "status": 404}'
        return 200, {}, f'{{"id": "{record_id}"}}'


def _route(wire: responses.RequestsMock, counter: InFlightCounter) -> None:
    wire.add_callback(responses.GET, re.compile(rf"{re.escape(RECORDS)}/customer/.*"),
                      callback=counter)


def test_R31_map_concurrent_never_exceeds_the_limit(
    wire: responses.RequestsMock, make_client: Any
) -> None:
    counter = InFlightCounter()
    _route(wire, counter)
    client = make_client(concurrency=3)
    results = client.map_concurrent(lambda i: client.get("customer", i), range(24))
    assert [r["id"] for r in results] == [str(i) for i in range(24)]
    assert 2 <= counter.max <= 3
    assert client.transport.max_in_flight <= 3


def test_R31_semaphore_is_shared_by_threads_outside_map_concurrent(
    wire: responses.RequestsMock, make_client: Any
) -> None:
    counter = InFlightCounter()
    _route(wire, counter)
    client: NetSuiteClient = make_client(concurrency=2)

    def work(n: int) -> None:
        for i in range(3):
            client.get("customer", f"{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wire.calls) == 24
    assert counter.max == 2


def test_R31_map_concurrent_runs_everything_then_raises_first_error(
    wire: responses.RequestsMock, make_client: Any
) -> None:
    counter = InFlightCounter(hold=0.005)
    _route(wire, counter)
    client = make_client(concurrency=4)
    items = [str(i) for i in range(10)]
    items[3], items[7] = "missing-3", "missing-7"
    with pytest.raises(NetSuiteNotFound) as caught:
        client.map_concurrent(lambda i: client.get("customer", i), items)
    assert caught.value.url is not None and caught.value.url.endswith("/missing-3")
    assert len(wire.calls) == 10


def test_R31_map_concurrent_of_nothing(client: NetSuiteClient) -> None:
    assert client.map_concurrent(lambda i: i, []) == []
