"""In-process transport: `mock_netsuite` intercepts requests to the NetSuite host via `responses`.

Every method on `base_url` (by default the host of the account: `mock_netsuite(account_id=
"TSTDRV42")` plays account TSTDRV42 at https://tstdrv42.suitetalk.api.netsuite.com) goes to the
emulator's router. A request to any other host fails at once with `HostNotIntercepted`, naming
the host and the one that is intercepted - not a connection error a client would retry. A fault
that drops the connection raises requests.exceptions.ConnectionError, as a real dropped socket
would.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable
from contextlib import ContextDecorator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import responses

from connector.emulator.backend import NetSuiteBackend
from connector.emulator.core import Emulator
from connector.emulator.faults import Faults
from connector.emulator.options import (
    DEFAULT_ACCOUNT,
    Credentials,
    EmulatorOptions,
    host_for_account,
)
from connector.emulator.wire import CaseInsensitiveHeaders, Drop, Request

DEFAULT_BASE_URL = f"https://{host_for_account(DEFAULT_ACCOUNT)}"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
F = TypeVar("F", bound=Callable[..., Any])


class HostNotIntercepted(RuntimeError):
    """A request went to a host `mock_netsuite` does not intercept (not retryable: a test
    pointed its client at the wrong account or URL)."""


class mock_netsuite(ContextDecorator):  # noqa: N801 - reads like responses' / moto's helpers
    """`with mock_netsuite() as emu:` or `@mock_netsuite()`; a decorated function that takes a
    parameter named `netsuite` receives the emulator.

    `account_id` plays that account (its realm, its host); `base_url` overrides the host."""

    def __init__(self, options: EmulatorOptions | None = None,
                 base_url: str | None = None, account_id: str | None = None) -> None:
        if account_id is not None:
            opts = options or EmulatorOptions()
            creds = dataclasses.replace(opts.credentials, account_id=account_id)
            options = dataclasses.replace(opts, credentials=creds)
        account = options.credentials.account_id if options is not None else DEFAULT_ACCOUNT
        self.base_url = (base_url or f"https://{host_for_account(account)}").rstrip("/")
        self._options = options
        self.emulator = Emulator(options)
        self._mock: responses.RequestsMock | None = None

    # ---- what tests use ----------------------------------------------------------------------
    @property
    def backend(self) -> NetSuiteBackend:
        return self.emulator.backend

    @property
    def credentials(self) -> Credentials:
        return self.emulator.credentials

    @property
    def faults(self) -> Faults:
        return self.emulator.faults

    @property
    def url(self) -> str:
        return self.base_url

    def stats(self) -> dict[str, Any]:
        return self.emulator.stats()

    def reset(self) -> None:
        self.emulator.reset()

    def refresh(self, mode: str, **values: str) -> dict[str, Any]:
        """Play a sandbox refresh (save, wipe, older, tokens: see emulator/refresh.py)."""
        return self.emulator.control.refresh({"mode": mode, **values})

    # ---- wiring ----------------------------------------------------------------------------------
    def _callback(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        raw: object = prepared.body
        if isinstance(raw, str):
            body = raw.encode("utf-8")
        elif isinstance(raw, bytes) or raw is None:
            body = raw or b""
        else:  # an iterable of chunks
            body = b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in raw)  # type: ignore[attr-defined]
        req = Request(str(prepared.method or "GET"), str(prepared.url),
                      CaseInsensitiveHeaders(dict(prepared.headers)), body)
        try:
            resp = self.emulator.dispatch(req)
        except Drop:
            raise requests.exceptions.ConnectionError(
                "Connection aborted by the NetSuite emulator (injected fault)",
                request=prepared) from None
        return resp.status, resp.headers, resp.body

    def _elsewhere(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(str(prepared.url))
        hint = ""
        host = parts.hostname or ""
        if host.endswith(".suitetalk.api.netsuite.com"):
            account = host.split(".")[0].upper().replace("-", "_")
            hint = f" (for account {account}: mock_netsuite(account_id={account!r}))"
        raise HostNotIntercepted(
            f"mock_netsuite intercepts {self.base_url}, not {parts.scheme}://{parts.netloc}: "
            f"{prepared.method} {prepared.url} was not sent anywhere{hint}")

    def __enter__(self) -> mock_netsuite:
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        pattern = re.compile(re.escape(self.base_url) + r"(/.*)?$")
        for method in _METHODS:
            mock.add_callback(method, pattern, callback=self._callback, content_type=None)
        # Anything else fails at once, naming its host. The two patterns must not overlap:
        # responses pops the first of several matching registrations.
        elsewhere = re.compile(r"(?!" + re.escape(self.base_url) + r"(?:/|$)).*")
        for method in _METHODS:
            mock.add_callback(method, elsewhere, callback=self._elsewhere, content_type=None)
        mock.start()
        self._mock = mock
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock.reset()
            self._mock = None
        self.emulator.backend.close()

    def __call__(self, func: F) -> F:
        sig = inspect.signature(func)
        wants = "netsuite" in sig.parameters

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_netsuite(self._options, self.base_url) as emu:
                if wants:
                    kwargs["netsuite"] = emu
                return func(*args, **kwargs)
        if wants:  # hide the injected parameter (pytest would look for a fixture of that name)
            params = [p for n, p in sig.parameters.items() if n != "netsuite"]
            wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]
