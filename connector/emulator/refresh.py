"""Playing a sandbox refresh: what an administrator's "refresh from production" (or from an
older copy) does to the account promosync syncs with (R46).

    POST /__emulator__/refresh {"mode": "save"}    remember the account as it is now: the
                                                   older copy a later "older" refresh restores
    POST /__emulator__/refresh {"mode": "wipe"}    every record promosync made is gone: its
                                                   promotionCode records with their coupon
                                                   codes, the orders that used those codes and
                                                   promosync's own sales orders
    POST /__emulator__/refresh {"mode": "older"}   the account rolls back to the saved copy, and
                                                   each promotionCode internal id made since is
                                                   held by another (production) promotion
    POST /__emulator__/refresh {"mode": "tokens", "token_id"?, "token_secret"?, "client_id"?}
                                                   every access token and OAuth 2.0 bearer token
                                                   is refused from now on (a refresh copies
                                                   neither); the optional values are the new
                                                   ones an administrator issues afterwards

Customers, items and settings stay as they are (production has them too); `older` keeps the
nonces and bearer tokens of now, so a refresh of data alone never disturbs signing. The answer
says what changed in counts; it never holds a secret (a new token secret is only ever given to
the emulator, never returned by it).
"""

from __future__ import annotations

import dataclasses
import secrets
import sqlite3
from typing import Any

from connector.emulator.backend import NetSuiteBackend

PREFIX = "promosync-"
MODES = ("save", "wipe", "older", "tokens")
_AUTH_TABLES = ("_nonce", "_token")


class Refresher:
    """The refresh modes on one backend; holds the saved copy `older` restores."""

    def __init__(self, backend: NetSuiteBackend) -> None:
        self.backend = backend
        self._saved: sqlite3.Connection | None = None

    def refresh(self, mode: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        body = body or {}
        if mode == "save":
            return self.save()
        if mode == "wipe":
            return self.wipe()
        if mode == "older":
            return self.older()
        if mode == "tokens":
            return self.tokens(token_id=body.get("token_id"),
                               token_secret=body.get("token_secret"),
                               client_id=body.get("client_id"))
        raise ValueError(f"unknown refresh mode {str(mode)[:20]!r}; one of {', '.join(MODES)}")

    def save(self) -> dict[str, Any]:
        db = self.backend.db
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        with db.lock:
            db.conn.backup(copy)
            counts = db.counts()
        if self._saved is not None:
            self._saved.close()
        self._saved = copy
        return {"mode": "save", "saved": counts}

    def wipe(self) -> dict[str, Any]:
        like = PREFIX + "%"
        with self.backend.db.tx() as conn:
            promos = [r[0] for r in conn.execute(
                "SELECT id FROM promotioncode WHERE externalid LIKE ?", [like])]
            marks = ", ".join("?" * len(promos))
            orders: set[int] = {r[0] for r in conn.execute(
                'SELECT id FROM "transaction" WHERE externalid LIKE ?', [like])}
            if promos:
                orders.update(r[0] for r in conn.execute(
                    'SELECT DISTINCT "transaction" FROM tranpromotion '
                    f"WHERE promocode IN ({marks})", promos))
            omarks = ", ".join("?" * len(orders))
            gone_orders = list(orders)
            if gone_orders:
                conn.execute(f'DELETE FROM tranpromotion WHERE "transaction" IN ({omarks})',
                             gone_orders)
                conn.execute(f'DELETE FROM "transaction" WHERE id IN ({omarks})', gone_orders)
            codes = 0
            if promos:
                codes = conn.execute(f"DELETE FROM couponcode WHERE promotion IN ({marks})",
                                     promos).rowcount
                conn.execute(f"DELETE FROM _pendingcode WHERE promotion IN ({marks})", promos)
                conn.execute(f"DELETE FROM promotioncode WHERE id IN ({marks})", promos)
        return {"mode": "wipe", "promotions": len(promos), "codes": int(codes),
                "transactions": len(gone_orders)}

    def older(self) -> dict[str, Any]:
        if self._saved is None:
            raise ValueError('no saved copy to restore: POST /__emulator__/refresh '
                             '{"mode": "save"} first')
        db = self.backend.db
        with db.lock:
            now_ids = {r[0] for r in db.conn.execute("SELECT id FROM promotioncode")}
            auth = {t: db.conn.execute(f"SELECT * FROM {t}").fetchall() for t in _AUTH_TABLES}
            self._saved.backup(db.conn)
            db.next_due = None
            db.code_counts = None
            with db.tx() as conn:
                for table, rows in auth.items():
                    conn.execute(f"DELETE FROM {table}")
                    if rows:
                        conn.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows)
                then_ids = {r[0] for r in conn.execute("SELECT id FROM promotioncode")}
                taken = sorted(now_ids - then_ids)
                stamp = self.backend.now()
                for rid in taken:  # production's own promotions hold those ids now
                    conn.execute(
                        "INSERT INTO promotioncode (id, externalid, name, code, usetype, "
                        "isinactive, lastmodifieddate) VALUES (?, NULL, ?, ?, 'MULTIPLEUSES', "
                        "'F', ?)", [rid, f"Production promotion {rid}", f"PROD{rid}", stamp])
            counts = db.counts()
        return {"mode": "older", "restored": counts, "ids_taken": len(taken)}

    def tokens(self, *, token_id: object = None, token_secret: object = None,
               client_id: object = None) -> dict[str, Any]:
        backend = self.backend
        old = backend.options.credentials
        new = dataclasses.replace(
            old,
            token_id=str(token_id) if token_id else f"tk-{secrets.token_hex(8)}",
            token_secret=str(token_secret) if token_secret else secrets.token_hex(16),
            oauth2_client_id=str(client_id) if client_id else f"oauth2-{secrets.token_hex(8)}")
        if new.token_id == old.token_id or new.oauth2_client_id == old.oauth2_client_id:
            raise ValueError("a refresh invalidates the tokens: give a new token_id and "
                             "client_id, or none")
        backend.options.credentials = new  # the authenticator reads the same options
        with backend.db.lock:
            dropped = backend.db.conn.execute("DELETE FROM _token").rowcount
        return {"mode": "tokens", "token_id": new.token_id, "client_id": new.oauth2_client_id,
                "bearer_tokens_dropped": int(dropped)}

    def close(self) -> None:
        if self._saved is not None:
            self._saved.close()
            self._saved = None
