"""The README's emulator example runs as written (R33): documentation that cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_R33_readme_emulator_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    example = next(b for b in blocks if "mock_netsuite" in b and "def test_" in b)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    namespace["test_my_integration"]()  # type: ignore[operator]


def test_readme_gives_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python3 -m pip install . && promosync demo" in text
    assert "python3 -m pip install -e '.[test]' && python3 -m pytest" in text
