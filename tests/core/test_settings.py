"""Settings come from flags, then environment, then promosync.toml (the README's settings table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ConfigError
from connector.settings import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("PROMOSYNC_DATABASE_URL", "PROMOSYNC_TIMEZONE"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.database_url == "sqlite:///promosync.db" and s.timezone == "UTC"


def test_flags_beat_environment_beat_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "promosync.toml").write_text(
        'database_url = "sqlite:///file.db"\n'
        'PROMOSYNC_TIMEZONE = "Europe/Paris"\nNETSUITE_CONCURRENCY = 7\n'
    )
    monkeypatch.delenv("PROMOSYNC_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROMOSYNC_TIMEZONE", raising=False)
    s = load_settings()
    assert (s.database_url, s.timezone, s.netsuite_concurrency) == (
        "sqlite:///file.db",
        "Europe/Paris",
        7,
    )
    monkeypatch.setenv("PROMOSYNC_TIMEZONE", "Asia/Tokyo")
    assert load_settings().timezone == "Asia/Tokyo"
    assert load_settings(timezone="UTC").timezone == "UTC"


def test_R30_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETSUITE_TOKEN_SECRET", "very-secret-value")
    s = load_settings()
    assert "very-secret-value" not in repr(s) and "very-secret-value" not in str(s.model_dump())
    assert s.netsuite_token_secret is not None
    assert s.netsuite_token_secret.get_secret_value() == "very-secret-value"


def test_bad_values_are_one_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETSUITE_CONCURRENCY", "0")
    with pytest.raises(ConfigError, match="NETSUITE_CONCURRENCY"):
        load_settings()
    monkeypatch.delenv("NETSUITE_CONCURRENCY")
    (tmp_path / "promosync.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="promosync.toml"):
        load_settings()
