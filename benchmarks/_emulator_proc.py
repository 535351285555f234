"""An emulator server in its own process, for benchmarks and trials (so that its CPU does not
compete with the sync under test for one interpreter lock).

Prints `URL <url>` when it listens, then obeys one command per line on stdin, answering one
JSON line each:
  faults <latency_ms> <concurrency_limit> <fault_rate>   set latency, limit, 429/503/drop rate
  redeem <n> [cancel_every]   n unused codes become used by web-store orders (bulk SQL)
  reset                        forget every record, fault and counter
  stats                        request counters
  state                        promotions and codes (for end-state comparisons)
  quit
"""

from __future__ import annotations

import json
import sys

from connector.emulator import EmulatorOptions, EmulatorServer


def bulk_redeem(server: EmulatorServer, n: int, cancel_every: int) -> int:
    """n orders in one transaction: a salesOrder + tranPromotion row per code, codes used."""
    db = server.backend.db
    now = server.backend.now()  # the account-local wall time the emulator stamps
    with db.tx() as conn:
        rows = conn.execute("SELECT id, promotion FROM couponcode WHERE used = 'F' ORDER BY id "
                            "LIMIT ?", [n]).fetchall()
        start = int(conn.execute('SELECT COALESCE(MAX(id), 0) FROM "transaction"').fetchone()[0])
        tx = [(start + i + 1, f"SO{start + i + 1}",
               "C" if cancel_every and i % cancel_every == 0 else "B", now[:10], now, now, cid, pid)
              for i, (cid, pid) in enumerate(rows)]
        conn.executemany('INSERT INTO "transaction" (id, tranid, type, status, trandate, '
                         "createddate, lastmodifieddate, couponcode, promocode) VALUES "
                         "(?, ?, 'SalesOrd', ?, ?, ?, ?, ?, ?)", tx)
        conn.executemany("INSERT INTO tranpromotion (\"transaction\", couponcode, promocode, "
                         "purchasediscount, applicabilitystatus) VALUES (?, ?, ?, 0, 'APPLIED')",
                         [(t[0], t[6], t[7]) for t in tx])
        conn.executemany("UPDATE couponcode SET used = 'T', usecount = usecount + 1, "
                         "lastmodifieddate = ? WHERE id = ?", [(now, t[6]) for t in tx])
    return len(rows)


def state(server: EmulatorServer) -> dict[str, object]:
    db = server.backend.db
    with db.lock:
        promos = db.conn.execute("SELECT p.externalid, p.name, p.usetype, p.isinactive, "
                                 "COUNT(c.id), COUNT(DISTINCT c.code), "
                                 "SUM(CASE WHEN c.used = 'T' THEN 1 ELSE 0 END) "
                                 "FROM promotioncode p LEFT JOIN couponcode c "
                                 "ON c.promotion = p.id GROUP BY p.id ORDER BY p.externalid"
                                 ).fetchall()
        coupons = db.conn.execute("SELECT COUNT(*), COUNT(DISTINCT externalid) FROM couponcode "
                                  "WHERE externalid IS NOT NULL").fetchone()
    return {"promotions": [list(p) for p in promos], "pushed": list(coupons)}


def main() -> None:
    options = EmulatorOptions(send_retry_after=False)
    server = EmulatorServer(options=options).start()
    print(f"URL {server.url}", flush=True)
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "faults":
            latency, limit, rate = float(args[0]), int(args[1]), float(args[2])
            server.faults.clear()
            server.faults.concurrency_limit = limit or None
            server.faults.set(latency_ms=latency, rate_429=rate / 3, rate_5xx=rate / 3,
                              rate_drop=rate / 3)
            out: object = "ok"
        elif cmd == "redeem":
            out = bulk_redeem(server, int(args[0]), int(args[1]) if len(args) > 1 else 0)
        elif cmd == "reset":
            server.emulator.reset()
            out = "ok"
        elif cmd == "stats":
            out = server.stats()
        elif cmd == "state":
            out = state(server)
        elif cmd == "quit":
            break
        else:
            out = f"unknown command {cmd}"
        print(json.dumps(out), flush=True)
    server.stop()


if __name__ == "__main__":
    main()
