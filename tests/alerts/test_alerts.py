"""R44: alert targets (a signed webhook, SMTP with STARTTLS, a Slack incoming webhook) against
real servers on 127.0.0.1, the [alerts] table's refusals, and `promosync alerts test`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path

import pytest

from connector.alerts import AlertsConfig, events, notify
from connector.alerts.config import load_alerts
from connector.alerts.dispatch import scrubbed
from connector.errors import ConfigError
from tests.alerts.conftest import HOOK_KEY, webhook_table
from tests.alerts.receivers import (
    BlackHole,
    SmtpServer,
    WebhookReceiver,
    closed_port,
    signature_ok,
)
from tests.conftest import run_cli


def config(text: str, path: Path) -> AlertsConfig:
    path.write_text(text)
    return load_alerts(path)


def test_R44_webhook_is_signed_over_timestamp_and_raw_body(
        receiver: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    cfg = config(webhook_table(receiver.url), tmp_path / "a.toml")
    sending = notify(events.list_warning("spring", 10, 10), cfg)
    assert sending is not None
    [delivery] = sending.wait()
    assert delivery.ok and delivery.target == "ops" and delivery.attempts == 1
    [got] = receiver.received
    assert got.signed
    assert got.headers["X-Promosync-Event"] == "list_warning"
    body = got.json()
    assert body["event"] == "list_warning" and body["details"]["remaining"] == 10
    assert "spring" in body["summary"]
    # what a receiver refuses: another body, another key, an old timestamp
    assert not signature_ok(HOOK_KEY.encode(), got.headers, got.body + b" ")
    assert not signature_ok(b"other key", got.headers, got.body)
    assert not signature_ok(HOOK_KEY.encode(), got.headers, got.body, now=time.time() + 600)


def test_R44_webhook_retries_5xx_with_backoff_and_re_signs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    with WebhookReceiver(HOOK_KEY.encode(), answers=[503, 502]) as r:
        cfg = config(webhook_table(r.url), tmp_path / "a.toml")
        sending = notify(events.guard_lockout("guessing guard: 127.0.0.1 ..."), cfg)
        assert sending is not None
        [delivery] = sending.wait()
        assert delivery.ok and delivery.attempts == 3
        assert r.statuses == [503, 502, 200]
        assert r.received[0].signed
        # backoff: 0.5 s, then 1 s between the attempts
        assert delivery.seconds >= 1.4


def test_R44_webhook_refusal_is_not_retried_and_is_logged_without_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    with WebhookReceiver(HOOK_KEY.encode(), answers=[401]) as r:
        cfg = config(webhook_table(r.url), tmp_path / "a.toml")
        sending = notify(events.test_alert(), cfg)
        assert sending is not None
        [delivery] = sending.wait()
    assert not delivery.ok and r.statuses == [401]
    assert delivery.cause == f"{r.url.rsplit('/', 1)[0]} refused the alert: HTTP 401"
    logged = [rec.getMessage() for rec in caplog.records if rec.name == "promosync.alerts"]
    assert any("not delivered to ops (webhook)" in line and "HTTP 401" in line
               for line in logged)
    assert not any(HOOK_KEY in line for line in logged)


def test_R44_target_down_gives_up_within_its_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A black hole (connects never answered) and a closed port: each gives up by its
    `timeout`, side by side, with the cause."""
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    with BlackHole() as hole:
        refused = f"http://127.0.0.1:{closed_port()}/hook"
        cfg = config(webhook_table(hole.url, extra="timeout = 1.5")
                     + webhook_table(refused, extra="timeout = 1.5").replace('"ops"', '"b"'),
                     tmp_path / "a.toml")
        started = time.monotonic()
        sending = notify(events.test_alert(), cfg)
        assert sending is not None
        results = {d.target: d for d in sending.wait()}
        took = time.monotonic() - started
    assert took < 3.0  # two targets of 1.5 s each, in parallel
    assert "no answer to connect" in (results["ops"].cause or "")
    assert "connection refused" in (results["b"].cause or "")
    assert "gave up after" in (results["b"].cause or "")


