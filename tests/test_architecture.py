"""The layout docs/ARCHITECTURE.md draws, enforced: import direction between the layers, the dependencies
between the domain packages, no import cycle between files, and SQL only in controller/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("backend", "routes", "controller", "services", "utils")
OURS = set(LAYERS)
# layer -> top-level packages it must not import
FORBIDDEN = {
    "controller": {"flask", "flask_socketio", "flask_jwt_extended", "backend", "routes", "services"},
    "utils": {"flask", "backend", "routes", "controller", "services"},
    "services": {"routes"},
    "routes": set(),
    "backend": {"routes"},
}
ROUTES_IMPORTERS = {"backend/app.py"}  # the composition root registers the blueprints
# What each layer may use of backend/ (the composition root's other modules wire the app, not serve it).
BACKEND_ALLOWED = {
    "services": {"backend.extensions", "backend.db", "backend.settings"},
    "routes": {"backend.extensions", "backend.db", "backend.errors", "backend.settings"},
}
# Domain package -> the domain packages of the same layer it may import (docs/ARCHITECTURE.md's diagram).
SERVICE_DOMAINS = {
    "platform": set(),
    "market": {"platform"},
    "market_data": {"market", "platform"},
    "accounts": {"platform"},
    "news": {"market", "platform"},
    "realtime": {"market", "market_data", "accounts", "platform"},
    "trading": {"market", "realtime", "accounts", "platform"},
    "jobs": {"platform"},
    "scans": {"jobs", "realtime", "platform"},
    "alerts": {"market", "realtime", "trading", "platform"},
    "fundamentals": {"jobs", "market", "market_data", "realtime", "platform"},
    "runtime": {
        "platform",
        "market",
        "market_data",
        "accounts",
        "news",
        "realtime",
        "trading",
        "jobs",
        "scans",
        "alerts",
        "fundamentals",
    },
}
CONTROLLER_DOMAINS = {
    "platform": set(),
    "market": set(),
    "accounts": set(),
    "news": set(),
    "trading": {"market"},
    "jobs": set(),
    "scans": set(),
    "alerts": {"market", "trading"},
    "fundamentals": {"jobs"},
}
# SQL outside controller/: the migration runner and the local server's provisioning (they are the database's own
# plumbing, not data access).
SQL_ALLOWED = {"backend/migrate.py", "backend/local_mariadb.py"}
_SQL = re.compile(  # statements as this code base writes them: keywords in capitals
    r"^\s*(SELECT\s.+\sFROM\s|SELECT\s+\w+\(|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
    r"SET\s+(SESSION|GLOBAL|NAMES)\s|(CREATE|DROP|ALTER)\s+(TABLE|DATABASE|INDEX|USER)\s|GRANT\s)",
    re.DOTALL,
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return [path for layer in LAYERS for path in sorted((ROOT / layer).rglob("*.py"))]


MODULES = {module_name(path): path for path in source_files()}


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports (at any level of the file), resolved to our modules where they are ours."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in MODULES else node.module)
    return names


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def domain_of(module: str) -> tuple[str, str] | None:
    """(layer, domain) of a module inside a domain package, e.g. ("services", "trading")."""
    parts = module.split(".")
    if parts[0] in ("services", "controller") and len(parts) >= 3:
        return parts[0], parts[1]
    return None


@pytest.mark.parametrize("path", source_files(), ids=rel)
def test_import_direction(path):
    layer = rel(path).split("/")[0]
    imported = imports_of(path)
    forbidden = set(FORBIDDEN[layer]) - ({"routes"} if rel(path) in ROUTES_IMPORTERS else set())
    assert not ({name.split(".")[0] for name in imported} & forbidden), f"{rel(path)} imports {sorted(forbidden)}"
    if layer in BACKEND_ALLOWED:
        from_backend = {name for name in imported if name.split(".")[0] == "backend"}
        assert from_backend <= BACKEND_ALLOWED[layer], f"{rel(path)} imports {sorted(from_backend)}"


@pytest.mark.parametrize("path", source_files(), ids=rel)
def test_domain_packages_depend_only_as_drawn(path):
    own = domain_of(module_name(path))
    if own is None:
        return
    layer, domain = own
    allowed = (SERVICE_DOMAINS if layer == "services" else CONTROLLER_DOMAINS)[domain]
    others = {d for name in imports_of(path) if (d := domain_of(name)) and d[0] == layer and d[1] != domain}
    stray = {d for _, d in others} - allowed
    assert not stray, f"{rel(path)} ({layer}/{domain}) imports {layer}/{sorted(stray)}"


def test_every_domain_package_is_drawn():
    for layer, drawn in (("services", SERVICE_DOMAINS), ("controller", CONTROLLER_DOMAINS)):
        packages = {p.name for p in (ROOT / layer).iterdir() if (p / "__init__.py").exists()}
        assert packages == set(drawn), f"{layer}: packages {sorted(packages)} vs drawn {sorted(drawn)}"
        for domain, deps in drawn.items():
            assert deps <= set(drawn) - {domain}


def test_no_import_cycle_between_files():
    graph = {
        name: {dep for dep in imports_of(path) if dep in MODULES and dep != name} for name, path in MODULES.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_nothing_outside_the_composition_root_imports_routes():
    offenders = [
        rel(path)
        for path in source_files()
        if not rel(path).startswith("routes/")
        and rel(path) not in ROUTES_IMPORTERS
        and "routes" in {name.split(".")[0] for name in imports_of(path)}
    ]
    assert offenders == []


def test_sql_lives_in_controller():
    offenders = []
    for path in source_files():
        if rel(path).startswith("controller/") or rel(path) in SQL_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value):
                offenders.append(f"{rel(path)}:{node.lineno}")
    assert offenders == []


def test_the_documented_package_table_is_the_enforced_one():
    """docs/ARCHITECTURE.md's table of domain packages says what SERVICE_DOMAINS / CONTROLLER_DOMAINS enforce."""
    rows = re.findall(
        r"^\| `(services|controller)/(\w+)/` \| ([^|]*) \|", (ROOT / "docs/ARCHITECTURE.md").read_text(), re.M
    )
    documented: dict[str, dict[str, set[str]]] = {"services": {}, "controller": {}}
    for layer, domain, deps in rows:
        names = {d.strip() for d in deps.split(",")} - {"—", ""}
        documented[layer][domain] = names
    every_service = set(SERVICE_DOMAINS) - {"runtime"}
    if documented["services"].get("runtime") == {"all of the above"}:
        documented["services"]["runtime"] = every_service
    assert documented["services"] == SERVICE_DOMAINS
    assert documented["controller"] == CONTROLLER_DOMAINS


def test_no_merge_conflict_markers_are_committed():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    marked = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".png", ".gz", ".ico", ".woff2"} or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        if re.search(r"^(<{7} |>{7} )", text, re.M):
            marked.append(name)
    assert marked == []
