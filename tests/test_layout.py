"""The layout shows the architecture, and stays so: which package may import which, what a pure-rules module may
not touch, views that call services only, and modules of a readable size (that only the wiring, the tests and
the benchmarks import demo/ is tested in tests/test_crm_demo.py). Read from the source (its import
statements), so that a change that breaks a rule fails here, before review. docs/architecture.md has the map."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUNTIME = ["hotline", "crm", "work_orders", "campaigns", "reporting", "ivr", "cti"]
PACKAGES = [*RUNTIME, "demo", "testbed"]

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
    "testbed": {"hotline", "testbed"},
}
# The core modules of hotline/ that the domains use; the rest of hotline/ wires and runs processes.
CORE = {
    "hotline.config",
    "hotline.events",
    "hotline.logs",
    "hotline.privacy",
    "hotline.periods",
    "hotline.policies",
    "hotline.policy_file",
}
# A whole hotline started and checked: above every part, it may import any of them.
WIRING = {"hotline.stack", "hotline.status"}
# Each process kind's one wiring module: opens the connections and builds its part, so it may also use the
# process-running side of hotline/ (the Asterisk runtime's paths).
PROCESS_WIRING = {"ivr.process", "cti.acd.process", "cti.outbound.process", "cti.web.wiring"}
# The one place the tier thresholds' type comes from for the configuration: a leaf module with no imports.
CONFIG_TYPES = {"crm.tiers"}

# Modules of pure rules: no database, Redis, ARI (httpx) or file access.
PURE = [
    "hotline/privacy.py",
    "hotline/periods.py",
    "hotline/policies.py",
    "crm/tiers.py",
    "crm/vocabulary.py",
    "crm/account_numbers.py",
    "crm/verification.py",
    "crm/customer_records.py",
    "work_orders/rules.py",
    "campaigns/rules.py",
    "campaigns/eligibility.py",
    "campaigns/hours.py",
    "campaigns/messages.py",
    "campaigns/pacing.py",
    "reporting/queue_events.py",
    "reporting/queue_rows.py",
    "reporting/agent_day.py",
    "reporting/floor_figures.py",
    "reporting/ivr_funnel.py",
    "ivr/menu.py",
    "cti/causes.py",
    "cti/acd/policy.py",
    "cti/acd/floor.py",
    "cti/outbound/rules.py",
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
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            submodules = {name for name in names if _is_module(name)}
            # `from cti.web import i18n` imports the module cti.web.i18n; `from cti.web.i18n import t` the same.
            found |= submodules or {node.module}
            found |= names - submodules
    return found


def _is_module(name: str) -> bool:
    path = REPO / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


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
            if module == "hotline.config" and (name in CONFIG_TYPES or name.rpartition(".")[0] in CONFIG_TYPES):
                continue
            if top not in allowed:
                wrong.append(f"{module} imports {name}")
            elif (
                top == "hotline"
                and name != "hotline"  # `from hotline import periods`: the module is checked by its own name
                and package != "hotline"
                and module not in PROCESS_WIRING
                and not any(name == core or name.startswith(core + ".") for core in CORE)
            ):
                wrong.append(f"{module} imports {name}, which runs processes (only wiring may)")
    assert not wrong, "\n".join(wrong)


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
    views = [path for path in _modules("cti/web") if _name(path) not in PROCESS_WIRING]
    for path in [*views, REPO / "cti/screenpop.py"]:
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
