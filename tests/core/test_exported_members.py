"""The public door is what we mean it to be: sorted, importable, nothing private."""

from __future__ import annotations

import types

import connector


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert connector.__all__ == sorted(connector.__all__, key=lambda n: (n[0].islower(), n))
    for name in connector.__all__:
        assert getattr(connector, name) is not None, name
        assert not name.startswith("_")


def test_public_names_are_the_documented_ones() -> None:
    # submodules appear as attributes once imported; they are not part of the door
    exported = {
        n for n in dir(connector)
        if not n.startswith("_") and not isinstance(getattr(connector, n), types.ModuleType)
    }
    assert exported == set(connector.__all__)
