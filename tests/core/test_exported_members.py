"""The public door is what we mean it to be: sorted, importable, nothing private."""

from __future__ import annotations

import connector


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert connector.__all__ == sorted(connector.__all__, key=lambda n: (n[0].islower(), n))
    for name in connector.__all__:
        assert getattr(connector, name) is not None, name
        assert not name.startswith("_")


def test_public_names_are_the_documented_ones() -> None:
    assert set(connector._EXPORTS) == set(connector.__all__)
    assert set(connector.__all__) <= set(dir(connector))


def test_unknown_names_raise_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError):
        _ = connector.no_such_name  # type: ignore[attr-defined]
