"""The architecture docs/architecture.md promises, checked on the source.

- Views, API routers and CLI commands never write: no ``.save(``, ``.delete(``,
  ``objects.create(`` / ``bulk_create(`` / ``get_or_create(`` / ``update_or_create(``,
  queryset ``.update(``, and no ``record(`` (the audit event is the service's job).
- They never filter by organization by hand: ``Model.objects.for_org`` or the request's
  ``OrgContext`` does it.
- The layers (import-linter contracts in pyproject.toml) hold: ``make lint`` runs them, and
  this test runs them too so that a plain ``pytest`` catches a broken layer.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "beffroi"

#: Methods whose call writes to the database (on a model, a queryset or a manager).
WRITING_METHODS = {
    "save",
    "delete",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
#: Functions whose call writes an audit event.
AUDITING_FUNCTIONS = {"record"}


def face_modules() -> list[Path]:
    """Every module that is a view, an API router or a command."""
    found: set[Path] = set()
    for pattern in ("*/views.py", "*/views/*.py", "*/connect.py", "api/routers/*.py"):
        found.update(SRC.glob(pattern))
    for pattern in (
        "cli.py",
        "cli/*.py",
        "*/cli.py",
        "evaluation_cli.py",
        "models_cli.py",
        "cli_support.py",
    ):
        found.update(SRC.glob(pattern))
    return sorted(p for p in found if p.name != "__init__.py" or p.stat().st_size)


def _decorator_calls(tree: ast.AST) -> set[int]:
    """The ids of calls used as decorators (``@router.delete(...)`` is a route, not a write)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                ids.add(id(decorator))
    return ids


def _is_session_call(call: ast.Call) -> bool:
    """``request.session.save()`` writes the session store, not a model: allowed."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "session"
    )


def writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    decorators = _decorator_calls(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in decorators:
            continue
        func = node.func
        where = f"{path.relative_to(SRC)}:{node.lineno}"
        if isinstance(func, ast.Attribute):
            if func.attr in WRITING_METHODS and not _is_session_call(node):
                found.append(f"{where} .{func.attr}(")
            elif func.attr == "update" and _is_queryset_chain(func.value):
                found.append(f"{where} queryset .update(")
            elif func.attr in AUDITING_FUNCTIONS:
                found.append(f"{where} {func.attr}(")
        elif isinstance(func, ast.Name) and func.id in AUDITING_FUNCTIONS:
            found.append(f"{where} {func.id}(")
    return found


def _is_queryset_chain(node: ast.AST) -> bool:
    """``X.objects….update(`` or ``….filter(…).update(``: a queryset, not a dict."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "filter", "exclude"}:
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def hand_scoped_in(path: Path) -> list[str]:
    """Calls passing ``organization=…`` to a query (``filter``, ``get``, ``exclude``,
    ``get_object_or_404``): the scoped queryset does it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in {"filter", "exclude", "get", "get_object_or_404", "first"}:
            continue
        if any(k.arg == "organization" for k in node.keywords):
            found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}(organization=…)")
    return found


def test_the_faces_are_found() -> None:
    names = {str(p.relative_to(SRC)) for p in face_modules()}
    assert "api/routers/items.py" in names
    assert any(n.startswith("moderation/views") for n in names)
    assert any("cli" in n for n in names)


def test_views_api_routers_and_commands_do_not_write() -> None:
    offences = [line for path in face_modules() for line in writes_in(path)]
    assert offences == [], "these faces write; call a service instead:\n" + "\n".join(offences)


def test_views_api_routers_and_commands_do_not_scope_by_hand() -> None:
    offences = [line for path in face_modules() for line in hand_scoped_in(path)]
    assert offences == [], "use for_org / request.org instead:\n" + "\n".join(offences)


def test_the_write_check_sees_a_write(tmp_path: Path) -> None:
    """The check is not blind: each kind of write in a view module is reported."""
    module = SRC / "_probe_views.py"
    sample = tmp_path / "views.py"
    sample.write_text(
        "@router.delete('/x')\n"
        "def view(request):\n"
        "    request.session.save()\n"
        "    item.save()\n"
        "    Item.objects.create(a=1)\n"
        "    Item.objects.filter(a=1).update(b=2)\n"
        "    {}.update(a=1)\n"
        "    record(actor, 'x')\n"
        "    Item.objects.filter(organization=org)\n",
        encoding="utf-8",
    )
    shutil.copy(sample, module)
    try:
        writes = writes_in(module)
        scoped = hand_scoped_in(module)
    finally:
        module.unlink()
    assert [w.split(" ", 1)[1] for w in writes] == [
        ".save(",
        ".create(",
        "queryset .update(",
        "record(",
    ]
    assert len(scoped) == 1


def test_the_layers_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=SRC.parents[1],
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
