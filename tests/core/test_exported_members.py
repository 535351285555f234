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


def test_a_built_wheel_carries_the_fixtures_and_the_default_mapping(tmp_path) -> None:
    """`pip install .` must be enough for `promosync demo` (emulator templates, mapping)."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(repo)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("promosync-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "connector/_mappings/default.toml" in names
    assert "connector/_fixtures/netsuite/error.json" in names
    packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    on_disk = {str(p.parent.relative_to(repo)) for p in (repo / "connector").rglob("__init__.py")}
    assert on_disk <= packages, f"packages missing from pyproject.toml: {on_disk - packages}"
