"""The HTTP API's endpoints (R41): what each does, through `Register` and `Distributor`.

Every endpoint is a row of ENDPOINTS: method, path, scopes, body model and work. The work runs
on the server's thread pool (gateway.py) and returns (status, payload) or raises: refusals of
R13/R14 become 4xx answers with the rule id and the exact message (refusals.py).

Under an Idempotency-Key on PostgreSQL, a scan and a payment claim the key, do the work and keep
the answer in one call of the store (`scan_keyed`, `pay_keyed`; gateway.OneTrip).

`POST /v1/validate` answers "would this code apply to this cart, and what would it give" with
`Register.check`, the dry run of a scan: the rules, messages and discount of a scan onto a new
transaction with this cart, in one read of the store. Nothing is held, used or written (the
code's history does not show a validate); a refusal counts against the guard as a scan's does.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from connector import Line, code_history
from connector.codes import normalize
from connector.serve import dashboard
from connector.serve.bodies import (
    AssignBody,
    CustomerBody,
    EmptyBody,
    MessagesBody,
    OpenBody,
    ScanBody,
    ValidateBody,
)
from connector.serve.context import Context
from connector.serve.gateway import Call, Endpoint, OneTrip
from connector.serve.handout import hand_out
from connector.serve.messages import Probe, Template, longest_code
from connector.serve.refusals import ApiError
from connector.store.schema import utcnow

if TYPE_CHECKING:
    from connector.redeem.results import CheckedCode
    from connector.redeem.server_functions import KeyClaim
    from connector.store.loop_connections import LoopConnections

REDEEM = frozenset({"register", "webstore"})
LISTS = frozenset({"lists"})
ADMIN = frozenset({"admin"})


def _lines(body: OpenBody) -> list[Line]:
    return [Line.make(x.item, x.amount, x.quantity) for x in body.lines]


def validate(ctx: Context, call: Call) -> tuple[int, Any]:
    body: ValidateBody = call.body
    checked = ctx.register_for(call.key).check(body.code, customer=body.customer,
                                               mode=body.mode, lines=_lines(body),
                                               shipping=body.shipping)
    return _validated(checked)


async def validate_on(ctx: Context, call: Call, lines: LoopConnections
                      ) -> tuple[int, Any] | None:
    """`validate` on the event loop (fast_lane.py); None when only the thread path can tell."""
    body: ValidateBody = call.body
    checked = await ctx.register_for(call.key).check_on(
        lines, body.code, customer=body.customer, mode=body.mode, lines=_lines(body),
        shipping=body.shipping)
    return None if checked is None else _validated(checked)


def _validated(checked: CheckedCode) -> tuple[int, Any]:
    return 200, {"valid": True, "code": checked.code, "promotion": checked.promotion,
                 "discount": checked.discount, "override": checked.override,
                 "expires_on": checked.expires_on}


def open_sale(ctx: Context, call: Call) -> tuple[int, Any]:
    body: OpenBody = call.body
    sale = ctx.register_for(call.key).open(customer=body.customer, mode=body.mode,
                                           lines=_lines(body), shipping=body.shipping)
    return 201, sale


def show_sale(ctx: Context, call: Call) -> tuple[int, Any]:
    return 200, ctx.register_for(call.key).show(call.params["sale"])


def scan(ctx: Context, call: Call) -> tuple[int, Any]:
    body: ScanBody = call.body
    return 201, ctx.register_for(call.key).scan(call.params["sale"], body.code)


def scan_keyed(ctx: Context, call: Call, claim: KeyClaim) -> Any:
    """`scan` and its Idempotency-Key in one call of a PostgreSQL store (gateway.OneTrip)."""
    server = ctx.register_for(call.key).server_functions
    body: ScanBody = call.body
    return None if server is None else server.keyed_scan(call.params["sale"],
                                                         normalize(body.code), claim)


def pay_keyed(ctx: Context, call: Call, claim: KeyClaim) -> Any:
    """`pay` and its Idempotency-Key in one call of a PostgreSQL store (gateway.OneTrip)."""
    server = ctx.register_for(call.key).server_functions
    return None if server is None else server.keyed_pay(call.params["sale"], claim)


async def scan_keyed_on(ctx: Context, call: Call, claim: KeyClaim,
                        lines: LoopConnections) -> Any:
    """`scan_keyed` on the event loop (fast_lane.py)."""
    server = ctx.register_for(call.key).server_functions
    body: ScanBody = call.body
    return None if server is None else await server.keyed_scan_on(
        lines, call.params["sale"], normalize(body.code), claim)


async def pay_keyed_on(ctx: Context, call: Call, claim: KeyClaim,
                       lines: LoopConnections) -> Any:
    """`pay_keyed` on the event loop (fast_lane.py)."""
    server = ctx.register_for(call.key).server_functions
    return None if server is None else await server.keyed_pay_on(lines, call.params["sale"],
                                                                 claim)


def _held_from(reply: Any) -> Any:
    # imported here: it needs psycopg, which only a PostgreSQL store installs
    from connector.redeem.server_functions import held_from

    return held_from(reply)


def _payment_from(reply: Any) -> Any:
    from connector.redeem.server_functions import payment_from

    return payment_from(reply)


def remove(ctx: Context, call: Call) -> tuple[int, Any]:
    return 200, ctx.register_for(call.key).remove(call.params["sale"], call.params["code"])


def customer(ctx: Context, call: Call) -> tuple[int, Any]:
    body: CustomerBody = call.body
    return 200, ctx.register_for(call.key).set_customer(call.params["sale"], body.customer)


def pay(ctx: Context, call: Call) -> tuple[int, Any]:
    return 200, ctx.register_for(call.key).pay(call.params["sale"])


def cancel(ctx: Context, call: Call) -> tuple[int, Any]:
    return 200, ctx.register_for(call.key).cancel(call.params["sale"])


def assign(ctx: Context, call: Call) -> tuple[int, Any]:
    """R21: one code per user and campaign in 24 hours; with a template, its message (R42)."""
    body: AssignBody = call.body
    name = call.params["name"]
    template = None
    if body.template is not None:
        template = Template.parse(body.template, date_format=body.date_format, sms=body.sms)
        status = ctx.distributor.status(name)
        stand_in = "X" * longest_code(ctx.store, status.name)
        template.precheck(Probe(status.name, body.user, body.campaign, stand_in,
                                utcnow(), status.expires_on), ctx.zone)
    elif body.date_format is not None or body.sms:
        raise ApiError(400, "invalid_field", "date_format and sms go with a template")
    given = ctx.distributor.assign(name, user=body.user, campaign=body.campaign,
                                   external_id=body.external_id)
    answer = {k: v for k, v in asdict(given).items() if k != "warning"}
    if template is not None:
        message = template.message(given, ctx.zone, body.external_id)
        answer.update(message=message.text, encoding=message.encoding, length=message.length)
    return 200, answer


def messages(ctx: Context, call: Call) -> tuple[int, Any]:
    """R42: a code and a rendered message for each user (CSV with Accept: text/csv)."""
    body: MessagesBody = call.body
    template = Template.parse(body.template, date_format=body.date_format, sms=body.sms)
    users = [(u.user, u.external_id) for u in body.users]
    done = hand_out(ctx.distributor, call.params["name"], users, body.campaign, template,
                    ctx.zone)
    return 200, {"messages": [m.to_dict() for m in done.messages], "stopped": done.stopped}


def list_lists(ctx: Context, call: Call) -> tuple[int, Any]:
    return 200, {"lists": [s.to_dict() for s in ctx.distributor.lists()]}


def lookup_code(ctx: Context, call: Call) -> tuple[int, Any]:
    code, events = code_history(ctx.store, call.params["code"])
    return 200, {"code": code, "history": events}


def promotions(ctx: Context, call: Call) -> tuple[int, Any]:
    return 200, {"promotions": dashboard.overview(ctx.store, ctx.zone)}


def _endpoint(scopes: frozenset[str], work: Any, body: Any = None, *, write: bool = True,
              guarded: bool = False, one_trip: OneTrip | None = None,
              on_loop: Any = None) -> Endpoint:
    lane = "rest" if scopes != REDEEM else "check" if work is validate else "till"
    return Endpoint(scopes, work, body, write, guarded, lane, one_trip, on_loop)


TXN = "/v1/transactions/{sale}"
# (method, path, endpoint): the route table, and what openapi.py describes
ENDPOINTS: list[tuple[str, str, Endpoint]] = [
    ("POST", "/v1/validate", _endpoint(REDEEM, validate, ValidateBody, guarded=True,
                                                 on_loop=validate_on)),
    ("POST", "/v1/transactions", _endpoint(REDEEM, open_sale, OpenBody)),
    ("GET", TXN, _endpoint(REDEEM, show_sale, write=False)),
    ("POST", TXN + "/codes", _endpoint(REDEEM, scan, ScanBody, guarded=True,
                                       one_trip=OneTrip(201, scan_keyed, _held_from,
                                                        scan_keyed_on))),
    ("DELETE", TXN + "/codes/{code}", _endpoint(REDEEM, remove)),
    ("POST", TXN + "/customer", _endpoint(REDEEM, customer, CustomerBody)),
    ("POST", TXN + "/pay", _endpoint(REDEEM, pay, EmptyBody,
                                     one_trip=OneTrip(200, pay_keyed, _payment_from,
                                                      pay_keyed_on))),
    ("POST", TXN + "/cancel", _endpoint(REDEEM, cancel, EmptyBody)),
    ("GET", "/v1/lists", _endpoint(LISTS, list_lists, write=False)),
    ("POST", "/v1/lists/{name}/assign", _endpoint(LISTS, assign, AssignBody)),
    ("POST", "/v1/lists/{name}/messages", _endpoint(LISTS, messages, MessagesBody)),
    ("GET", "/v1/codes/{code}", _endpoint(ADMIN, lookup_code, write=False)),
    ("GET", "/v1/promotions", _endpoint(ADMIN, promotions, write=False)),
]
