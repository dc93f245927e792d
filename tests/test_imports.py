"""Who may hold the whole runtime: the places that start a process, and no one else.

A service, a view, a job or the queue names the parts it uses (STYLE.md #13); only the
composition roots import ``bandstand.runtime``, so a module's imports say what it
touches and no import cycle is hidden behind ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import bandstand

pytestmark = pytest.mark.backend_free

SRC = Path(bandstand.__file__).parent
RUNTIME = "bandstand.runtime"
# The composition roots, relative to src/bandstand/.
MAY_IMPORT_RUNTIME = {
    "runtime.py",  # builds the parts and closes them
    "resources.py",  # hands a route or a job one part off the runtime it was started with
    "app.py",  # the server's lifespan builds the runtime and starts the jobs on it
    "cli.py",  # each command builds a runtime for its length (``bandstand worker`` too)
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text(), str(path))


def _imports_runtime(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(
            alias.name == RUNTIME or alias.name.startswith(f"{RUNTIME}.") for alias in node.names
        )
    if isinstance(node, ast.ImportFrom) and node.level == 0:
        module = node.module or ""
        if module == RUNTIME or module.startswith(f"{RUNTIME}."):
            return True
        return module == "bandstand" and any(alias.name == "runtime" for alias in node.names)
    return False


def _runtime_imports(tree: ast.AST) -> list[int]:
    """The lines of ``tree`` that import the runtime."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and _imports_runtime(node)
    ]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def test_only_the_composition_roots_import_the_runtime() -> None:
    # Anywhere in the module: at the top, inside a function, or under TYPE_CHECKING.
    offending = [
        f"{name}:{line}"
        for name, tree in _modules()
        if name not in MAY_IMPORT_RUNTIME
        for line in _runtime_imports(tree)
    ]
    assert not offending, (
        "these modules import bandstand.runtime; take the parts you use instead "
        "(bandstand/resources.py for routes and jobs):\n  " + "\n  ".join(offending)
    )


def test_no_type_checking_block_imports_the_runtime() -> None:
    offending = [
        f"{name}:{line}"
        for name, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node.test)
        for statement in node.body
        for line in _runtime_imports(statement)
    ]
    assert not offending, (
        "an import of bandstand.runtime under TYPE_CHECKING hides an import cycle:\n  "
        + "\n  ".join(offending)
    )


def test_the_check_sees_every_form_of_the_import() -> None:
    """The rule above is only as good as its parser: each way of writing the import."""
    for source in (
        "from bandstand.runtime import Runtime",
        "import bandstand.runtime",
        "import bandstand.runtime as rt",
        "from bandstand import runtime",
        "def f():\n    from bandstand.runtime import Runtime",
    ):
        assert _runtime_imports(ast.parse(source)), source
    for source in ("from bandstand.resources import StorageDep", "import bandstand.runtimes"):
        assert not _runtime_imports(ast.parse(source)), source
    guarded = ast.parse("if TYPE_CHECKING:\n    from bandstand.runtime import Runtime")
    assert isinstance(guarded.body[0], ast.If) and _is_type_checking(guarded.body[0].test)
