"""The layout shows the architecture, and stays so: which package may import which, what a pure-rules module may
not touch, views that call services only, and modules of a readable size. Read from the source (its import
statements), so that a change that breaks a rule fails here, before review. docs/architecture.md has the map."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUNTIME = ["hotline", "crm", "work_orders", "campaigns", "reporting", "ivr", "cti"]
PACKAGES = [*RUNTIME, "demo"]

# Who may import whom: each part names the parts it may use. The platform's core is at the bottom; the process
# wiring (hotline/stack.py, hotline/status.py and app.py start and check whole processes) is at the top.
MAY_IMPORT: dict[str, set[str]] = {
    "hotline": {"hotline"},
    "crm": {"hotline", "crm"},
    "reporting": {"hotline", "crm", "reporting"},
    "work_orders": {"hotline", "crm", "work_orders"},
    "campaigns": {"hotline", "crm", "campaigns"},
    "ivr": {"hotline", "crm", "work_orders", "reporting", "ivr"},
    "cti": {"hotline", "crm", "work_orders", "campaigns", "reporting", "cti"},
    "demo": {"hotline", "crm", "work_orders", "campaigns", "reporting", "demo"},
}
# The core modules of hotline/ that the domains use; the rest of hotline/ wires and runs processes.
CORE = {"hotline.config", "hotline.events", "hotline.logs", "hotline.privacy", "hotline.policy_file"}
WIRING = {"hotline.stack", "hotline.status"}
# The one place the tier thresholds' type comes from for the configuration: a leaf module with no imports.
CONFIG_TYPES = {"crm.tiers"}

# Modules of pure rules: no database, Redis, ARI (httpx) or file access.
PURE = [
    "crm/tiers.py",
    "crm/vocabulary.py",
    "crm/account_numbers.py",
    "crm/verification.py",
    "work_orders/rules.py",
    "campaigns/rules.py",
    "reporting/queue_events.py",
    "reporting/floor_figures.py",
    "hotline/periods.py",
    "reporting/ivr_funnel.py",
    "ivr/menu.py",
    "cti/acd/policy.py",
    "hotline/privacy.py",
]
IMPURE_IMPORTS = ("sqlalchemy", "redis", "httpx", "tomllib", "websockets", "aiohttp")
FILE_ACCESS = ("open", "read_text", "read_bytes", "write_text", "write_bytes")
LONGEST = 500


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (REPO / package).rglob("*.py") if "migrations" not in p.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _own(imports: set[str]) -> set[str]:
    """The imported modules that are the hotline's own."""
    return {name for name in imports if name.split(".")[0] in PACKAGES}


@pytest.mark.parametrize("package", PACKAGES)
def test_each_part_imports_only_the_parts_below_it(package: str) -> None:
    wrong = []
    for path in _modules(package):
        module = _name(path)
        if module in WIRING:
            continue
        allowed = MAY_IMPORT[package]
        for name in _own(_imports(path)):
            top = name.split(".")[0]
            if package == "hotline" and top != "hotline" and name in CONFIG_TYPES and module == "hotline.config":
                continue
            if top not in allowed:
                wrong.append(f"{module} imports {name}")
            elif (
                top == "hotline"
                and package != "hotline"
                and not any(name == core or name.startswith(core + ".") for core in CORE)
            ):
                wrong.append(f"{module} imports {name}, which runs processes (only wiring may)")
    assert not wrong, "\n".join(wrong)


def test_demo_is_outside_the_running_hotline() -> None:
    users = [
        _name(path)
        for package in RUNTIME
        for path in _modules(package)
        if _name(path) not in WIRING and any(name.split(".")[0] == "demo" for name in _own(_imports(path)))
    ]
    assert not users


@pytest.mark.parametrize("module", PURE)
def test_pure_rules_touch_no_database_redis_network_or_file(module: str) -> None:
    path = REPO / module
    touched = sorted(name for name in _imports(path) if name.split(".")[0] in IMPURE_IMPORTS)
    touched += sorted(
        f"{_name(path)} imports {name}"
        for name in _own(_imports(path))
        if name.split(".")[0] in PACKAGES
        and (REPO / (name.replace(".", "/") + ".py")).exists()
        and f"{name.replace('.', '/')}.py" not in PURE
    )
    calls = [
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    ]
    touched += sorted({call for call in calls if call in FILE_ACCESS})
    assert not touched, touched


def test_the_web_views_call_services_only() -> None:
    found = []
    for path in [*_modules("cti/web"), REPO / "cti/screenpop.py"]:
        imports = _imports(path)
        found += [f"{_name(path)} imports {name}" for name in imports if name.split(".")[0] == "sqlalchemy"]
        found += [f"{_name(path)} imports {name}" for name in imports if name == "crm.db" or name.endswith(".models")]
        text = path.read_text()
        found += [f"{_name(path)} opens a session" for marker in (".sessions()", "session.execute(") if marker in text]
    assert not found, "\n".join(found)


def test_the_web_views_import_each_other_without_a_cycle() -> None:
    graph = {
        _name(path): {name for name in _own(_imports(path)) if name.startswith("cti.web")}
        for path in _modules("cti/web")
    }
    graph = {
        module: {n if n in graph else n.rpartition(".")[0] for n in deps} - {module} for module, deps in graph.items()
    }

    def cycle_from(start: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in graph.get(start, ()):
            if nxt in seen:
                return (*seen, nxt)
            found = cycle_from(nxt, (*seen, nxt))
            if found:
                return found
        return None

    cycles = [c for module in graph if (c := cycle_from(module, (module,)))]
    assert not cycles, cycles[0]


def test_every_folder_says_what_it_is_for() -> None:
    folders = {p.parent for package in PACKAGES for p in _modules(package)}
    silent = [
        str(f.relative_to(REPO))
        for f in folders
        if not ast.get_docstring(
            ast.parse((f / "__init__.py").read_text()) if (f / "__init__.py").exists() else ast.Module([], [])
        )
    ]
    assert not silent


def test_modules_are_of_a_readable_size() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for package in PACKAGES
        for path in _modules(package)
        if (n := len(path.read_text().splitlines())) > LONGEST
    }
    assert not long, long
