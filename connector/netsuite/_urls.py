"""Account id -> host, realm and base URL; REST paths; safe path segments; ids from Location.

The account-specific host and REST paths are Oracle's
(https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1546938065.html):
account `1234567_SB1` lives at host `1234567-sb1.suitetalk.api.netsuite.com` (lower case,
`_` -> `-`, as public clients map sandbox ids), while the OAuth realm stays `1234567_SB1` (upper
case, underscore: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html).
Client and emulator share these paths.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from connector.errors import ConfigError, InputError

RECORD_PREFIX = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
ASYNC_JOB_PREFIX = "/services/rest/async/v1/job"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 (a URL path)
GOVERNANCE_PATH = "/services/rest/system/v1/governanceLimits"

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$")
_RECORD_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _check_account(account_id: str) -> str:
    account = (account_id or "").strip()
    if not _ACCOUNT_RE.match(account):
        raise ConfigError(f"NETSUITE_ACCOUNT_ID {account_id!r} is not a NetSuite account id")
    return account


def account_realm(account_id: str) -> str:
    """OAuth 1.0a realm: upper case with underscore, e.g. `1234567_SB1`."""
    return _check_account(account_id).replace("-", "_").upper()


def account_host(account_id: str) -> str:
    """REST host: lower case with dash, e.g. `1234567-sb1.suitetalk.api.netsuite.com`."""
    slug = _check_account(account_id).replace("_", "-").lower()
    return f"{slug}.suitetalk.api.netsuite.com"


def default_base_url(account_id: str) -> str:
    """Scheme and host only; NETSUITE_BASE_URL overrides it (an emulator, a proxy)."""
    return f"https://{account_host(account_id)}"


def normalize_base_url(base_url: str) -> str:
    """Strip a trailing slash and check the URL has a scheme and a host."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"NETSUITE_BASE_URL {base_url!r} is not an http(s) URL")
    return base_url.strip().rstrip("/")


def segment(value: str | int) -> str:
    """Quote one path segment so that `/`, `?`, `#`, spaces and `:` cannot change the path."""
    text = str(value)
    if not text:
        raise InputError("an empty id cannot be used in a NetSuite URL")
    return quote(text, safe="")


def record_path(record_type: str, record_id: str | int | None = None) -> str:
    """`/services/rest/record/v1/{type}[/{id}]` with the id quoted."""
    if not _RECORD_TYPE_RE.match(record_type or ""):
        raise InputError(f"{record_type!r} is not a NetSuite record type")
    path = f"{RECORD_PREFIX}/{record_type}"
    return path if record_id is None else f"{path}/{segment(record_id)}"


def eid_path(record_type: str, external_id: str) -> str:
    """`/services/rest/record/v1/{type}/eid:{externalId}` (upsert / read by external id:
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html)."""
    return f"{record_path(record_type)}/eid:{segment(external_id)}"


def job_path(job_id: str, *rest: str) -> str:
    """`/services/rest/async/v1/job/{id}` plus optional `task`, `{tid}`, `result`."""
    tail = "".join(f"/{segment(part)}" for part in rest)
    return f"{ASYNC_JOB_PREFIX}/{segment(job_id)}{tail}"


def id_from_location(location: str | None) -> str | None:
    """The trailing path segment of a Location header, e.g. `.../customer/647` -> `647`
    (a create answers 204 with the new record's Location:
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141395.html)."""
    if not location:
        return None
    path = urlsplit(location.strip()).path.rstrip("/")
    tail = path.rsplit("/", 1)[-1]
    return tail or None
