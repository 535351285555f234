"""R34: the NetSuite rules the emulator enforces, through HTTP on the in-process emulator, and
that bad input never crashes it or loses state."""

from __future__ import annotations

import pytest

from connector.emulator import EmulatorOptions, mock_netsuite

from .conftest import call, single_use_promotion


def _codes(emu: mock_netsuite, promotion: int) -> list[dict[str, str]]:
    items, _ = emu.backend.suiteql(
        f"SELECT id, code FROM couponcode WHERE promotion = {promotion} ORDER BY id")
    return items


def _rest_code(emu: mock_netsuite, code_id: str) -> dict[str, object]:
    got: dict[str, object] = call(emu, "GET", f"/record/v1/couponCode/{code_id}").json()
    return got


def test_R34_number_to_generate_makes_codes_of_the_pattern(emu: mock_netsuite) -> None:
    r = call(emu, "POST", "/record/v1/promotionCode", json={
        "name": "Gen", "useType": "SINGLEUSE", "codePattern": "GEN-[A.3]-[N.4]",
        "numberToGenerate": 25, "customForm": {"id": "-10501"}})
    assert r.status_code == 204
    pid = int(r.headers["Location"].rsplit("/", 1)[1])
    codes = [c["code"] for c in _codes(emu, pid)]
    assert len(codes) == len(set(codes)) == 25
    assert all(c.startswith("GEN-") and len(c) == 12 for c in codes)
    assert not any(ch in c[4:] for c in codes for ch in "01ILO")  # R5 alphabet


def test_R34_generation_tops_up_on_patch_without_duplicates(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 10)
    r = call(emu, "PATCH", f"/record/v1/promotionCode/{pid}", json={"numberToGenerate": 15})
    assert r.status_code == 204
    codes = [c["code"] for c in _codes(emu, pid)]
    assert len(codes) == len(set(codes)) == 25


def test_R34_generation_can_be_switched_off() -> None:
    with mock_netsuite(EmulatorOptions(generate_on_create=False)) as emu:
        pid = single_use_promotion(emu, 10)
        assert _codes(emu, pid) == []


def test_R34_codes_per_promotion_are_capped() -> None:
    with mock_netsuite(EmulatorOptions(max_codes_per_promotion=20)) as emu:
        pid = single_use_promotion(emu, 15)
        r = call(emu, "PATCH", f"/record/v1/promotionCode/{pid}", json={"numberToGenerate": 6})
        assert r.status_code == 400
        assert "at most 20" in r.json()["o:errorDetails"][0]["detail"]
        assert len(_codes(emu, pid)) == 15  # nothing half-written
        for n in range(5):  # single codes count against the cap too
            ok = call(emu, "POST", "/record/v1/couponCode",
                      json={"code": f"ONE-{n}", "promotion": {"id": str(pid)}})
            assert ok.status_code == 204
        over = call(emu, "POST", "/record/v1/couponCode",
                    json={"code": "ONE-MORE", "promotion": {"id": str(pid)}})
        assert over.status_code == 400
        assert len(_codes(emu, pid)) == 20


@pytest.mark.parametrize("field,value", [("useType", "MULTIPLEUSES"),
                                         ("customForm", {"id": "-10501"})])
def test_R34_use_type_and_custom_form_cannot_change(emu: mock_netsuite, field: str,
                                                    value: object) -> None:
    pid = single_use_promotion(emu, 1)
    r = call(emu, "PATCH", f"/record/v1/promotionCode/{pid}", json={field: value})
    assert r.status_code == 400
    detail = r.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == field
    got = call(emu, "GET", f"/record/v1/promotionCode/{pid}").json()
    assert got["useType"]["id"] == "SINGLEUSE" and got["customForm"]["id"] == "-10502"


def test_R34_custom_form_must_be_a_known_form(emu: mock_netsuite) -> None:
    r = call(emu, "POST", "/record/v1/promotionCode",
             json={"name": "Bad form", "customForm": {"id": "-999"}})
    assert r.status_code == 400
    detail = r.json()["o:errorDetails"][0]
    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("INVALID_CONTENT", "customForm")


