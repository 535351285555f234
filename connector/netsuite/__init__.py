"""NetSuite SuiteTalk REST client for promosync (R30, R31): auth, retries, paging, batches.

Public names only; the modules behind them are private. Each module cites the Oracle pages it
relies on; docs/netsuite-facts.md says which NetSuite facts are confirmed and which are still
open. The client's own exceptions are in connector/errors.py's tree and importable from here.
"""

from connector.errors import (
    NetSuiteConnectFailed,
    NetSuiteIdempotencyConflict,
    NetSuiteJobTimeout,
    NetSuiteQueryTooLarge,
    NetSuiteTokenError,
)
from connector.netsuite._async_jobs import AsyncItemError, AsyncJobResult
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
