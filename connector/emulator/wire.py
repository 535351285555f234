"""Transport-neutral request and response objects shared by both transports and the routes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class Drop(Exception):
    """Fault: the transport must drop the connection without answering."""


class CaseInsensitiveHeaders(dict[str, str]):
    """Header lookup ignoring case (keys stored lower-case)."""

    def __init__(self, items: Mapping[str, str | bytes] | None = None) -> None:
        super().__init__()
        for k, v in (items or {}).items():
            # requests-oauthlib hands the Authorization header over as bytes
            self[k.lower()] = v.decode("latin-1") if isinstance(v, bytes) else v

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class Request:
    """One HTTP request as the routes see it. `url` is the full URL the client signed."""

    method: str
    url: str
    headers: CaseInsensitiveHeaders
    body: bytes = b""
    path: str = field(init=False)
    query: dict[str, str] = field(init=False)
    base_url: str = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.method = self.method.upper()
        self.path = parts.path or "/"
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.base_url = f"{parts.scheme}://{parts.netloc}"

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    """Status, headers and body bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(cls, status: int, data: Any, content_type: str = "application/json",
                headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return cls(status, {"Content-Type": content_type, **(headers or {})}, body)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None
