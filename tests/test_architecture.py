"""Import direction (DESIGN.md §2): nothing imports routes; controller never imports flask."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("backend", "routes", "controller", "services", "utils")
# package -> our packages it must not import
FORBIDDEN = {
    "controller": {"flask", "flask_socketio", "flask_jwt_extended", "backend", "routes", "services"},
    "utils": {"flask", "backend", "routes", "controller", "services"},
    "services": {"routes"},
    "backend": {"routes"},
}
ROUTES_IMPORTERS = {"backend/app.py"}  # the composition root registers the blueprints


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


@pytest.mark.parametrize("package,path", list(modules()), ids=lambda v: str(v).replace(str(ROOT) + "/", ""))
def test_import_direction(package, path):
    rel = str(path.relative_to(ROOT))
    top_levels = {name.split(".")[0] for name in imported_modules(path)}
    forbidden = set(FORBIDDEN.get(package, set()))
    if rel in ROUTES_IMPORTERS:
        forbidden.discard("routes")
    assert not (top_levels & forbidden), f"{rel} imports {sorted(top_levels & forbidden)}"


def test_nothing_outside_the_composition_root_imports_routes():
    offenders = [
        str(path.relative_to(ROOT))
        for package, path in modules()
        if package != "routes"
        and str(path.relative_to(ROOT)) not in ROUTES_IMPORTERS
        and "routes" in {name.split(".")[0] for name in imported_modules(path)}
    ]
    assert offenders == []
