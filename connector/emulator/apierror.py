"""The one exception the emulator's layers raise to answer with a NetSuite error body.

Backend rules raise it with NetSuite's status and `o:errorCode`; the handlers turn it into
Oracle's error body (section_156570709583). It never carries request headers or secrets.
"""

from __future__ import annotations


class ApiError(Exception):
    """A NetSuite error answer: status, o:errorCode, detail, optional o:errorPath and headers."""

    def __init__(self, status: int, code: str, detail: str, path: str | None = None,
                 *, title: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.title = title
        self.headers = headers or {}


def bad_request(code: str, detail: str, path: str | None = None) -> ApiError:
    return ApiError(400, code, detail, path)


def invalid_content(detail: str, path: str | None = None) -> ApiError:
    """INVALID_CONTENT (Oracle section_156570709583): a value of the wrong type or not
    allowed, with o:errorPath."""
    return ApiError(400, "INVALID_CONTENT", detail, path)


def not_found(record_type: str, rid: str) -> ApiError:
    # UNCONFIRMED: the REST o:errorCode for an unknown id is not documented;
    # the emulator answers 404 NONEXISTENT_ID.
    return ApiError(404, "NONEXISTENT_ID",
                    f"The record instance does not exist. Provide a valid record instance ID "
                    f"({record_type} {rid}).")
