"""HTML of the admin pages: escaping by default, a layout, tables, and the chart as inline SVG.

Every value put into a page goes through `html.escape` unless it is `Markup` (HTML this module
built). No script runs in the pages and nothing is loaded from elsewhere: the Content-Security-
Policy the server sends (app.py) allows only the page's own stylesheet.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:.6em 1.2em;display:flex;gap:1.4em;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header form{margin-left:auto}
main{padding:1em 1.2em;max-width:1200px}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;margin:.4em 0}
th,td{border:1px solid #d6dae0;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.low{color:#a40000;font-weight:600}.ok{color:#176b00}.muted{color:#667}
.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.5em .8em}
svg{background:#fff;border:1px solid #d6dae0}.bar{fill:#3b6fd8}.axis{stroke:#667}
svg text{font-size:10px;fill:#445}input,button{font:inherit;padding:.2em .5em}
"""


class Markup(str):
    """HTML that is already safe: put into a page as it is."""


def esc(value: Any) -> Markup:
    """`value` as safe HTML: Markup as it is, anything else escaped (None is empty)."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    return Markup(html.escape(text_of(value), quote=True))


def text_of(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(text_of(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def fill(template: str, **values: Any) -> Markup:
    """`template` (trusted HTML) with {name} replaced by each value, escaped."""
    return Markup(template.format_map({k: esc(v) for k, v in values.items()}))


def join(parts: Iterable[Markup]) -> Markup:
    return Markup("".join(parts))


def lines(values: Iterable[Any]) -> Markup:
    """Values one under the other."""
    return Markup("<br>".join(esc(v) for v in values))


def link(path: str, text: Any, **query: str) -> Markup:
    href = path + ("?" + urlencode(query) if query else "")
    return fill('<a href="{href}">{text}</a>', href=href, text=text)


def local(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Iterable[int] = (),
          ident: str | None = None) -> Markup:
    nums = set(numeric)
    head = join(fill("<th>{c}</th>", c=c) for c in columns)
    body = join(
        fill("<tr>{cells}</tr>", cells=join(
            fill('<td class="n">{v}</td>' if i in nums else "<td>{v}</td>", v=v)
            for i, v in enumerate(row)))
        for row in rows)
    if not body:
        body = fill('<tr><td colspan="{n}" class="muted">(none)</td></tr>', n=len(columns))
    return fill('<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>',
                ident=Markup(f' id="{html.escape(ident)}"') if ident else Markup(""),
                head=head, body=body)


def layout(title: str, body: Markup, *, csrf: str | None = None) -> str:
    """A whole page; with `csrf`, the header has the sign-out form."""
    nav = join([link("/admin", "Promotions"), link("/admin/sync", "Sync"),
                link("/admin/codes", "Code lookup"), link("/openapi.json", "API")])
    out = Markup("")
    if csrf is not None:
        out = fill('<form method="post" action="/admin/sign-out">'
                   '<input type="hidden" name="csrf" value="{csrf}">'
                   '<button type="submit">Sign out</button></form>', csrf=csrf)
    return fill('<!doctype html><html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width,initial-scale=1">'
                '<title>{title} - promosync</title>'
                '<link rel="stylesheet" href="/admin/style.css"></head>'
                '<body><header><strong>promosync</strong>{nav}{out}</header>'
                '<main><h1>{title}</h1>{body}</main></body></html>',
                title=title, nav=nav, out=out, body=body)


def bar_chart(per_day: Sequence[tuple[date, int]], *, width: int = 720, height: int = 200,
              ident: str = "redemptions-chart") -> Markup:
    """Redemptions per day as SVG bars, each with its day and count as a title and data-*."""
    left, bottom, top = 40, 22, 10
    inner_w, inner_h = width - left - 10, height - bottom - top
    most = max((n for _d, n in per_day), default=0)
    scale = inner_h / most if most else 0.0
    step = inner_w / max(len(per_day), 1)
    bars = []
    for i, (day, n) in enumerate(per_day):
        h = n * scale
        x, y = left + i * step + 1, top + inner_h - h
        bars.append(fill('<rect class="bar" x="{x}" y="{y}" width="{w}" height="{h}" '
                         'data-day="{day}" data-count="{n}"><title>{day}: {n}</title></rect>',
                         x=f"{x:.1f}", y=f"{y:.1f}", w=f"{max(step - 2, 1):.1f}", h=f"{h:.1f}",
                         day=day.isoformat(), n=str(n)))
    labels = [fill('<text x="{x}" y="{y}">{t}</text>', x=f"{left + i * step:.1f}",
                   y=str(height - 6), t=day.strftime("%m-%d"))
              for i, (day, _n) in enumerate(per_day) if i % 5 == 0 or i == len(per_day) - 1]
    total = sum(n for _d, n in per_day)
    return fill('<svg id="{ident}" role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
                'data-days="{days}" data-total="{total}" xmlns="http://www.w3.org/2000/svg">'
                '<title>Redemptions per day: {total} in {days} days</title>'
                '<line class="axis" x1="{left}" y1="{base}" x2="{right}" y2="{base}"/>'
                '<text x="2" y="{topy}">{most}</text><text x="2" y="{base}">0</text>'
                '{bars}{labels}</svg>',
                ident=ident, w=str(width), h=str(height), days=str(len(per_day)),
                total=str(total), left=str(left), right=str(width - 10),
                base=str(top + inner_h), topy=str(top + 8), most=str(most),
                bars=join(bars), labels=join(labels))
