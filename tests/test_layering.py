"""The layering is visible in the tree and checked here: no import circle anywhere in
pb_vote, and dependencies point inward (blueprints -> services -> models; the tally depends on
nothing of ours; web.py is wiring that only create_app imports)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pb_vote"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the pb_vote modules it imports, at the top or inside functions."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in paths else base)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


GRAPH = _import_graph()


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
