"""Hostile mapping files (hypothesis): random bytes and random TOML give a mapping or a
ConfigError that names the file (R24), never another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import ConfigError
from connector.sync.mapping import load_mapping

KEYS = st.sampled_from(["forms", "enums", "discount_items", "fields", "sync", "chunk_size",
                        "page_size", "redemption_source", "order", "useType", "x"])
VALUES = st.one_of(st.integers(-10**6, 10**12), st.text(max_size=12), st.booleans(),
                   st.floats(allow_nan=False), st.sampled_from(["' OR 1=1 --", "-10502", ""]))


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value).replace("inf", "inf")


@st.composite
def toml_text(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"[{draw(KEYS)}]")
        for _ in range(draw(st.integers(0, 4))):
            lines.append(f"{draw(KEYS)} = {_toml_value(draw(VALUES))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None)
@given(st.one_of(toml_text().map(str.encode), st.binary(max_size=200)))
def test_R24_any_mapping_file_is_a_mapping_or_a_config_error_naming_it(data: bytes) -> None:
    path = Path(tempfile.mkdtemp(prefix="h6-map-")) / "account.toml"
    path.write_bytes(data)
    try:
        load_mapping(path)
    except ConfigError as exc:
        assert str(path) in str(exc) and "Traceback" not in str(exc)
