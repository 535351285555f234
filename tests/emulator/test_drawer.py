"""R34: the emulator's helper process draws large code batches with the same rules as the
in-process draw (distinct codes of the pattern, sorted), and never has to be there."""

from __future__ import annotations

import json
import re

from connector.emulator import NetSuiteBackend
from connector.emulator.drawer import MIN_COUNT, Drawer


def test_R34_helper_draws_distinct_sorted_codes_of_the_pattern() -> None:
    drawer = Drawer()
    try:
        assert drawer.draw("D-[AN.8]", MIN_COUNT - 1) is None  # small: drawn in-process
        assert drawer.draw("D-[AN.8]", MIN_COUNT) is None  # the helper is starting
        text = drawer.draw("D-[AN.8]", MIN_COUNT)
        assert text is not None
        codes = json.loads(text)
        assert len(codes) == len(set(codes)) == MIN_COUNT and codes == sorted(codes)
        assert all(re.fullmatch(r"D-[A-Z0-9]{8}", c) for c in codes)
        again = json.loads(drawer.draw("D-[AN.8]", MIN_COUNT) or "[]")
        assert len(set(codes) & set(again)) < 10  # a fresh random draw each time
        # a pattern that cannot supply the count: null, so the caller draws and refuses
        assert drawer.draw("D-[N.4]", MIN_COUNT) is None
    finally:
        drawer.close()
    assert drawer._proc is None
    drawer.close()  # twice is harmless


def test_R34_a_dead_helper_is_replaced_and_the_batch_drawn_in_process() -> None:
    drawer = Drawer()
    try:
        drawer.draw("E-[AN.8]", MIN_COUNT)
        proc = drawer._proc
        assert proc is not None
        proc.kill()
        proc.wait()
        assert drawer.draw("E-[AN.8]", MIN_COUNT) is None  # restarted: in-process this time
        assert drawer._proc is not None and drawer._proc is not proc
    finally:
        drawer.close()


def test_R34_backend_generates_large_batches_through_the_helper() -> None:
    backend = NetSuiteBackend()
    try:
        ids = [backend.upsert("promotionCode", f"big-{i}", {
            "name": f"B{i}", "useType": "SINGLEUSE", "codePattern": f"B{i}-[AN.8]",
            "numberToGenerate": MIN_COUNT})[0] for i in range(2)]
        assert backend.drawer._proc is not None  # the second batch came from the helper
        for i, rid in enumerate(ids):
            n, distinct, bad = backend.db.conn.execute(
                "SELECT count(*), count(DISTINCT code), sum(code NOT LIKE ?) FROM couponcode "
                "WHERE promotion = ?", [f"B{i}-%", rid]).fetchone()
            assert (n, distinct, bad) == (MIN_COUNT, MIN_COUNT, 0)
    finally:
        backend.close()