def test_R34_redemption_marks_code_used_and_links_the_order(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 3)
    customer = emu.backend.seed(customers=1)["customer"][0]
    code = _codes(emu, pid)[0]
    tid = emu.backend.simulate_redemption(code["code"], customer)
    links, _ = emu.backend.suiteql(
        "SELECT tp.transaction, tp.couponcode, tp.promocode, t.customer FROM tranPromotion tp "
        "JOIN transaction t ON t.id = tp.transaction")
    assert links == [{"links": [], "transaction": str(tid), "couponcode": code["id"],
                      "promocode": str(pid), "customer": str(customer)}]
    rest = call(emu, "GET", f"/record/v1/couponCode/{code['id']}").json()
    assert rest["used"] is True and rest["useCount"] == "1"


def test_R34_cancelled_order_leaves_code_used(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 2)
    code = _codes(emu, pid)[0]["code"]
    tid = emu.backend.simulate_redemption(code)
    emu.backend.cancel_transaction(tid)
    status, _ = emu.backend.suiteql(f"SELECT status FROM transaction WHERE id = {tid}")
    assert status[0]["status"] == "C"
    assert _rest_code(emu, _codes(emu, pid)[0]["id"])["used"] is True
    with pytest.raises(Exception, match="already been used"):
        emu.backend.simulate_redemption(code)  # a cancelled order's code cannot be reused


