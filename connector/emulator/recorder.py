"""Record a session against a real account, secrets scrubbed, and replay it (R35).

`Recorder` wraps a requests.Session: every exchange through it is kept (method, path, query,
request body, status, headers, response body) and `save()` writes them as JSON where the user
says: `save("out/session.json")` writes that file, `save("session", folder)` or
`Recorder(directory=folder)` writes folder/session.json, and by default `save("session")` writes
./netsuite-recordings/session.json in the current directory (never inside the installed
package). Before writing, Authorization/Cookie headers are dropped,
OAuth 2.0 access tokens and client assertions masked, every configured secret value replaced,
and account ids (`1234567_SB1`, `1234567-sb1`, any case) replaced by ACCOUNT, in hosts too.
`Replayer` serves a recording through `responses`, in order per (method, path), so the same
client code can run against what the real account answered.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import responses
from requests.adapters import BaseAdapter

MASK = "<scrubbed>"
ACCOUNT = "ACCOUNT"
RECORDINGS = Path("netsuite-recordings")  # relative: a folder in the current directory
_DROP_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
_MASK_KEYS = {"access_token", "client_assertion", "refresh_token", "id_token"}


def _account_variants(account_ids: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for acct in account_ids:
        out.update({acct, acct.upper(), acct.lower(), acct.replace("_", "-").lower(),
                    acct.replace("_", "-").upper()})
    return sorted(out, key=len, reverse=True)


def scrub(data: Any, secrets: Iterable[str] = (), account_ids: Iterable[str] = ()) -> Any:
    """A copy of `data` (JSON-like) with secrets, tokens and account ids removed."""
    text = json.dumps(_mask_keys(data))
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(json.dumps(secret)[1:-1], MASK)
    for acct in _account_variants(a for a in account_ids if a):
        text = re.sub(re.escape(acct), ACCOUNT, text, flags=re.IGNORECASE)
    return json.loads(text)


def _mask_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: MASK if k in _MASK_KEYS else _mask_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_mask_keys(v) for v in data]
    return data


def _body(raw: bytes | str | None, content_type: str) -> Any:
    if raw is None or raw == b"" or raw == "":
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type:
        return {"form": dict(parse_qsl(text, keep_blank_values=True))}
    return text


def _raw(body: object) -> bytes | str | None:
    return body if isinstance(body, bytes | str) else None


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class _RecordingAdapter(BaseAdapter):
    """Delegates to the session's adapter and keeps each exchange."""

    def __init__(self, inner: BaseAdapter, recorder: Recorder) -> None:
        super().__init__()
        self.inner = inner
        self.recorder = recorder

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        response = self.inner.send(request, *args, **kwargs)
        self.recorder.add(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


class Recorder:
    """Wraps `session` (a fresh one by default); `save(name)` writes the scrubbed exchanges."""

    def __init__(self, session: requests.Session | None = None, *, secrets: Iterable[str] = (),
                 account_ids: Iterable[str] = (), directory: Path | str | None = None) -> None:
        self.session = session or requests.Session()
        self.directory = Path(directory) if directory is not None else None
        self.secrets = set(secrets)
        self.account_ids = list(account_ids)
        self.exchanges: list[dict[str, Any]] = []
        for prefix in ("https://", "http://"):
            inner = self.session.get_adapter(prefix + "example.com")
            self.session.mount(prefix, _RecordingAdapter(inner, self))

    def add(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        req_type = str(request.headers.get("Content-Type", ""))
        resp_type = str(response.headers.get("Content-Type", ""))
        resp_body = _body(response.content, resp_type)
        if isinstance(resp_body, dict) and isinstance(resp_body.get("access_token"), str):
            self.secrets.add(resp_body["access_token"])  # never written, even in a header
        parts = urlsplit(str(request.url))
        self.exchanges.append({
            "method": request.method, "host": parts.netloc, "path": parts.path,
            "query": parts.query,
            "request": {"headers": {k: _text(v) for k, v in request.headers.items()
                                    if k.lower() not in _DROP_HEADERS},
                        "body": _body(_raw(request.body), req_type)},
            "response": {"status": response.status_code,
                         "headers": {k: v for k, v in response.headers.items()
                                     if k.lower() not in _DROP_HEADERS},
                         "body": resp_body}})

    def scrubbed(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = scrub(self.exchanges, self.secrets, self.account_ids)
        return out

    def save(self, name: str | Path, directory: Path | str | None = None) -> Path:
        """Write the scrubbed exchanges; returns the file written.

        `name` with a folder or a `.json` suffix is the file itself; otherwise the file is
        {name}.json in `directory`, else in the recorder's directory, else in
        ./netsuite-recordings (resolved against the current directory when saving)."""
        given = Path(name)
        if directory is None and (given.suffix == ".json" or len(given.parts) > 1):
            path = given
        else:
            folder = Path(directory) if directory is not None else \
                self.directory if self.directory is not None else RECORDINGS
            path = folder / (given.name if given.suffix == ".json" else f"{given.name}.json")
        path = path.resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"exchanges": self.scrubbed()}, indent=1), encoding="utf-8")
        return path


class Replayer:
    """`with Replayer(path, base_url):` answers each (method, path) with its next recording."""

    def __init__(self, path: Path | str, base_url: str) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        self.base_url = base_url.rstrip("/")
        host = urlsplit(self.base_url).netloc
        self.queues: dict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(deque)
        for ex in data["exchanges"]:
            self.queues[(ex["method"], ex["path"])].append(ex)
        self._host = host
        self._mock: responses.RequestsMock | None = None

    def remaining(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def _callback(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        key = (str(request.method), urlsplit(str(request.url)).path)
        queue = self.queues.get(key)
        if not queue:
            raise requests.exceptions.ConnectionError(
                f"Replayer: no recorded exchange left for {key[0]} {key[1]}", request=request)
        ex = queue.popleft()
        resp = ex["response"]
        body = resp["body"]
        text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
        headers = {k: self._unscrub(v) for k, v in resp["headers"].items()
                   if k.lower() not in ("content-length", "connection", "transfer-encoding")}
        return int(resp["status"]), headers, self._unscrub(text)

    def _unscrub(self, text: str) -> str:
        """Point scrubbed hosts (ACCOUNT.suitetalk...) at the host being replayed."""
        return text.replace(f"{ACCOUNT}.suitetalk", self._host.split(".")[0] + ".suitetalk")

    def __enter__(self) -> Replayer:
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        pattern = re.compile(re.escape(self.base_url) + r"(/.*)?$")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, pattern, callback=self._callback, content_type=None)
        mock.start()
        self._mock = mock
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock.reset()
            self._mock = None
