"""The import rules of DESIGN.md ("Shape"), read from the source with ``ast`` (nothing is imported).

* the edges (``bots/``, ``api/``, ``web/``) use ``core`` services: they import no ``billing``, no
  ``sqlalchemy``, no ``core.db``, no engine package (``asr``, ``tts``) and no ``dramatiq``;
* the edges never import each other;
* ``core/`` imports nothing from the edges, the CLI (the composition root) or the migrations;
* ``asr/`` and ``tts/`` import nothing of the project but ``bundled/`` (their model catalog);
* ``billing/`` and ``bundled/`` import nothing of the project.

Every import counts: inside functions and under ``if TYPE_CHECKING`` too. Each rule is its own case
per layer.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = (
    "api",
    "asr",
    "bench",
    "billing",
    "bundled",
    "bots",
    "cli",
    "core",
    "migrations",
    "tests",
    "tts",
    "web",
)
EDGES = ("bots", "api", "web")
EDGE_FORBIDDEN = ("billing", "sqlalchemy", "core.db", "asr", "tts", "dramatiq")


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository, e.g. "bots/delivery.py"
    line: int
    module: str  # absolute dotted name; ``from a import b`` yields both "a" and "a.b"


def _names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        # ``from core import db`` imports the module core.db: record each name as a submodule too.
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []  # relative imports stay inside their own package


@functools.cache
def imports_of(layer: str) -> tuple[Import, ...]:
    """Every import statement in the ``.py`` files under ``layer/``."""
    found: list[Import] = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        tree = ast.parse(path.read_bytes(), filename=str(path))
        relative = path.relative_to(ROOT).as_posix()
        found += [Import(relative, node.lineno, name) for node in ast.walk(tree) for name in _names(node)]
    return tuple(found)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def offending(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        {
            f"{i.path}:{i.line} imports {i.module}"
            for i in imports_of(layer)
            if any(within(i.module, package) for package in forbidden)
        }
    )


def _present(layers: tuple[str, ...]) -> list[str]:
    return [layer for layer in layers if (ROOT / layer).is_dir()]


@pytest.mark.parametrize(
    ("layer", "package"), [(layer, package) for layer in _present(EDGES) for package in EDGE_FORBIDDEN]
)
def test_an_edge_goes_through_the_core_services(layer: str, package: str) -> None:
    """Edges use ``core`` services, never the ledger, the database or an engine directly."""
    assert offending(layer, (package,)) == []


# The app factory is a composition root (DESIGN.md "Shape"): it mounts the dashboard on the API's
# app, through ``web.site.mount`` alone.
APP_FACTORY_MOUNTS = {("api/app.py", "web"), ("api/app.py", "web.site")}


@pytest.mark.parametrize("layer", _present(EDGES))
def test_the_edges_never_import_each_other(layer: str) -> None:
    others = tuple(edge for edge in EDGES if edge != layer)
    found = offending(layer, others)
    assert [line for line in found if _factory_mount(line) not in APP_FACTORY_MOUNTS] == []


def _factory_mount(line: str) -> tuple[str, str]:
    """("api/app.py", "web.site") of "api/app.py:12 imports web.site"."""
    where, _, module = line.partition(" imports ")
    return where.partition(":")[0], module


def test_the_core_imports_no_edge_cli_or_migrations() -> None:
    assert offending("core", ("api", "bots", "web", "cli", "migrations")) == []


@pytest.mark.parametrize("layer", ["asr", "tts"])
def test_an_engine_package_knows_nothing_of_the_rest(layer: str) -> None:
    others = tuple(package for package in PROJECT if package not in (layer, "bundled"))
    assert offending(layer, others) == []


@pytest.mark.parametrize("layer", ["billing", "bundled"])
def test_a_leaf_package_imports_nothing_of_the_project(layer: str) -> None:
    others = tuple(package for package in PROJECT if package != layer)
    assert offending(layer, others) == []


@pytest.mark.parametrize("layer", ["bots", "api", "web", "core", "asr", "tts", "billing"])
def test_the_reader_sees_the_imports_it_judges(layer: str) -> None:
    """Guards the rules above against passing on nothing (a moved folder, a parser gone blind)."""
    assert any(i.module.split(".")[0] in PROJECT for i in imports_of(layer))
