"""R41 bad input: malformed JSON, wrong types, unknown fields, a body over 1 MB, a missing or
revoked key, a key without the scope: a 4xx with a JSON error body, nothing written, never a
traceback; API keys and the admin password never in the server's log."""

from __future__ import annotations

import json
import logging
import time

import pytest
import requests

from connector.serve.context import KEY_CACHE
from connector.serve.keys import revoke_key
from tests.serve.conftest import ADMIN_PASSWORD, Served

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}


def _refused(answer: requests.Response, status: int, kind: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["type"] == kind
    assert "Traceback" not in answer.text and "File \"" not in answer.text


@pytest.mark.parametrize(("body", "kind"), [
    (b"{\"lines\": [", "malformed_json"),
    (b"\xff\xfe not json", "malformed_json"),
    (b"[1, 2]", "invalid_body"),
    (b"{\"lines\": [{\"item\": \"A\", \"amount\": \"x\"}]}", "invalid_field"),
    (b"{\"lines\": [{\"item\": 7, \"amount\": \"1\"}]}", "invalid_field"),
    (b"{\"lines\": [{\"item\": \"A\", \"amount\": \"1\", \"quantity\": \"2\"}]}", "invalid_field"),
    (b"{\"lines\": [{\"item\": \"A\", \"amount\": \"-1\"}]}", "invalid_field"),
    (b"{\"mode\": \"refund\"}", "invalid_field"),
    (b"{\"lines\": [], \"discount\": 100}", "unknown_field"),
    (b"{\"shipping\": NaN}", "invalid_field"),
])
def test_R41_bad_bodies_are_refused_and_nothing_written(served_sqlite: Served, body: bytes,
                                                        kind: str) -> None:
    served = served_sqlite
    before = served.writes()
    answer = served.call("POST", "/v1/transactions", data=body,
                         headers={"Content-Type": "application/json", "Idempotency-Key": "k"})
    _refused(answer, 400, kind)
    assert served.writes() == before


def test_R41_a_body_over_1_mb_is_413_json(served_sqlite: Served) -> None:
    served = served_sqlite
    before = served.writes()
    big = json.dumps({"lines": [{"item": "X" * 100, "amount": "1"}] * 12_000}).encode()
    assert len(big) > 1 << 20
    _refused(served.call("POST", "/v1/transactions", data=big,
                         headers={"Content-Type": "application/json"}), 413, "body_too_large")

    def chunks() -> object:  # no Content-Length: counted as it comes
        for _ in range(20):
            yield b" " * 100_000

    _refused(served.call("POST", "/v1/transactions", data=chunks(),
                         headers={"Content-Type": "application/json"}), 413, "body_too_large")
    _refused(served.call("POST", "/v1/transactions", data=b"lines=1",
                         headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type")
    assert served.writes() == before


def test_R41_missing_unknown_revoked_or_unscoped_keys(served_sqlite: Served) -> None:
    served = served_sqlite
    before = served.writes()
    _refused(served.call("POST", "/v1/transactions", key=None, json=CART), 401, "unauthorized")
    _refused(served.call("POST", "/v1/transactions", key="psk_guessed", json=CART),
             401, "unauthorized")
    _refused(served.call("POST", "/v1/transactions", key="lists", json=CART), 403, "forbidden")
    _refused(served.call("POST", "/v1/lists/L/assign", key="register",
                         json={"user": "u", "campaign": "c"}), 403, "forbidden")
    _refused(served.call("GET", "/v1/promotions", key="webstore"), 403, "forbidden")
    assert served.call("POST", "/v1/transactions", key="webstore", json=CART).status_code == 201
    after_one = served.writes()
    revoke_key(served.store, "test-webstore")
    time.sleep(KEY_CACHE + 0.1)  # a running server re-reads a key at most once a KEY_CACHE
    _refused(served.call("POST", "/v1/transactions", key="webstore", json=CART),
             401, "unauthorized")
    assert served.writes() == after_one != before
    # the admin scope may do everything
    assert served.call("POST", "/v1/transactions", key="admin", json=CART).status_code == 201


def test_R41_a_key_in_use_is_read_again_before_it_ages_out(served_sqlite: Served) -> None:
    """Past half its KEY_CACHE, a known key still answers at once and is read again in the
    background; a revoked key read that way is dropped, so the next request is refused."""
    served = served_sqlite
    ctx = served.app.state.ctx
    presented = served.keys["webstore"]
    assert served.call("POST", "/v1/transactions", key="webstore", json=CART).status_code == 201

    def age_the_entry() -> float:
        digest = next(iter(d for d, (k, _) in ctx._keys.items() if k.name == "test-webstore"))
        key, _read = ctx._keys[digest]
        aged = time.monotonic() - KEY_CACHE * 0.75
        ctx._keys[digest] = (key, aged)
        return aged

    def read_again() -> None:
        deadline = time.monotonic() + 10
        while ctx._reading and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not ctx._reading

    aged = age_the_entry()
    assert ctx.known_key(presented) is not None
    read_again()
    assert [when for k, when in ctx._keys.values() if k.name == "test-webstore"][0] > aged

    revoke_key(served.store, "test-webstore")
    age_the_entry()
    assert ctx.known_key(presented) is not None  # still within KEY_CACHE of its last read
    read_again()
    assert ctx.known_key(presented) is None
    _refused(served.call("POST", "/v1/transactions", key="webstore", json=CART),
             401, "unauthorized")


def test_R41_unknown_paths_and_methods_answer_json(served_sqlite: Served) -> None:
    served = served_sqlite
    _refused(served.call("GET", "/v1/nothing"), 404, "not_found")
    _refused(served.call("PUT", "/v1/validate", json={}), 405, "method_not_allowed")


def test_R41_keys_and_password_never_in_the_log(served_sqlite: Served,
                                                server_log: pytest.LogCaptureFixture) -> None:
    served = served_sqlite
    served.store.set_setting("single_use_format", "su")  # a refused scan logs nothing secret
    served.call("POST", "/v1/validate", json={"code": "bad"})
    served.call("POST", "/v1/transactions", key="psk_" + "z" * 43, json=CART)
    served.call("POST", "/v1/transactions", key="lists", json=CART)
    session = requests.Session()
    page = session.get(served.url + "/admin/sign-in", timeout=30)
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    for secret in (ADMIN_PASSWORD, "wrong " + ADMIN_PASSWORD, served.keys["admin"]):
        session.post(served.url + "/admin/sign-in", data={"csrf": csrf, "secret": secret},
                     timeout=30)
    logged = "\n".join(r.getMessage() + repr(r.args) for r in server_log.records)
    assert server_log.records, "the refused sign-in is logged"
    for secret in (*served.keys.values(), ADMIN_PASSWORD, "z" * 43):
        assert secret not in logged
    assert not [r for r in server_log.records if r.levelno >= logging.ERROR]
