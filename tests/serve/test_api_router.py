"""R41: the API's requests go straight from the ASGI scope to their endpoint (api_router.py),
past Starlette's router, and answer as the routes did: paths with a list name that holds a
slash, every endpoint reachable, and a failure in the server a JSON 500, never a traceback."""

from __future__ import annotations

import logging

import pytest

from connector import Distributor
from connector.serve import api, api_router, intake
from connector.serve.api import ENDPOINTS
from tests.serve.conftest import Served


def test_R41_api_paths_match_as_the_routes_did() -> None:
    lists = api_router.pattern("/v1/lists/{name}/assign")
    found = lists.fullmatch("/v1/lists/team/north/assign")
    assert found is not None and found.groupdict() == {"name": "team/north"}
    codes = api_router.pattern("/v1/transactions/{sale}/codes/{code}")
    found = codes.fullmatch("/v1/transactions/T-1/codes/SU-ABC")
    assert found is not None and found.groupdict() == {"sale": "T-1", "code": "SU-ABC"}
    assert codes.fullmatch("/v1/transactions/T-1/codes/SU-ABC/more") is None
    assert api_router.pattern("/v1/validate").fullmatch("/v1/validatex") is None


def test_R41_every_endpoint_but_messages_is_routed_directly(served_sqlite: Served) -> None:
    served_sqlite.call("GET", "/healthz", key=None)  # Starlette builds its stack then
    layer = served_sqlite.app.middleware_stack
    while layer is not None and not isinstance(layer, api_router.ApiRouter):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, api_router.ApiRouter)
    direct = {(method, endpoint.work.__name__) for method, rows in layer.table.items()
              for _regex, endpoint in rows}
    wanted = {(m, e.work.__name__) for m, _p, e in ENDPOINTS if e.work is not api.messages}
    assert direct == wanted


def test_R21_a_list_whose_name_holds_a_slash_is_assigned_through_the_api(
        served_sqlite: Served) -> None:
    lists = Distributor(served_sqlite.store)
    lists.create("team/north", codes=["GIFT-0001", "GIFT-0002"])
    given = served_sqlite.call("POST", "/v1/lists/team/north/assign", key="lists",
                               json={"user": "u-1", "campaign": "winter"})
    assert given.status_code == 200, given.text
    assert given.json()["code"] in {"GIFT-0001", "GIFT-0002"}


def test_R41_a_failure_inside_the_server_is_a_json_500_with_the_traceback_in_the_log(
        served_sqlite: Served, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the server")

    monkeypatch.setattr(intake, "facts_of", broken)
    with caplog.at_level(logging.ERROR, logger="connector.serve"):
        answer = served_sqlite.call("POST", "/v1/validate", json={"code": "X"})
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "internal_error"
    assert "a bug in the server" not in answer.text and "Traceback" not in answer.text
    assert any("a bug in the server" in str(r.exc_info[1]) for r in caplog.records
               if r.exc_info)
