"""Where the shipped data folders are: `fixtures/` and `mappings/`.

From a source checkout (or an editable install) they are the repository's top-level folders;
from a wheel they are the packages `connector._fixtures` and `connector._mappings` that
pyproject.toml maps those folders to.
"""

from __future__ import annotations

from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The folder `name` ("fixtures" or "mappings") for this installation."""
    if name not in ("fixtures", "mappings"):
        raise ValueError(f"no data folder {name!r}")
    repo = _REPO / name
    if repo.is_dir():
        return repo
    return Path(__file__).resolve().parent / f"_{name}"  # where the wheel puts them
