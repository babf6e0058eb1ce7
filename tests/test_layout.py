"""The layout rules import-linter's contracts (pyproject.toml, run by ``make lint``) do not state:
no import circle between project modules, and no project import inside a function body unless a
comment on the line, or above it, says why (``# lazy: <why>``)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("neural", "dashboard", "photondrift")
PROJECT = tuple(f"{p}." for p in PACKAGES) + PACKAGES


def _project_module(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""] if node.level == 0 else ["neural"]  # a relative import is ours
    else:
        names = [alias.name for alias in node.names]
    return next((n for n in names if n in PACKAGES or n.startswith(PROJECT)), None)


def _explained(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's first line, or a comment line right above it (or above the
    block of imports it belongs to), says why it is deferred."""
    if "#" in lines[node.lineno - 1]:
        return True
    row = node.lineno - 2
    while row >= 0 and (not lines[row].strip() or lines[row].strip().startswith(("from ", "import ", ")"))):
        row -= 1  # the comment may head a block of imports (blank lines between its groups)
    return row >= 0 and lines[row].strip().startswith("#")


def in_function_imports(path: Path) -> list[str]:
    """``path:line module`` for each uncommented project import inside a function body."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = _project_module(node)
                if module and not _explained(lines, node):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
    return sorted(set(found))


def test_it_finds_an_uncommented_import_in_a_function(tmp_path):
    sample = ROOT / "neural" / "_layout_sample.py"
    sample.write_text(
        "def a():\n    from neural.errors import DataError\n\n\n"
        "def b():\n    # lazy: optuna is slow to import\n    from neural.training import tuning\n\n\n"
        "def c():\n    import json\n"
    )
    try:
        assert in_function_imports(sample) == ["neural/_layout_sample.py:2 neural.errors"]
    finally:
        sample.unlink()


def test_no_project_code_imports_project_modules_inside_functions_without_saying_why():
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts]
    found = [line for path in files for line in in_function_imports(path)]
    assert not found, "in-function imports of project code with no '# lazy: <why>' comment:\n" + "\n".join(found)


def circles(*packages: str) -> list[str]:
    """``a -> b -> ... -> a`` for each module ``a`` that imports a module ``b`` importing it back
    (directly or through others; imports inside functions count)."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    return sorted(
        f"{a} -> {b} -> ... -> {a}"
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if graph.find_shortest_chain(importer=b, imported=a)
    )


def test_it_finds_a_circle_hidden_in_a_function(tmp_path, monkeypatch):
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circled import b\n")
    (package / "b.py").write_text("def f():\n    from circled import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert circles("circled") == [
        "circled.a -> circled.b -> ... -> circled.a",
        "circled.b -> circled.a -> ... -> circled.b",
    ]


def test_no_two_project_modules_import_each_other_even_through_others(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # grimp finds the packages on the path
    found = circles(*PACKAGES)
    assert not found, "import circles:\n" + "\n".join(found)
