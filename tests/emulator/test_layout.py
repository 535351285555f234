"""The emulator's layout: no module imports another in a circle, every control action is a row
of the route table, and nothing cites a document that is not in the repository."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from connector.emulator import Emulator
from connector.emulator import control as control_module
from connector.emulator.control import Control
from connector.emulator.routes import CONTROL, ROUTE_TABLE

PACKAGE = "connector.emulator"
ROOT = Path(__file__).resolve().parents[2] / "connector" / "emulator"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Emulator modules `path` imports anywhere: top level, in functions, under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.removeprefix(PACKAGE + ".").split(".")[0] for n in names
                  if n.startswith(PACKAGE + ".")} & modules
    return found - {path.stem}


def _graph() -> dict[str, set[str]]:
    paths = {p.stem: p for p in ROOT.glob("*.py") if p.stem != "__init__"}
    return {name: _imports(path, set(paths)) for name, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of module names, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_R33_emulator_modules_import_in_no_circle() -> None:
    graph = _graph()
    assert {"core", "routes", "control", "handlers", "options", "profiles"} <= set(graph)
    assert "core" in graph["http_server"] and "control" in graph["routes"]  # the walk sees imports
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_R33_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_R34_router_and_control_hold_parts_not_the_emulator() -> None:
    emu = Emulator()
    try:
        for part in (emu.router, emu.control):
            assert not any(isinstance(v, Emulator) for v in vars(part).values())
    finally:
        emu.backend.close()


def test_R34_every_control_action_is_a_row_of_the_route_table() -> None:
    rows = {attr for _name, _methods, _rx, attr, access in ROUTE_TABLE if access == CONTROL}
    actions = {name for name, _ in inspect.getmembers(Control, inspect.isfunction)
               if not name.startswith("_")}
    assert rows == actions
    documented = set(re.findall(r"/__emulator__/(\w+)", control_module.__doc__ or ""))
    paths = {rx.rsplit("+", 1)[1].removesuffix("/*")
             for _name, _methods, rx, _attr, access in ROUTE_TABLE if access == CONTROL}
    assert documented == paths


def test_R33_emulator_cites_no_document_outside_the_repository() -> None:
    outside = re.compile(r"(NETSUITE|PRODUCT|CONTRACTS|ARCHITECTURE)\.md|/work/|§")
    hits = [f"{p.name}:{n}" for p in sorted(ROOT.glob("*.py"))
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if outside.search(line)]
    assert hits == []