def test_R44_slack_gets_text_at_the_url_from_the_environment(
        receiver: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_path = "/services/T0001/B0002/slacksecrettoken"
    monkeypatch.setenv("SLACK_URL", receiver.url.rsplit("/", 1)[0] + secret_path)
    cfg = config('[[alerts.targets]]\nkind = "slack"\nurl_env = "SLACK_URL"\n',
                 tmp_path / "a.toml")
    sending = notify(events.run_ended({"command": "run", "outcome": "partial", "exit_code": 1,
                                       "run": 7, "failed": ["P2"], "refused": []}), cfg)
    assert sending is not None
    assert [d.ok for d in sending.wait()] == [True]
    [got] = receiver.received
    assert set(got.json()) == {"text"}
    text = got.json()["text"]
    assert "sync run ended with failures" in text and "failed: P2" in text
    assert got.path == secret_path
    # -vv shows the HTTP library's request lines: the webhook's path (its credential) is hidden
    http_lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any('"POST *** HTTP/1.1" 200' in line for line in http_lines), http_lines
    assert not any("slacksecrettoken" in r.getMessage() for r in caplog.records)


def test_R44_smtp_sends_over_starttls_and_logs_in_only_inside_tls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USER", "alerts")
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-password-xyz")
    with SmtpServer(tmp_path, user="alerts", password="smtp-password-xyz") as smtp:
        cfg = config(f'[[alerts.targets]]\nkind = "smtp"\nhost = "127.0.0.1"\n'
                     f'port = {smtp.port}\nfrom = "promosync@example.com"\n'
                     f'to = ["ops@example.com", "oncall@example.com"]\n'
                     f'user_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n'
                     f'ca_file = "{smtp.cert}"\n', tmp_path / "a.toml")
        sending = notify(events.list_warning("spring", 3, 5), cfg)
        assert sending is not None
        [delivery] = sending.wait()
        assert delivery.ok, delivery.cause
        [mail] = smtp.wait_for(1)
    assert mail.tls and mail.login == "alerts"
    assert smtp.logins == [("alerts", True)]
    assert mail.recipients == ["ops@example.com", "oncall@example.com"]
    message = message_from_bytes(mail.data)
    assert message["Subject"] == "[promosync] coupon list spring has 3 codes left (warning limit 5)"
    assert b"smtp-password-xyz" not in mail.data


def test_R44_smtp_server_without_starttls_is_refused_before_any_login(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USER", "alerts")
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-password-xyz")
    with SmtpServer(tmp_path, starttls=False) as smtp:
        cfg = config(f'[[alerts.targets]]\nkind = "smtp"\nhost = "127.0.0.1"\n'
                     f'port = {smtp.port}\nfrom = "promosync@example.com"\nto = "ops@x.org"\n'
                     f'user_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n',
                     tmp_path / "a.toml")
        sending = notify(events.test_alert(), cfg)
        assert sending is not None
        [delivery] = sending.wait()
    assert not delivery.ok
    assert delivery.cause == (f"smtp://127.0.0.1:{smtp.port} does not offer STARTTLS; "
                              "promosync never sends mail in clear")
    assert smtp.logins == [] and smtp.mails == []


def test_R44_smtp_certificate_not_trusted_is_refused(
        tmp_path: Path) -> None:
    with SmtpServer(tmp_path) as smtp:  # its certificate is self-signed; no ca_file given
        cfg = config(f'[[alerts.targets]]\nkind = "smtp"\nhost = "127.0.0.1"\n'
                     f'port = {smtp.port}\nfrom = "promosync@example.com"\nto = "ops@x.org"\n',
                     tmp_path / "a.toml")
        sending = notify(events.test_alert(), cfg)
        assert sending is not None
        [delivery] = sending.wait()
    assert not delivery.ok and "TLS failed" in (delivery.cause or "")
    assert smtp.mails == []


def test_R44_secrets_are_scrubbed_from_an_alert(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    monkeypatch.setenv("NETSUITE_TOKEN_SECRET", "token-secret-abcdef")
    cfg = config(webhook_table("http://127.0.0.1:9/x"), tmp_path / "a.toml")
    alert = events.run_ended({"command": "run", "outcome": "refused", "exit_code": 2,
                              "reason": f"token-secret-abcdef was refused ({HOOK_KEY})"})
    assert alert is not None
    clean = scrubbed(alert, cfg)
    text = json.dumps(clean.body())
    assert "token-secret-abcdef" not in text and HOOK_KEY not in text
    assert clean.summary == "sync run was refused: *** was refused (***)"


BAD_TABLES = [
    ('[[alerts.targets]]\nkind = "pager"\n',
     "promosync.toml: alerts.targets[0]: kind must be webhook, smtp or slack"),
    ('[[alerts.targets]]\nkind = "webhook"\nurl = "ftp://x"\nsecret_env = "K"\n',
     "promosync.toml: alerts.targets[0].url: must be an http:// or https:// URL"),
    ('[[alerts.targets]]\nkind = "webhook"\nurl = "http://x"\nsecret_env = "K"\n'
     '[[alerts.targets]]\nkind = "webhook"\nurl = "http://x"\nsecret = "abc"\n',
     "promosync.toml: alerts.targets[1].secret: promosync.toml holds no secrets; put it in an "
     "environment variable and name that with secret_env"),
    ('[[alerts.targets]]\nkind = "slack"\nurl = "https://hooks.example.com/T/B/x"\n',
     "promosync.toml: alerts.targets[0].url: an incoming webhook's URL is its credential; put "
     "it in an environment variable and name that with url_env"),
    ('[[alerts.targets]]\nkind = "webhook"\nurl = "http://x"\n',
     "promosync.toml: alerts.targets[0].secret_env: is missing"),
    ('[[alerts.targets]]\nkind = "smtp"\nhost = "h"\nfrom = "a@b.c"\nto = "ops@x.y"\n'
     'user_env = "U"\n', "promosync.toml: alerts.targets[0]: user_env and password_env go "
                         "together"),
    ('[[alerts.targets]]\nkind = "webhook"\nurl = "http://x"\nsecret_env = "K"\n'
     'events = ["run_failed", "nope"]\n', "promosync.toml: alerts.targets[0].events[1]: "),
    ("failing_runs = 0\n", "promosync.toml: alerts.failing_runs: input should be greater than "
                           "or equal to 1"),
    ("colour = 1\n", "promosync.toml: alerts.colour: not a known key"),
]


@pytest.mark.parametrize(("table", "line"), BAD_TABLES)
def test_R44_malformed_alerts_table_is_one_line_naming_the_key_exit_2(
        toml: Callable[[str], Path], table: str, line: str) -> None:
    toml("[alerts]\n" + table)
    with pytest.raises(ConfigError) as caught:
        load_alerts()
    assert str(caught.value).startswith(line)
    result = run_cli(["alerts", "test"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {line}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_R44_serve_refuses_to_start_with_a_malformed_alerts_table(
        toml: Callable[[str], Path]) -> None:
    assert run_cli(["init"]).exit_code == 0
    toml('[alerts]\n[[alerts.targets]]\nkind = "webhook"\nurl = "ftp://x"\n')
    result = run_cli(["serve", "--port", "0"])  # refused before the port is bound
    assert result.exit_code == 2
    assert result.stderr.startswith("error: promosync.toml: alerts.targets[0].url: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_R44_alerts_test_sends_to_each_target_and_says_how_each_went(
        toml: Callable[[str], Path], receiver: WebhookReceiver, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    with WebhookReceiver() as slack, SmtpServer(tmp_path) as smtp:
        monkeypatch.setenv("SLACK_URL", slack.url)
        good = ("[alerts]\n" + webhook_table(receiver.url)
                + '[[alerts.targets]]\nkind = "slack"\nurl_env = "SLACK_URL"\n'
                + f'[[alerts.targets]]\nkind = "smtp"\nname = "mail"\nhost = "127.0.0.1"\n'
                  f'port = {smtp.port}\nfrom = "promosync@example.com"\nto = "ops@x.org"\n'
                  f'ca_file = "{smtp.cert}"\n')
        toml(good)
        result = run_cli(["alerts", "test"])
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert [w.split(":")[0] for w in lines] == ["ops (webhook)", "slack#2 (slack)",
                                                    "mail (smtp)"]
        assert all(": ok (" in w for w in lines)
        assert receiver.received[0].signed and receiver.received[0].json()["event"] == "test"
        assert "test alert" in slack.received[0].json()["text"]
        assert len(smtp.wait_for(1)) == 1
        # one target that refuses connections: exit 1, its cause on its line, the others ok
        down = f"http://127.0.0.1:{closed_port()}/hook"
        toml(good + f'[[alerts.targets]]\nkind = "webhook"\nname = "down"\nurl = "{down}"\n'
                    'secret_env = "HOOK_KEY"\ntimeout = 1\n')
        result = run_cli(["alerts", "test", "--json"])
    assert result.exit_code == 1
    rows = {r["target"]: r for r in json.loads(result.stdout)}
    assert [rows[t]["delivered"] for t in ("ops", "slack#2", "mail", "down")] == [
        True, True, True, False]
    assert "connection refused" in rows["down"]["cause"]
    assert HOOK_KEY not in result.stdout + result.stderr


def test_R44_alerts_test_without_targets_or_with_a_missing_variable(
        toml: Callable[[str], Path], receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    toml("")
    result = run_cli(["alerts", "test"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: promosync.toml has no alert targets")
    monkeypatch.delenv("HOOK_KEY", raising=False)
    toml("[alerts]\n" + webhook_table(receiver.url))
    result = run_cli(["alerts", "test"])
    assert result.exit_code == 1
    assert result.stdout.strip() == ("ops (webhook): FAILED: the environment variable HOOK_KEY "
                                     "(the webhook's HMAC key) is not set")
    assert receiver.received == []


@pytest.mark.parametrize(("outcome", "event", "words"), [
    ("ok", None, None),
    ("partial", "run_failed", "sync retry ended with failures"),
    ("failed", "run_failed", "sync retry failed"),
    ("refused", "run_refused", "sync retry was refused"),
    ("aborted", "run_aborted", "sync retry was stopped"),
])
def test_R44_each_ending_of_a_sync_job_has_its_event(
        outcome: str, event: str | None, words: str | None) -> None:
    alert = events.run_ended({"command": "retry", "outcome": outcome, "run": 4,
                              "exit_code": 0 if outcome == "ok" else 1, "reason": "why"})
    if event is None:
        assert alert is None
    else:
        assert alert is not None and alert.event == event
        assert alert.summary == f"{words}: why"
        assert alert.severity == ("warning" if outcome == "aborted" else "error")
