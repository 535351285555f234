"""Request bodies of the HTTP API: JSON objects of known fields and types, or a 400.

Strict: a field of the wrong type is refused ("1" is not a number, 2.0 is not a whole number),
an unknown field is refused, and malformed JSON is refused, each with one line that names the
field and never repeats the input. Amounts are JSON numbers or decimal strings ("40.00").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.serve.refusals import ApiError
from connector.text import shown

MAX_BODY = 1 << 20  # bytes
Text = Annotated[str, Field(min_length=1, max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LineBody(_Body):
    item: Text
    amount: Amount
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1


class OpenBody(_Body):
    customer: Text | None = None
    mode: Literal["normal", "returns", "transfers"] = "normal"
    lines: Annotated[list[LineBody], Field(max_length=1000)] = []
    shipping: Amount = Decimal(0)


class ValidateBody(OpenBody):
    code: Code


class ScanBody(_Body):
    code: Code


class CustomerBody(_Body):
    customer: Text | None


class EmptyBody(_Body):
    pass


class AssignBody(_Body):
    user: Text
    campaign: Text
    external_id: Text | None = None
    template: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    date_format: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    sms: bool = False


class UserBody(_Body):
    user: Text
    external_id: Text | None = None


class MessagesBody(_Body):
    campaign: Text
    users: Annotated[list[UserBody], Field(min_length=1, max_length=10_000)]
    template: Annotated[str, Field(min_length=1, max_length=2000)]
    date_format: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    sms: bool = False


B = TypeVar("B", bound=_Body)


def parse(model: type[B], raw: bytes) -> B:
    """`raw` as a `model`; an empty body is `{}`. Raises ApiError 400."""
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> ApiError:
    first = exc.errors(include_url=False, include_input=False)[0]
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return ApiError(400, "malformed_json", "the body is not valid JSON")
    where = ".".join(str(p) for p in first.get("loc", ()))
    if kind == "model_type":
        return ApiError(400, "invalid_body", "the body must be a JSON object")
    if kind == "extra_forbidden":
        return ApiError(400, "unknown_field", f"unknown field {shown(where)}")
    message = str(first.get("msg", "invalid value"))
    message = message[:1].lower() + message[1:]
    return ApiError(400, "invalid_field", f"{shown(where or 'body', quote=False)}: {message}")
