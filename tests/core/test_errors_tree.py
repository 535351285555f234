"""Every exception promosync raises to its callers is in connector/errors.py's tree, and the tree
drawn in that module's docstring is the tree the classes make."""

from __future__ import annotations

import importlib
import pkgutil
import re

import connector
from connector import errors
from connector.errors import ConnectorError

# ConnectorError subclasses defined elsewhere: none.
ELSEWHERE: set[str] = set()


def _every_module() -> None:
    for found in pkgutil.walk_packages(connector.__path__, "connector."):
        if not found.name.endswith("__main__") and ".__" not in found.name:
            importlib.import_module(found.name)


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def _drawn() -> dict[str, str]:
    """{class: parent} as the docstring draws the tree (by where each name starts)."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^    ([│├└─ ]*)([A-Z]\w+)", line)
        if not found or not isinstance(getattr(errors, found.group(2), None), type):
            continue
        depth, name = len(found.group(1)), found.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_every_connector_error_is_defined_in_errors_py() -> None:
    _every_module()
    outside = {
        f"{c.__module__}.{c.__name__}"
        for c in _subclasses(ConnectorError)
        if c.__module__ != "connector.errors"
    }
    assert outside - ELSEWHERE == set()


def test_the_drawn_tree_is_the_class_tree() -> None:
    mine = [c for c in _subclasses(ConnectorError) if c.__module__ == errors.__name__]
    classes = {c.__name__: c for c in mine}
    drawn = _drawn()
    redemption = {n for n, c in classes.items() if c.__bases__ == (errors.RedemptionError,)}
    expected = {
        name: cls.__bases__[0].__name__
        for name, cls in classes.items()
        if name not in redemption  # drawn as one line: "one subclass per message of R13/R14"
    }
    assert drawn == expected


def test_the_netsuite_exceptions_are_the_same_classes_from_either_door() -> None:
    from connector import netsuite

    for name in ("NetSuiteConnectFailed", "NetSuiteIdempotencyConflict", "NetSuiteJobTimeout",
                 "NetSuiteQueryTooLarge", "NetSuiteTokenError"):
        assert getattr(netsuite, name) is getattr(errors, name)