def test_R34_promotion_used_in_a_transaction_cannot_be_deleted(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 2)
    emu.backend.simulate_redemption(_codes(emu, pid)[0]["code"])
    r = call(emu, "DELETE", f"/record/v1/promotionCode/{pid}")
    assert r.status_code == 400 and r.json()["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
    unused = single_use_promotion(emu, 2)
    assert call(emu, "DELETE", f"/record/v1/promotionCode/{unused}").status_code == 204
    assert _codes(emu, unused) == []  # its codes went with it


def test_R34_duplicate_code_in_a_promotion_is_rejected(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 1)
    body = {"code": "DUP-1", "promotion": {"id": str(pid)}}
    assert call(emu, "POST", "/record/v1/couponCode", json=body).status_code == 204
    r = call(emu, "POST", "/record/v1/couponCode", json=body)
    assert r.status_code == 400 and r.json()["o:errorDetails"][0]["o:errorPath"] == "code"


def test_R34_external_id_is_unique_per_record_type(emu: mock_netsuite) -> None:
    body = {"companyName": "A", "externalId": "same"}
    assert call(emu, "POST", "/record/v1/customer", json=body).status_code == 204
    assert call(emu, "POST", "/record/v1/customer", json=body).status_code == 400
    pid = single_use_promotion(emu, 1, externalId="same")  # another type: allowed
    assert pid > 0


def test_R34_used_and_use_count_are_not_writable(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 1)
    r = call(emu, "POST", "/record/v1/couponCode",
             json={"code": "W-1", "promotion": {"id": str(pid)}, "used": True})
    assert r.status_code == 400 and r.json()["o:errorDetails"][0]["o:errorPath"] == "used"


def test_R34_create_can_answer_200_with_the_record() -> None:
    with mock_netsuite(EmulatorOptions(create_status=200)) as emu:
        r = call(emu, "POST", "/record/v1/customer", json={"companyName": "Body"})
        assert r.status_code == 200 and r.json()["companyName"] == "Body"
        assert r.headers["Location"].endswith("/" + r.json()["id"])


def test_R34_sublists_are_links_unless_expanded(emu: mock_netsuite) -> None:
    item = emu.backend.seed(items=1)["inventoryItem"][0]
    pid = single_use_promotion(emu, 1, items={"items": [{"item": {"id": str(item)}}]})
    plain = call(emu, "GET", f"/record/v1/promotionCode/{pid}").json()
    assert set(plain["items"]) == {"links"}
    full = call(emu, "GET", f"/record/v1/promotionCode/{pid}",
                params={"expandSubResources": "true"}).json()
    assert full["items"]["items"] == [{"item": {"id": str(item)}}]
    sub = call(emu, "GET", f"/record/v1/promotionCode/{pid}/items").json()
    assert sub["count"] == 1
    call(emu, "PATCH", f"/record/v1/promotionCode/{pid}", params={"replace": "items"},
         json={"items": {"items": []}})
    assert call(emu, "GET", f"/record/v1/promotionCode/{pid}/items").json()["count"] == 0


def test_R34_references_render_with_links_and_ref_name(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 1)
    cid = _codes(emu, pid)[0]["id"]
    promo = call(emu, "GET", f"/record/v1/couponCode/{cid}").json()["promotion"]
    assert promo["id"] == str(pid) and promo["refName"] == "Spring"
    assert promo["links"][0]["href"].endswith(f"/promotioncode/{pid}")


def test_R34_bad_input_never_loses_state(emu: mock_netsuite) -> None:
    pid = single_use_promotion(emu, 5)
    before = emu.backend.dump()
    bad = [("POST", "/record/v1/couponCode", {"data": b"{\x00broken"}),
           ("POST", "/record/v1/couponCode", {"json": [1, 2]}),
           ("POST", "/record/v1/couponCode", {"json": {"code": 5, "promotion": "x"}}),
           ("PATCH", f"/record/v1/promotionCode/{pid}", {"json": {"numberToGenerate": "many"}}),
           ("PATCH", f"/record/v1/promotionCode/{pid}", {"json": {"codePattern": None,
                                                                   "numberToGenerate": 3}}),
           ("GET", "/record/v1/noSuchType/1", {}),
           ("GET", "/record/v1/couponCode/abc", {}),
           ("DELETE", "/record/v1/couponCode/424242", {}),
           ("GET", "/record/v1/couponCode", {"params": {"q": "code IS", "limit": "x"}}),
           ("GET", "/record/v1/couponCode", {"params": {"q": "((("}}),
           ("POST", "/query/v1/suiteql", {"json": {"q": "DROP TABLE couponcode"}}),
           ("POST", "/query/v1/suiteql", {"json": {"q": "SELECT 1; DELETE FROM couponcode"}}),
           ("POST", "/query/v1/suiteql", {"json": {"nope": 1}})]
    for method, path, kwargs in bad:
        r = call(emu, method, path, **kwargs)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
        assert r.json()["o:errorDetails"], (method, path)
    unsigned = call(emu, "DELETE", f"/record/v1/promotionCode/{pid}", auth=None)
    assert unsigned.status_code == 401
    assert emu.backend.dump() == before


def test_R34_batch_needs_respond_async_and_respects_the_item_cap() -> None:
    with mock_netsuite(EmulatorOptions(async_batch_max_items=2, async_pending_polls=1)) as emu:
        items = {"items": [{"externalId": f"x{i}", "companyName": "X"} for i in range(3)]}
        sync = call(emu, "PUT", "/record/v1/customer", json=items)
        assert sync.status_code == 400
        too_many = call(emu, "PUT", "/record/v1/customer", json=items,
                        headers={"Prefer": "respond-async"})
        assert too_many.status_code == 400
        assert too_many.json()["o:errorDetails"][0]["o:errorPath"] == "items"
        ok = call(emu, "PUT", "/record/v1/customer", json={"items": items["items"][:2]},
                  headers={"Prefer": "respond-async"})
        job = ok.headers["Location"].split("/services/rest", 1)[1]
        first, second = call(emu, "GET", job).json(), call(emu, "GET", job).json()
        assert (first["completed"], first["progress"]) == (False, "pending")
        assert (second["completed"], second["progress"]) == (True, "succeeded")
        result = call(emu, "GET", job + "/task/1/result").json()
        assert [i["status"] for i in result["items"]] == [204, 204]
