"""Errors as HTTP answers: a status and a JSON body, never a traceback.

Every error body has one shape:

    {"error": {"type": "code_expired", "message": "This coupon code has expired",
               "rule": "R13", "code": "SU-..."}}

`message` is the exact text of connector/errors.py (R13/R14 word for word); `rule` names the
rule that refused, where one does; `type` is stable, for programs to branch on.
"""

from __future__ import annotations

from typing import Any

from connector.errors import (
    AlreadyRedeemed,
    AlreadyScanned,
    CodeExpired,
    CodeNotYetValid,
    ConnectorError,
    DistributionError,
    InputError,
    InvalidFormat,
    NoLongerValid,
    NotNormalMode,
    PromotionUnavailable,
    RedemptionError,
    SingleUseDisabled,
    StoreError,
    StoreOffline,
    UnknownCode,
    WrongCustomer,
)

# class -> (HTTP status, rule, type)
REDEMPTION: dict[type[RedemptionError], tuple[int, str, str]] = {
    NotNormalMode: (422, "R13", "not_normal_mode"),
    InvalidFormat: (422, "R13", "invalid_format"),
    UnknownCode: (422, "R13", "unknown_code"),
    PromotionUnavailable: (422, "R13", "promotion_unavailable"),
    AlreadyScanned: (409, "R13", "already_scanned"),
    CodeExpired: (422, "R13", "code_expired"),
    AlreadyRedeemed: (422, "R13", "already_redeemed"),
    WrongCustomer: (422, "R13", "wrong_customer"),
    StoreOffline: (503, "R13", "store_offline"),
    NoLongerValid: (409, "R14", "no_longer_valid"),
    SingleUseDisabled: (422, "R19", "single_use_disabled"),
    CodeNotYetValid: (422, "R3", "not_yet_valid"),
}


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request's handling."""

    def __init__(self, status: int, type_: str, message: str, *, rule: str | None = None,
                 headers: dict[str, str] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.rule = rule
        self.headers = headers or {}
        self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.rule is not None:
            error["rule"] = self.rule
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


def refusal(exc: RedemptionError) -> ApiError:
    """R13/R14 (and R3, R19) refusals: the rule id and the exact message."""
    status, rule, type_ = next((v for cls, v in REDEMPTION.items() if isinstance(exc, cls)),
                               (422, "R13", "refused"))
    return ApiError(status, type_, exc.message, rule=rule, code=exc.code or None)


def from_connector(exc: ConnectorError) -> ApiError:
    """Any promosync error as an answer; its text is already fit for a user (no secrets)."""
    if isinstance(exc, RedemptionError):
        return refusal(exc)
    if isinstance(exc, DistributionError):
        return ApiError(409, "list_finished", str(exc), rule="R21")
    if isinstance(exc, InputError):
        return ApiError(400, "invalid_input", str(exc))
    if isinstance(exc, StoreError):
        return ApiError(503, "store_unavailable", str(exc))
    return ApiError(500, "internal_error", "the server could not do this; see its log")


def not_found() -> ApiError:
    return ApiError(404, "not_found", "no such endpoint; see /openapi.json")
