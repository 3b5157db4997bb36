"""The runtime's modules import each other in layers: no circle of module-level imports
(function-level imports are for heavy or optional dependencies, not to dodge a circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import runtime

PACKAGE = Path(runtime.__file__).parent


def module_level_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("runtime."):
            found.add(node.module.split(".")[1])
    return found


def test_runtime_modules_import_each_other_without_circles() -> None:
    graph = {p.stem: module_level_imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import circle: {' -> '.join([*path, module])}"
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_lazy_imports_in_the_engine_are_for_optional_or_heavy_modules_only() -> None:
    allowed = {
        "caching",
        "cache_policies",
        "client",
        "cloud_storage",
        "config",
        "deploying",
        "flow_results",
        "graph_schedule",
        "mapping",
        "names",
        "parameters",
        "reporting",
        "requirements",
        "results",
        "subflows",
        "task_runners",
        "errors",
        "execution",  # imported by a thread while `pushflow execute` waits for RUNNING (execute.py)
    }
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.module and inner.module.startswith("runtime."):
                        name = inner.module.split(".")[1]
                        assert name in allowed, f"{path.name}:{inner.lineno} imports runtime.{name} inside a function"
