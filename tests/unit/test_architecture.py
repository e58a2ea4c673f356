"""Dependencies run one way: domain ← Dagster definitions ← pipelines/.

* **domain** modules (parsing, normalisation, rules, load planning: every module of ``assets/`` that is not a
  Dagster definition, and ``expectations/``, ``warehouse_schema/``) import no ``dagster*`` and nothing from
  ``pipelines``;
* **Dagster definition** modules (``assets/<stage>/assets.py`` and ``checks.py``, and the shared
  ``assets/partitions.py``, ``assets/resources.py``, ``assets/tables.py``, ``assets/failures.py``) import the
  domain, never ``pipelines``;
* ``pipelines/`` composes them (definitions, jobs, schedules, sensors, CLI);
* nothing in production imports ``tests`` or reportlab (test support lives in ``tests/support/``);
* no import of our own packages inside a function (a hidden cycle): they are at the top of the module.

The imports are read with ``ast`` (nothing is imported), so a failure names the module and the import.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("assets", "expectations", "warehouse_schema", "pipelines")
OURS = {"assets", "expectations", "warehouse_schema", "pipelines", "examples", "tests", "bench"}
#: the Dagster definition modules of a stage: its assets, and its asset checks when they live apart
DEFINITION_FILES = {"assets.py", "checks.py"}
#: the Dagster definition modules of assets/ shared by the stages
DEFINITION_MODULES = {"assets.partitions", "assets.resources", "assets.failures", "assets.tables"}
#: third-party libraries production never imports (dev dependencies)
DEV_ONLY = {"reportlab", "pytest", "tests"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"{self.module}:{self.line} imports {self.target}{where}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend(Import(module, a.name, child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, child, path.name == "__init__.py")
                out.append(Import(module, target, child.lineno, in_function))
                # `from tests.support import crawl`: the submodule is the import
                out.extend(
                    Import(module, f"{target}.{a.name}", child.lineno, in_function)
                    for a in child.names
                    if (REPO / Path(*f"{target}.{a.name}".split("."))).with_suffix(".py").exists()
                    or (REPO / Path(*f"{target}.{a.name}".split("."))).is_dir()
                )
            visit(child, nested)

    visit(tree, False)
    return out


def production_modules() -> list[Path]:
    return sorted(p for pkg in PRODUCTION for p in (REPO / pkg).rglob("*.py") if "__pycache__" not in p.parts)


def kind_of(path: Path) -> str:
    module = module_name(path)
    top = module.split(".")[0]
    if top == "pipelines":
        return "composition"
    if top == "assets" and (path.name in DEFINITION_FILES or module in DEFINITION_MODULES):
        return "definition"
    return "domain"


def _top(target: str) -> str:
    return target.split(".")[0]


ALL = {p: imports_of(p) for p in production_modules()}


def violations(rule) -> list[str]:
    return [f"{imp}" for path, imps in ALL.items() for imp in imps if rule(path, imp)]


def test_the_walk_sees_the_layers():
    kinds = {module_name(p): kind_of(p) for p in ALL}
    assert kinds["assets.load.assets"] == "definition"
    assert kinds["assets.partitions"] == "definition" and kinds["assets.resources"] == "definition"
    assert kinds["assets.load.planning"] == "domain" and kinds["assets.validate.verdicts"] == "domain"
    assert kinds["warehouse_schema.tables"] == "domain" and kinds["pipelines.definitions"] == "composition"
    # the walk finds imports at module level and inside functions
    assert any(i.target == "dagster" for i in ALL[REPO / "assets/load/assets.py"])


def test_domain_modules_import_no_dagster_and_no_pipelines():
    bad = violations(
        lambda path, imp: (
            kind_of(path) == "domain" and (_top(imp.target).startswith("dagster") or _top(imp.target) == "pipelines")
        )
    )
    assert not bad, (
        "domain modules must not import Dagster or pipelines/ (move the code to a definition "
        "module, or the definition to assets/):\n" + "\n".join(bad)
    )


def test_dagster_definitions_import_nothing_from_pipelines():
    bad = violations(lambda path, imp: kind_of(path) == "definition" and _top(imp.target) == "pipelines")
    assert not bad, "Dagster definition modules must not import pipelines/ (pipelines/ composes them):\n" + "\n".join(
        bad
    )


def test_production_imports_no_test_support():
    bad = violations(lambda path, imp: _top(imp.target) in DEV_ONLY)
    assert not bad, "production code must not import tests or dev-only libraries:\n" + "\n".join(bad)


def test_no_function_level_imports_of_our_own_packages():
    bad = violations(lambda path, imp: imp.in_function and _top(imp.target) in OURS)
    assert not bad, (
        "imports of our own modules belong at the top of the module (a function-level import "
        "hides a cycle: move the function where it belongs):\n" + "\n".join(bad)
    )


@pytest.mark.parametrize("rule", ["domain", "definition"])
def test_the_rules_catch_a_bad_import(tmp_path, monkeypatch, rule):
    """The walk itself: a planted import (in a copy of the layout under tmp_path, never in the source tree) is
    reported with its module and line, and breaks the rule of its module's kind."""
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    pkg = tmp_path / "assets" / "probe"
    pkg.mkdir(parents=True)
    name = "assets.py" if rule == "definition" else "logic.py"
    (pkg / name).write_text("def f():\n    from pipelines.jobs import process_job\n", encoding="utf-8")
    (imp,) = imports_of(pkg / name)
    assert str(imp) == f"assets.probe.{name[:-3]}:2 imports pipelines.jobs (inside a function)"
    assert kind_of(pkg / name) == rule
    assert imp.in_function and _top(imp.target) == "pipelines"
