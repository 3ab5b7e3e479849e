"""The shape of the package: the table of parts, and no import cycle anywhere in ``ocx``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from ocx import parts, topology
from ocx.landlord import builder

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "ocx").rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every ocx module ``name`` imports, wherever the import is (functions, TYPE_CHECKING)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in out if m in known and m != name}


def test_no_import_cycle_in_ocx() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_every_module_imports_alone_and_in_reverse_order() -> None:
    # Alembic's scripts run only inside a migration; ocx.dashboard.horizon only inside
    # Horizon's own venv (Django).
    inside = (".migrations", "ocx.dashboard.horizon")
    names = sorted((n for n in _modules() if not any(i in n for i in inside)), reverse=True)
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)\n"
    done = subprocess.run(
        [sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_parts_import_the_landlord_never_the_runner() -> None:
    modules = _modules()
    for spec in parts.PARTS:
        module = spec.builder.partition(":")[0]
        found = _imports(module, modules[module], set(modules))
        assert "ocx.landlord" in found
        assert not found & {"ocx.runner", "ocx.supervisor", "ocx.cli", "ocx.parts"}, module


def test_the_table_of_parts() -> None:
    ports = [spec.port for spec in parts.PARTS]
    assert len(set(ports)) == len(ports)
    assert all(0 <= port < 10 for port in ports)
    assert parts.BY_NAME["identity"].port == 0
    for spec in parts.PARTS:
        assert callable(builder(spec.name))
        assert spec.catalog


def test_topology_knows_every_part_of_the_table_and_no_other() -> None:
    doc = {"landlords": [{"name": "a", "parts": list(parts.NAMES)}]}
    assert topology.Topology.model_validate(doc).landlords[0].parts == parts.NAMES
    with pytest.raises(topology.TopologyError, match="unknown parts"):
        topology.parse('[[landlords]]\nname = "a"\nparts = ["identity", "bogus"]\n')
