"""R42: codes handed to a message channel are rendered from templates with {couponcode} and
{expirydate}, dates in the store's time zone and a chosen format, SMS length checked (160
GSM-7, or 70 UCS-2), unknown placeholders refused in one line; the export is spreadsheet-safe.
Through the API (`POST /v1/lists/{name}/assign` and `/messages`) and `promosync lists assign`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector import Distributor
from connector.errors import InputError
from connector.serve.messages import Probe, Template, sms_length
from tests.conftest import run_cli
from tests.serve.conftest import Served

TEMPLATE = "Your code {couponcode} is valid until {expirydate}"
EXPIRES = date(2031, 3, 15)


def _handed(code: str = "GIFT-1", given: datetime | None = None) -> Probe:
    return Probe("Gifts", "ann", "spring", code,
                 given or datetime(2031, 3, 1, 23, 30, tzinfo=UTC), EXPIRES)


def test_R42_template_renders_code_and_expiry_in_the_chosen_format() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    message = Template.parse(TEMPLATE, date_format="%d.%m.%Y").message(_handed(), berlin)
    assert message.text == "Your code GIFT-1 is valid until 15.03.2031"
    given = Template.parse("{givendate} {user} {campaign} {list} {{literal}}")
    # 23:30 UTC on 1 March is 2 March in Berlin: dates are the store's time zone's
    assert given.message(_handed(), berlin).text == "2031-03-02 ann spring Gifts {literal}"
    assert given.message(_handed(), ZoneInfo("UTC")).text.startswith("2031-03-01 ")


@pytest.mark.parametrize(("template", "named"), [
    ("Hi {name}", "{name}"),
    ("{couponcode.__class__}", "{couponcode.__class__}"),
    ("{couponcode!r} {expirydate:>20}", "{couponcode!r}, {expirydate:>20}"),
    ("{0} and {}", "{0}, {}"),
])
def test_R42_unknown_placeholders_are_refused_in_one_line(template: str, named: str) -> None:
    with pytest.raises(InputError) as refused:
        Template.parse(template)
    text = str(refused.value)
    assert "\n" not in text and named in text and "{couponcode}, {expirydate}" in text


def test_R42_bad_templates_and_date_formats() -> None:
    for bad in ("", "   ", "a { b", "closing } alone", "x" * 2001):
        with pytest.raises(InputError):
            Template.parse(bad)
    for fmt in ("%H:%M", "%c", "%", "%Y-%m-%d %s"):
        with pytest.raises(InputError, match="date format"):
            Template.parse(TEMPLATE, date_format=fmt)


def test_R42_sms_length_gsm7_and_ucs2() -> None:
    assert sms_length("A" * 160) == ("GSM-7", 160, 160)
    assert sms_length("€" * 3) == ("GSM-7", 6, 160)  # extension characters count two
    assert sms_length("Grüße, Ärger: ü ö ä") == ("GSM-7", 19, 160)
    assert sms_length("Code ✓") == ("UCS-2", 6, 70)
    assert sms_length("🎁") == ("UCS-2", 2, 70)  # outside the BMP: two UTF-16 units
    long_gsm = Template.parse("x" * 150 + " {couponcode}", sms=True)
    assert long_gsm.message(_handed("GIFT-123"), ZoneInfo("UTC")).length == 159
    with pytest.raises(InputError, match="161 GSM-7 characters, over 160"):
        long_gsm.message(_handed("GIFT-12345"), ZoneInfo("UTC"))
    ucs2 = Template.parse("✓" * 60 + " {couponcode}", sms=True)
    with pytest.raises(InputError, match="71 UCS-2 characters, over 70"):
        ucs2.message(_handed("GIFT-12345"), ZoneInfo("UTC"))
    assert Template.parse("✓" * 200 + "{couponcode}").message(_handed(), ZoneInfo("UTC"))


def _list(served: Served, name: str = "Gifts", codes: int = 3) -> None:
    dist = Distributor(served.store)
    dist.create(name, codes=[f"GIFT-{n}" for n in range(1, codes + 1)], expires=EXPIRES)


def test_R42_R21_assign_over_http_with_a_message(served: Served) -> None:
    _list(served)
    body = {"user": "ann", "campaign": "spring", "template": TEMPLATE, "date_format": "%d/%m/%Y",
            "sms": True}
    first = served.call("POST", "/v1/lists/Gifts/assign", key="lists", json=body)
    assert first.status_code == 200, first.text
    given = first.json()
    assert (given["code"], given["repeated"]) == ("GIFT-1", False)
    assert given["message"] == "Your code GIFT-1 is valid until 15/03/2031"
    assert (given["encoding"], given["length"]) == ("GSM-7", len(given["message"]))
    again = served.call("POST", "/v1/lists/Gifts/assign", key="lists", json=body).json()
    assert (again["code"], again["repeated"]) == ("GIFT-1", True)  # R21: same code in 24 h
    plain = served.call("POST", "/v1/lists/Gifts/assign", key="lists",
                        json={"user": "bob", "campaign": "spring"}).json()
    assert plain["code"] == "GIFT-2" and "message" not in plain
    before = served.writes()
    unknown = served.call("POST", "/v1/lists/Gifts/assign", key="lists",
                          json={**body, "user": "cy", "template": "Hi {firstname}"})
    assert unknown.status_code == 400 and "{firstname}" in unknown.json()["error"]["message"]
    too_long = served.call("POST", "/v1/lists/Gifts/assign", key="lists",
                           json={**body, "user": "cy", "template": "x" * 155 + "{couponcode}"})
    assert too_long.status_code == 400 and "over 160" in too_long.json()["error"]["message"]
    assert served.writes() == before  # refused before a code was handed out


def test_R42_messages_export_is_csv_and_spreadsheet_safe(served: Served) -> None:
    _list(served, codes=2)
    body = {"campaign": "spring", "template": "=HYPERLINK({couponcode}) until {expirydate}",
            "users": [{"user": "ann", "external_id": "E1"}, {"user": "+bob"},
                      {"user": "cy"}]}
    answer = served.call("POST", "/v1/lists/Gifts/messages", key="lists", json=body,
                         headers={"Accept": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "no codes left" in answer.headers["Promosync-Stopped"]  # cy got none: 2 codes
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["User ID", "External ID", "Campaign", "Coupon Code", "Coupon Expiry Date",
                       "Message", "Encoding", "Length"]
    assert rows[1][:5] == ["ann", "E1", "spring", "GIFT-1", "2031-03-15"]
    assert rows[1][5] == "'=HYPERLINK(GIFT-1) until 2031-03-15"
    assert rows[2][0] == "'+bob" and len(rows) == 3
    as_json = served.call("POST", "/v1/lists/Gifts/messages", key="lists",
                          json={**body, "users": [{"user": "ann"}]}).json()
    assert as_json["messages"][0]["code"] == "GIFT-1" and as_json["stopped"] is None


def test_R42_lists_assign_on_the_command_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "gifts.txt").write_text("GIFT-1\nGIFT-2\nGIFT-3\n", encoding="utf-8")
    env = {**cli_env, "PROMOSYNC_TIMEZONE": "Europe/Berlin"}
    made = run_cli(["lists", "create", "Gifts", "--codes", "gifts.txt", "--expires",
                    EXPIRES.isoformat()], env=env)
    assert made.exit_code == 0, made.stderr
    one = run_cli(["lists", "assign", "Gifts", "--user", "ann", "--campaign", "c1",
                   "--template", TEMPLATE, "--date-format", "%d.%m.%Y", "--sms"], env=env)
    assert one.exit_code == 0 and one.stdout == "Your code GIFT-1 is valid until 15.03.2031\n"
    (tmp_path / "users.csv").write_text("bob,E-7\n\n@cy\n", encoding="utf-8")
    batch = run_cli(["lists", "assign", "Gifts", "--users", "users.csv", "--campaign", "c1",
                     "--template", "{couponcode} ✓", "-o", "out.csv"], env=env)
    assert batch.exit_code == 0, batch.stderr
    rows = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert [r[:4] for r in rows[1:]] == [["bob", "E-7", "c1", "GIFT-2"],
                                         ["'@cy", "", "c1", "GIFT-3"]]
    assert rows[1][6:] == ["UCS-2", "8"]
    refused = run_cli(["lists", "assign", "Gifts", "--user", "dee", "--campaign", "c2",
                       "--template", "Hi {name}"], env=env)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert "{name}" in refused.stderr and "Traceback" not in refused.stderr
    empty = run_cli(["--json", "lists", "assign", "Gifts", "--user", "dee", "--campaign", "c2",
                     "--template", "{couponcode}"], env=env)
    assert empty.exit_code == 1 and "no codes left" in empty.stderr
    shown = json.loads(run_cli(["--json", "lists", "show", "Gifts"], env=env).stdout)
    assert shown["remaining"] == 0
