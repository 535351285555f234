"""The admin pages' bodies (R41): promotions, one promotion, sync runs and plan, a code.

Pure rendering of what dashboard.py reads: each function takes the data and returns Markup.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from connector.serve.dashboard import Counts
from connector.serve.pages import Markup, bar_chart, fill, join, lines, link, local, table
from connector.serve.plan import COLUMNS, PlanResult


def overview(promotions: list[dict[str, Any]], lists: list[Any]) -> Markup:
    rows = [(link("/admin/promotion", p["name"], name=p["name"]), p["kind"], p["use_type"],
             lines(p["netsuite"]),
             p["chunk_state"], p["total"], p["issued"], p["used"], p["left"],
             p["end_date"], p["last_code_expiry"]) for p in promotions]
    promos = table(["Promotion", "Kind", "Use", "NetSuite records", "Chunks", "Codes", "Issued",
                    "Used", "Left", "Ends", "Last code expiry"], rows, numeric=(5, 6, 7, 8),
                   ident="promotions")
    list_rows = [(x.name, x.kind, x.total, x.remaining, x.warning_limit, _stock(x),
                  x.expires_on) for x in lists]
    stock = table(["Coupon list", "Kind", "Total", "Remaining", "Warning limit", "Stock",
                   "Expires"], list_rows, numeric=(2, 3, 4), ident="lists")
    return join([promos, fill("<h2>Coupon lists</h2>"), stock, lookup_form("")])


def _stock(lst: Any) -> Markup:
    if lst.remaining == 0:
        return fill('<span class="low">empty</span>')
    if lst.warning_limit is not None and lst.remaining <= lst.warning_limit:
        return fill('<span class="low">at or below the warning limit</span>')
    return fill('<span class="ok">ok</span>')


def lookup_form(code: str) -> Markup:
    return fill('<h2>Look up a code</h2><form method="get" action="/admin/codes">'
                '<input name="code" id="code" value="{code}" maxlength="200" '
                'aria-label="code"> <button type="submit" id="lookup">Look up</button></form>',
                code=code)


def promotion(data: dict[str, Any], zone: ZoneInfo) -> Markup:
    p = data["promotion"]
    n: Counts = data["counts"]
    terms = table(["Kind", "Discount", "Use", "Codes from", "Starts", "Ends", "Min. order",
                   "Items"],
                  [(p.kind, f"{p.rate} %" if p.discount_type == "percent" else f"{p.rate} off",
                    p.use_type, p.codes_from,
                    p.start_date, p.end_date, p.min_order, list(p.items))])
    counts = table(["Codes", "Issued", "Used", "Left", "Last code expiry"],
                   [(n.total, n.issued, n.used, n.left, n.last_expiry)], numeric=(0, 1, 2, 3),
                   ident="counts")
    chunks = table(["Chunk", "NetSuite external id", "NetSuite id", "State", "Codes (target)",
                    "Updated"],
                   [(c["chunk"], c["external_id"], c["netsuite_id"], c["state"], c["target"],
                     local(c["updated_at"], zone)) for c in data["chunks"]],
                   numeric=(0, 4), ident="chunks")
    history = table(["When", "Code", "Event", "Source", "Transaction", "Customer", "Detail"],
                    [(local(h["at"], zone), link("/admin/codes", h["code"], code=h["code"]),
                      h["kind"], h["source"], h["transaction"], h["customer"], h["detail"])
                     for h in data["history"]], ident="history")
    zone_name = str(zone)
    return join([terms, counts, fill("<h2>NetSuite records</h2>"), chunks,
                 fill("<h2>Redemptions per day ({z})</h2>", z=zone_name),
                 bar_chart(data["per_day"]), fill("<h2>Latest history</h2>"), history])


def sync(runs: list[dict[str, Any]], plan: PlanResult | None, csrf: str, zone: ZoneInfo) -> Markup:
    rows = [(r["id"], r["command"], local(r["started_at"], zone), local(r["finished_at"], zone),
             r["status"], ", ".join(f"{v} {k}" for k, v in r["plan"].items()),
             lines(r["errors"]))
            for r in runs]
    ledger = table(["Run", "Command", "Started", "Finished", "Outcome", "Planned", "Errors"],
                   rows, numeric=(0,), ident="runs")
    form = fill('<form method="post" action="/admin/sync/plan">'
                '<input type="hidden" name="csrf" value="{csrf}">'
                '<button type="submit" id="plan-button">Show what a sync would do now</button>'
                ' <span class="muted">reads NetSuite and the store, writes nothing</span></form>',
                csrf=csrf)
    parts = [ledger, fill("<h2>Plan</h2>"), form]
    if plan is not None:
        parts.append(fill("<p>Planned at {t}</p>", t=local(plan.at, zone)))
        if plan.error is not None:
            parts.append(fill('<p class="error" id="plan-error">{e}</p>', e=plan.error))
        else:
            parts.append(table(list(COLUMNS), [[a.get(c) for c in COLUMNS] for a in plan.actions],
                               numeric=(1, 4, 5, 6), ident="plan"))
    return join(parts)


def code(found: Any, zone: ZoneInfo, asked: str, error: str | None) -> Markup:
    parts = [lookup_form(asked)]
    if error is not None:
        parts.append(fill('<p class="error" id="lookup-error">{e}</p>', e=error))
    if found is not None:
        c, events = found
        limit = "unlimited" if c.max_uses is None else c.max_uses
        parts.append(table(
            ["Code", "Promotion", "State", "Used", "Limit", "Per customer", "Customer", "Group",
             "Amount", "Starts", "Expires"],
            [(c.code, link("/admin/promotion", c.promotion, name=c.promotion), c.state,
              c.use_count, limit, c.max_uses_per_customer, c.customer, c.group, c.amount,
              c.starts_on, c.expires_on)], ident="code"))
        parts.append(fill("<h2>History</h2>"))
        parts.append(table(["When", "Event", "Source", "Transaction", "Customer", "Detail"],
                           [(local(e.at, zone), e.kind, e.source, e.transaction, e.customer,
                             e.detail) for e in events], ident="code-history"))
    return join(parts)


def sign_in(csrf: str, message: str | None, configured: bool) -> Markup:
    note = Markup("")
    if message is not None:
        note = fill('<p class="error" id="sign-in-error">{m}</p>', m=message)
    if not configured:
        note = join([note, fill('<p class="muted">No admin password is set: set '
                                'PROMOSYNC_ADMIN_PASSWORD_HASH (<code>promosync keys '
                                'admin-password</code>) or sign in with an API key made with '
                                '<code>promosync keys create NAME --scope admin</code>.</p>')])
    return join([note, fill(
        '<form method="post" action="/admin/sign-in">'
        '<input type="hidden" name="csrf" value="{csrf}">'
        '<label>Password or admin API key <input type="password" name="secret" id="secret" '
        'autocomplete="current-password" maxlength="1000" required></label> '
        '<button type="submit" id="sign-in">Sign in</button></form>', csrf=csrf)])
