"""The layout holds: layers import downward only, no cycles, no import by string, small modules.

Layers, bottom to top: warehouse -> recsys, forecasting -> services -> pages, app.py
(docs/ARCHITECTURE.md). Imports are read from the source with `ast` (function-level ones too).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("warehouse", "recsys", "forecasting", "services", "pages")
#: What each top-level part may import from the project (itself included).
ALLOWED: dict[str, set[str]] = {
    "warehouse": {"warehouse"},
    "recsys": {"warehouse", "recsys"},
    "forecasting": {"warehouse", "forecasting"},
    "services": {"warehouse", "recsys", "forecasting", "services"},
    "pages": {"warehouse", "recsys", "forecasting", "services", "pages"},
    "app": {"warehouse", "recsys", "forecasting", "services", "pages"},
}
MAX_LINES = 400
MAX_PAGE_LINES = 150
MAX_APP_LINES = 100
#: Known exceptions to MAX_LINES, each with its reason. The lead removes them after merging.
OVERSIZE_EXCEPTIONS: dict[str, str] = {}
#: Known cycles (through function-level imports), each with its reason; removed after merging.
KNOWN_CYCLES: dict[tuple[str, str], str] = {}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every project module (and app.py as `app`)."""
    files = {"app": REPO / "app.py"}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


MODULES = module_files()


def imports_of(name: str, path: Path) -> set[str]:
    """Project modules `name` imports (a `from pkg import sub` counts as `pkg.sub`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module]
            targets += [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def test_known_cycles_are_still_there() -> None:
    for a, b in KNOWN_CYCLES:
        assert b in GRAPH[a] and a in GRAPH[b], f"{a} <-> {b} is gone: drop it from KNOWN_CYCLES"


def layer(module: str) -> str:
    return module.split(".")[0]


def test_layers_import_downward_only() -> None:
    wrong = [
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        for t in sorted(targets)
        if layer(t) not in ALLOWED[layer(m)]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_between_project_modules() -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []
    graph = {m: targets - {b for a, b in KNOWN_CYCLES if a == m} for m, targets in GRAPH.items()}

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            assert cycle is None, " -> ".join(cycle)


def test_nothing_is_imported_by_string() -> None:
    offenders = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in {"import_module", "__import__"}:
                    offenders.append(f"{name}:{node.lineno}")
    assert not offenders, offenders


def test_only_the_app_and_pages_import_streamlit() -> None:
    offenders = []
    for name, path in MODULES.items():
        if layer(name) in {"app", "pages"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(name)
    assert not offenders, offenders


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def limit_of(name: str) -> int:
    """The line limit of module `name`: app.py, a page, or any other module."""
    if name == "app":
        return MAX_APP_LINES
    return MAX_PAGE_LINES if layer(name) == "pages" else MAX_LINES


def test_modules_stay_small() -> None:
    too_big = []
    for name, path in MODULES.items():
        rel = path.relative_to(REPO).as_posix()
        limit = limit_of(name)
        if rel not in OVERSIZE_EXCEPTIONS and line_count(path) >= limit + (name != "app"):
            too_big.append(f"{rel}: {line_count(path)} lines (limit {limit})")
    assert not too_big, too_big


def test_oversize_exceptions_are_still_needed() -> None:
    by_file = {path.relative_to(REPO).as_posix(): name for name, path in MODULES.items()}
    for rel in OVERSIZE_EXCEPTIONS:
        limit = limit_of(by_file[rel])
        assert line_count(REPO / rel) > limit, f"{rel} fits now: drop its exception"


def test_the_app_is_served_through_the_launcher() -> None:
    """A bare `streamlit run app.py` takes pages/ for a legacy (MPA v1) folder on a fresh
    server's first run, and a deep link as the first visit shows "Page not found" (issue 18):
    every way this project serves the app goes through `pages/_serve.py`."""
    makefile = (REPO / "Makefile").read_text()
    for target in ("run", "dev"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert "-m pages._serve" in recipe and "streamlit run" not in recipe, target
    for starter in ("tests/test_browser.py", "bench/bench_app.py"):
        assert '"pages._serve"' in (REPO / starter).read_text(), starter


ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"


def test_architecture_names_only_modules_that_exist() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    paths = set(
        re.findall(
            r"`((?:app|warehouse|recsys|forecasting|services|pages|tests)"
            r"(?:/[\w*{},.]+)*\.py)`",
            text,
        )
    )
    dotted = set(re.findall(r"`((?:warehouse|recsys|forecasting|services)(?:\.\w+)+)`", text))
    assert len(paths) + len(dotted) > 20, "docs/ARCHITECTURE.md names too few modules to check"
    missing = [p for p in paths if "*" not in p and not (REPO / p).exists()]
    missing += [d for d in dotted if not _resolves(d)]
    assert not missing, missing


def _resolves(dotted: str) -> bool:
    """Whether `a.b.c` is a module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if name in MODULES:
            obj: object = importlib.import_module(name)
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return False


@pytest.mark.parametrize("doc", sorted(p.name for p in (REPO / "docs").glob("*.md")))
def test_docs_name_only_objects_that_exist(doc: str) -> None:
    """Dotted names like `forecasting.intervals.ConformalTable` in the docs resolve."""
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    names = set(
        re.findall(r"`((?:warehouse|recsys|forecasting|services)(?:\.[A-Za-z_]\w*)+)", text)
    )
    missing = sorted(n for n in names if not _resolves(n))
    assert not missing, f"docs/{doc} names {missing}"


def test_docstrings_name_only_objects_that_exist() -> None:
    missing = []
    for name, path in MODULES.items():
        if layer(name) in {"app", "pages"}:
            continue
        text = path.read_text(encoding="utf-8")
        for ref in set(
            re.findall(
                r"`((?:warehouse|recsys|forecasting|services)"
                r"(?:\.[A-Za-z_]\w*)+)",
                text,
            )
        ):
            if not _resolves(ref):
                missing.append(f"{name}: {ref}")
    assert not missing, missing
