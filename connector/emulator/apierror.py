"""The one exception the emulator's layers raise to answer with a NetSuite error body.

Backend rules raise it with NetSuite's status and `o:errorCode` (NETSUITE.md §5.2); the handlers
turn it into the §5.1 body. It never carries request headers or secrets.
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
    """§5.2 INVALID_CONTENT: a value of the wrong type or not allowed, with o:errorPath."""
    return ApiError(400, "INVALID_CONTENT", detail, path)


def not_found(record_type: str, rid: str) -> ApiError:
    # UNCONFIRMED (NETSUITE.md §5.2): the REST o:errorCode for an unknown id is not documented;
    # the emulator answers 404 NONEXISTENT_ID.
    return ApiError(404, "NONEXISTENT_ID",
                    f"The record instance does not exist. Provide a valid record instance ID "
                    f"({record_type} {rid}).")
