"""The layering is visible in the tree and checked here: no import circle anywhere in
pb_vote, and dependencies point inward (blueprints -> services -> models; the tally depends on
nothing of ours; web.py is wiring that only create_app imports). Services know nothing of
Flask and never commit: the view, command or job that calls them does."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pb_vote"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PATHS = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in PATHS.items()}


def _imports(name: str, tree: ast.AST) -> set[str]:
    """Every module that module ``name`` imports, at the top or inside functions: ours by
    their full name, others as written (``flask``, ``flask_babel``, ``sqlalchemy.orm``)."""
    targets: set[str] = set()
    package = name if PATHS.get(name, Path()).name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in PATHS else base)
    return targets


IMPORTS = {name: _imports(name, tree) for name, tree in TREES.items()}
# Module -> the pb_vote modules it imports.
GRAPH = {name: {t for t in targets if t in PATHS and t != name}
         for name, targets in IMPORTS.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports():
    # the check below would pass on an empty graph; make sure it is not one
    assert "pb_vote.services.voting" in GRAPH["pb_vote.blueprints.voting.views"]
    assert "pb_vote.blueprints.voting" in GRAPH["pb_vote.web"]


def test_no_import_circle():
    assert _cycles(GRAPH) == []


def test_a_circle_would_be_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_create_app_imports_the_wiring():
    importers = {name for name, targets in GRAPH.items() if "pb_vote.web" in targets}
    assert importers == {"pb_vote"}


@pytest.mark.parametrize("inner", ["pb_vote.services", "pb_vote.models", "pb_vote.tally",
                                   "pb_vote.errors", "pb_vote.formatting", "pb_vote.clock"])
def test_inner_layers_know_nothing_of_http(inner):
    outer = ("pb_vote.blueprints", "pb_vote.web", "pb_vote.notifications")
    for name, targets in GRAPH.items():
        if name == inner or name.startswith(inner + "."):
            assert not {t for t in targets if t.startswith(outer)}, name


def test_the_tally_depends_on_nothing_of_ours():
    for name, targets in GRAPH.items():
        if name.startswith("pb_vote.tally"):
            assert all(t.startswith("pb_vote.tally") for t in targets), name


def test_the_formatting_module_is_a_leaf():
    assert GRAPH["pb_vote.formatting"] == set()
    assert GRAPH["pb_vote.errors"] == set()


def test_blueprints_share_helpers_not_each_others_views():
    for name, targets in GRAPH.items():
        if not name.startswith("pb_vote.blueprints."):
            continue
        own = name.split(".")[2]
        for target in targets:
            parts = target.split(".")
            if len(parts) > 3 and parts[1] == "blueprints" and parts[3] == "views":
                assert parts[2] == own, f"{name} imports {target}"


def _views():
    for path in (PACKAGE / "blueprints").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("route", "get", "post") for d in node.decorator_list
            ):
                yield f"{_module_name(path)}.{node.name}", node.end_lineno - node.lineno + 1


def test_views_stay_short():
    """A view loads, checks, validates, calls a service, commits, redirects: 40 lines."""
    views = dict(_views())
    assert len(views) > 40  # every blueprint's views were found
    assert {name: length for name, length in views.items() if length > 40} == {}


def _services(found: dict[str, set]) -> dict[str, set]:
    return {name: value for name, value in found.items()
            if name.startswith("pb_vote.services.") and value}


def _flask_imports(targets: set[str]) -> set[str]:
    return {t for t in targets if t.split(".")[0] == "flask" or t.startswith("flask_")}


def _commits(tree: ast.AST) -> set[int]:
    """The lines of ``tree`` that call ``.commit()`` on anything (``db.session.commit()``,
    ``session.commit()``, ``connection.commit()``)."""
    return {node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"}


def test_services_import_no_flask():
    """A service gets what it needs as arguments (keys, the actor, settings), never from
    ``current_app``, ``g`` or the request: it runs the same in a view, a command and a job."""
    assert "pb_vote.services.counting" in IMPORTS  # the scan sees the services
    assert _services({name: _flask_imports(targets) for name, targets in IMPORTS.items()}) == {}


def test_services_never_commit():
    """Services flush; the view, command or job that called them commits (or rolls back)
    the whole use case at once."""
    assert _services({name: _commits(tree) for name, tree in TREES.items()}) == {}


def test_the_service_checks_would_catch_flask_and_a_commit():
    source = """
from flask import current_app
import flask_babel as babel
from pb_vote.extensions import db


def act():
    from flask.globals import g
    db.session.commit()
    other.session.commit()
    db.session.flush()
"""
    tree = ast.parse(source)
    assert _flask_imports(_imports("pb_vote.services.example", tree)) == {
        "flask", "flask_babel", "flask.globals"}
    assert _commits(tree) == {9, 10}
    # a job may commit: only the services are held to it
    assert _services({"pb_vote.services.example": {9}, "pb_vote.jobs": {9}}) == {
        "pb_vote.services.example": {9}}
