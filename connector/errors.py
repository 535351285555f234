"""Every exception promosync raises, and every message a user reads for them.

The tree (callers branch on classes, never on message text)::

    ConnectorError                      exit code 1 unless a subclass says otherwise
    ├── ConfigError                     settings, credentials, mapping files (exit 2)
    │   ├── DiscountTypeContradicted    NetSuite reads a written discountType the other way
    │   └── AccountRefreshed            NetSuite no longer holds what the store links (a refresh)
    ├── DiscountTypeUnknown             the account does not say which value means percent
    ├── InputError                      counts, patterns, files, arguments
    │   └── FileInputError              a file with bad lines: every problem with its line number
    ├── RedemptionError                 one subclass per message of R13/R14; `message` is the text
    ├── DistributionError               coupon lists (R20-R23)
    ├── StoreError                      the local store
    │   ├── NotAStoreError              the database is not a promosync store
    │   ├── StoreVersionError           the store was written by a newer promosync
    │   └── SyncLocked                  another sync run holds the lock (exit 3)
    └── NetSuiteError                   status, error_code, detail, error_path, method, url
        ├── NetSuiteConnectionError     dropped connection, timeout (retryable)
        │   └── NetSuiteConnectFailed   never connected: the request cannot have reached NetSuite
        ├── NetSuiteRateLimited         429 / CONCURRENCY_LIMIT_EXCEEDED (retryable)
        ├── NetSuiteServerError         5xx (retryable)
        ├── NetSuiteBadRequest          400
        │   ├── NetSuiteIdempotencyConflict   IDEMPOTENCY_ERROR: the key was used; `location`
        │   └── NetSuiteQueryTooLarge   offset paging would pass the 100,000-row cap
        ├── NetSuiteAuthError           401
        │   └── NetSuiteTokenError      the OAuth 2.0 token endpoint refused the client
        ├── NetSuiteForbidden           403
        ├── NetSuiteNotFound            404
        ├── NetSuiteJobTimeout          an asynchronous job did not finish in the time allowed
        └── NetSuiteBadResponse         2xx/4xx/5xx whose body is not what NetSuite sends

No exception carries a secret: NetSuite errors hold the URL and NetSuite's own error text,
never request headers or bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

# R9: generation counts.
MSG_COUNT_NOT_POSITIVE = "Please enter a valid count greater than 0."
MSG_COUNT_TOO_LARGE = "Count cannot exceed 1,000,000."
# R10: customer-bound generation.
MSG_NO_CUSTOMER_CODES = "No valid customer codes found in the file."
MSG_TOO_MANY_CUSTOMER_CODES = "File contains more than 1,000,000 customer codes."
MSG_NO_CODES_GENERATED = (
    "No codes were generated. Verify that the imported customer codes exist in the system."
)

MAX_BATCH = 1_000_000


class ConnectorError(Exception):
    """Base of every promosync error; `exit_code` is what the CLI returns for it."""

    exit_code: ClassVar[int] = 1


class ConfigError(ConnectorError):
    """Settings, credentials or a mapping file are missing or wrong."""

    exit_code = 2


class DiscountTypeContradicted(ConfigError):
    """NetSuite read a written discountType as the other meaning: the run stops (exit 2)."""


class AccountRefreshed(ConfigError):
    """The NetSuite account no longer holds what the store links to (a sandbox refreshed from
    production or an older copy): nothing is written until `sync rebaseline` (exit 2)."""


class DiscountTypeUnknown(ConnectorError):
    """The account does not say which discountType value means percent: a percent or amount
    promotion is refused until the mapping states the values."""


class InputError(ConnectorError):
    """A value a user gave is not acceptable; nothing was written."""


class FileInputError(InputError):
    """A file has bad lines. `problems` lists (line number, what is wrong), first lines first."""

    def __init__(self, path: str, problems: Sequence[tuple[int, str]], limit: int = 20) -> None:
        self.path = path
        self.problems = list(problems)
        shown = "; ".join(f"line {n}: {why}" for n, why in self.problems[:limit])
        more = len(self.problems) - limit
        tail = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"{path}: {shown}{tail}; nothing was stored")


class RedemptionError(ConnectorError):
    """A code cannot be scanned or committed; `message` is the exact text of R13/R14 (the two
    refusals no rule words, SingleUseDisabled and CodeNotYetValid, in the CLI's own style)."""

    message: ClassVar[str] = "This coupon code cannot be used"

    def __init__(self, code: str | None = None, detail: str | None = None) -> None:
        self.code = code
        self.detail = detail
        super().__init__(self.message)


class NotNormalMode(RedemptionError):
    message = "Single-use coupons can only be redeemed in Normal mode"


class InvalidFormat(RedemptionError):
    message = "Invalid single-use coupon format"


class UnknownCode(RedemptionError):
    message = "Invalid coupon code"


class PromotionUnavailable(RedemptionError):
    message = "This coupon code is not valid. Please contact support."


class AlreadyScanned(RedemptionError):
    message = "This coupon code has already been scanned"


class CodeExpired(RedemptionError):
    message = "This coupon code has expired"


class AlreadyRedeemed(RedemptionError):
    message = "This coupon code has already been redeemed"


class WrongCustomer(RedemptionError):
    message = "This coupon is not valid for this customer"


class StoreOffline(RedemptionError):
    message = "Single-use coupons require an online connection"


class NoLongerValid(RedemptionError):
    message = "Coupon is no longer valid. Remove it and try again."


class SingleUseDisabled(RedemptionError):
    message = "single-use coupon codes are turned off (settings set single_use_codes on)"


class CodeNotYetValid(RedemptionError):
    message = "this coupon code is not valid yet"


class DistributionError(ConnectorError):
    """A coupon list cannot hand out a code."""


class StoreError(ConnectorError):
    """The local store cannot be opened or used."""


class NotAStoreError(StoreError):
    """The database exists but is not a promosync store."""


class StoreVersionError(StoreError):
    """The store's schema is newer than this promosync understands."""


class SyncLocked(StoreError):
    """Another sync run holds the lock."""

    exit_code = 3


class NetSuiteError(ConnectorError):
    """NetSuite answered with an error, or could not be reached.

    Carries NetSuite's status, `o:errorCode`, detail and `o:errorPath`, plus the method and URL
    (never headers, bodies or credentials). `retryable` is the only thing the retry policy reads.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        detail: str | None = None,
        error_path: str | None = None,
        method: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.detail = detail
        self.error_path = error_path
        self.method = method
        self.url = url
        self.retry_after = retry_after
        super().__init__(message)


class NetSuiteConnectionError(NetSuiteError):
    retryable = True


class NetSuiteConnectFailed(NetSuiteConnectionError):
    """The connection was never established, so the request cannot have reached NetSuite."""


class NetSuiteRateLimited(NetSuiteError):
    retryable = True


class NetSuiteServerError(NetSuiteError):
    retryable = True


class NetSuiteBadRequest(NetSuiteError):
    pass


class NetSuiteIdempotencyConflict(NetSuiteBadRequest):
    """400 `IDEMPOTENCY_ERROR`: this idempotency key was used before; `location` is that job.
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html"""

    def __init__(self, message: str, *, location: str | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.location = location


class NetSuiteQueryTooLarge(NetSuiteBadRequest):
    """Offset paging would pass NetSuite's 100,000-row cap; use keyset paging instead.
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html"""


class NetSuiteAuthError(NetSuiteError):
    exit_code = 2


class NetSuiteTokenError(NetSuiteAuthError):
    """The OAuth 2.0 token endpoint refused the client assertion (`invalid_client`, ...)."""


class NetSuiteForbidden(NetSuiteError):
    exit_code = 2


class NetSuiteNotFound(NetSuiteError):
    pass


class NetSuiteJobTimeout(NetSuiteError):
    """An asynchronous job did not complete within the polling time allowed."""


class NetSuiteBadResponse(NetSuiteError):
    pass
