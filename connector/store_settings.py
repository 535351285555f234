"""The store's settings (R6, R17, R19): their names, defaults, and the one check of each value.

`promosync settings set` and `promosync redeem settings` both store values through
`set_store_setting`, so a value one of them refuses, the other refuses too, with the same words.
A refused value is a ConfigError (exit code 2, like any other setting); nothing is stored.
"""

from __future__ import annotations

from connector.errors import ConfigError
from connector.generate import SETTING_AUTO_APPLY, SETTING_SINGLE_USE
from connector.redeem.checks import SETTING_FORMAT, code_format
from connector.store import Store
from connector.text import shown

DEFAULTS = {SETTING_SINGLE_USE: "on", SETTING_AUTO_APPLY: "off", SETTING_FORMAT: "any"}
ON_OFF = ("on", "off")


def check_setting(key: str, value: str) -> str:
    """`value` as it is stored for `key` ("On" -> "on"), or ConfigError saying why not."""
    if key not in DEFAULTS:
        raise ConfigError(f"unknown store setting {shown(key)}; use one of {', '.join(DEFAULTS)}")
    if key == SETTING_FORMAT:
        code_format(value)  # refuses a regular expression that does not compile
        return value
    switch = value.strip().lower()
    if switch not in ON_OFF:
        raise ConfigError(f"{key} takes on or off, not {shown(value)}")
    return switch


def store_settings(store: Store) -> dict[str, str]:
    """Every store setting: its stored value, else its default."""
    return {key: store.get_setting(key, default) or default for key, default in DEFAULTS.items()}


def set_store_setting(store: Store, key: str, value: str) -> str:
    """Check `value` (`check_setting`) and store it; returns what was stored."""
    stored = check_setting(key, value)
    store.set_setting(key, stored)
    return stored
