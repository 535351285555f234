"""The `q=` filter of record collection GETs, translated to a SQLite WHERE clause.

Syntax per Oracle (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/
section_1545222128.html): `field OPERATOR value`, joined with AND / OR and parentheses; e.g.
`promotion ANY_OF [42, 43]`, `externalId IS "abc"`, `code IS "X" AND used IS false`. Values are
never pasted into SQL: every one becomes a bound parameter. A datetime value with `Z` or an
offset is compared in the account's time zone.
"""

from __future__ import annotations

import re
from typing import Any

from connector.emulator.apierror import ApiError
from connector.emulator.dates import stored_text
from connector.emulator.fields import FieldSpec, RecordSpec

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<num>-?\d+(?:\.\d+)?)'
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.:-]*)|(?P<punct>[()\[\],]))")

_COMPARE = {"EQUAL": "=", "GREATER": ">", "GREATER_OR_EQUAL": ">=", "LESS": "<",
            "LESS_OR_EQUAL": "<=", "AFTER": ">", "BEFORE": "<", "ON_OR_AFTER": ">=",
            "ON_OR_BEFORE": "<="}
_LIKE = {"CONTAIN": "%{}%", "START_WITH": "{}%", "END_WITH": "%{}"}


def bad_query(detail: str) -> ApiError:
    # INVALID_PARAMETER: bad query parameter (Airbyte source-netsuite errors.py); our wording.
    return ApiError(400, "INVALID_PARAMETER", f"Invalid query parameter q: {detail}")


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise bad_query(f"unexpected text at position {pos + 1}")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("value", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("num") is not None:
            num = m.group("num")
            out.append(("value", float(num) if "." in num else int(num)))
        elif m.group("word") is not None:
            out.append(("word", m.group("word")))
        else:
            out.append(("punct", m.group("punct")))
    return out


class _Parser:
    def __init__(self, spec: RecordSpec, text: str, tz: str) -> None:
        self.spec = spec
        self.tz = tz
        self.toks = _tokens(text)
        self.pos = 0
        self.params: list[Any] = []
        self.fields = {f.name.lower(): f for f in spec.fields if f.column}

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise bad_query("the condition ends too early")
        self.pos += 1
        return tok

    def parse(self) -> str:
        sql = self.expr()
        if self.peek() is not None:
            raise bad_query(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return sql

    def expr(self) -> str:
        parts = [self.term()]
        while self._keyword("OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self._keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and str(tok[1]).upper() == word:
            self.pos += 1
            return True
        return False

    def factor(self) -> str:
        tok = self.take()
        if tok == ("punct", "("):
            inner = self.expr()
            if self.take() != ("punct", ")"):
                raise bad_query("missing )")
            return f"({inner})"
        if tok[0] != "word":
            raise bad_query(f"expected a field name, got {tok[1]!r}")
        column, fs = self._column(str(tok[1]))
        op_tok = self.take()
        if op_tok[0] != "word":
            raise bad_query(f"expected an operator after {tok[1]}")
        return self.condition(column, fs, str(op_tok[1]).upper())

    def _column(self, name: str) -> tuple[str, FieldSpec | None]:
        if name.lower() == "id":
            return "id", None
        fs = self.fields.get(name.lower())
        if fs is None or fs.column is None:
            raise bad_query(f"the field {name} cannot be used in a filter")
        return fs.column, fs

    def condition(self, column: str, fs: FieldSpec | None, op: str) -> str:
        negate = op.endswith("_NOT") and op not in ("EMPTY_NOT",)
        base = op[:-4] if negate else op
        if op in ("EMPTY", "EMPTY_NOT"):
            return f"{column} IS {'NOT ' if op == 'EMPTY_NOT' else ''}NULL"
        value = self.value()
        if base == "ANY_OF":
            values = value if isinstance(value, list) else [value]
            self.params.extend(self._store(fs, v) for v in values)
            marks = ",".join("?" * len(values))
            return f"{column} {'NOT ' if negate else ''}IN ({marks})"
        if base == "BETWEEN":
            if not isinstance(value, list) or len(value) != 2:
                raise bad_query("BETWEEN needs [low, high]")
            self.params.extend(self._store(fs, v) for v in value)
            return f"{column} {'NOT ' if negate else ''}BETWEEN ? AND ?"
        if isinstance(value, list):
            raise bad_query(f"{op} takes one value")
        self.params.append(self._store(fs, value))
        if base in ("IS", "ON"):
            # Exact, case-sensitive match so the code index is used (UNCONFIRMED: NetSuite's
            # string IS may ignore case).
            return f"{column} {'!=' if negate else '='} ?"
        if base in _COMPARE:
            sql = f"{column} {_COMPARE[base]} ?"
            return f"NOT ({sql})" if negate else sql
        if base in _LIKE:
            self.params[-1] = _LIKE[base].format(self.params[-1])
            return f"{column} {'NOT ' if negate else ''}LIKE ?"
        raise bad_query(f"unknown operator {op}")

    def value(self) -> Any:
        tok = self.take()
        if tok == ("punct", "["):
            items: list[Any] = []
            while True:
                nxt = self.take()
                if nxt == ("punct", "]"):
                    return items
                if nxt == ("punct", ","):
                    continue
                items.append(nxt[1])
        if tok[0] == "punct":
            raise bad_query(f"unexpected {tok[1]!r}")
        return tok[1]

    def _store(self, fs: FieldSpec | None, value: Any) -> Any:
        kind = fs.kind if fs else "integer"
        if kind == "boolean":
            return "T" if str(value).lower() in ("true", "t") else "F"
        if kind in ("integer", "ref", "form"):
            try:
                return int(value)
            except (TypeError, ValueError):
                raise bad_query(f"{value!r} is not a number") from None
        if kind == "datetime" and isinstance(value, str) and "T" in value:
            try:
                return stored_text(value, self.tz)
            except ValueError:
                raise bad_query(f"Unparseable date: {value!r}") from None
        if kind in ("date", "datetime"):
            return str(value).replace("T", " ").rstrip("Z")
        return value


def where_clause(spec: RecordSpec, q: str | None, tz: str = "UTC") -> tuple[str, list[Any]]:
    """SQL condition and parameters for `q` (plus the record type's fixed columns)."""
    parts = [f"{col} = ?" for col, _ in spec.fixed]
    params: list[Any] = [val for _, val in spec.fixed]
    if q and q.strip():
        parser = _Parser(spec, q, tz)
        parts.append(parser.parse())
        params.extend(parser.params)
    return (" AND ".join(parts) if parts else "1"), params
