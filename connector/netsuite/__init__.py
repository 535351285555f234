"""NetSuite SuiteTalk REST client for promosync (R30, R31): auth, retries, paging, batches.

Public names only; the modules behind them are private. See NETSUITE.md §3-§6 for the facts the
client relies on and CONTRACTS.md for the API the sync engine uses.
"""

from connector.netsuite._async_jobs import AsyncItemError, AsyncJobResult, NetSuiteJobTimeout
from connector.netsuite._errors_table import (
    NetSuiteConnectFailed,
    NetSuiteIdempotencyConflict,
    NetSuiteTokenError,
)
from connector.netsuite._pagination import NetSuiteQueryTooLarge
from connector.netsuite._retry import RetryPolicy
from connector.netsuite._urls import account_host, account_realm, default_base_url
from connector.netsuite.auth import OAuth2ClientCredentials, TokenAuth
from connector.netsuite.client import NetSuiteClient

__all__ = [
    "AsyncItemError",
    "AsyncJobResult",
    "NetSuiteClient",
    "NetSuiteConnectFailed",
    "NetSuiteIdempotencyConflict",
    "NetSuiteJobTimeout",
    "NetSuiteQueryTooLarge",
    "NetSuiteTokenError",
    "OAuth2ClientCredentials",
    "RetryPolicy",
    "TokenAuth",
    "account_host",
    "account_realm",
    "default_base_url",
]
