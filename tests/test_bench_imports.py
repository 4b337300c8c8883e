"""The benchmarks import Fangkong inside their functions (after settings are set up for their own
database), so a moved or renamed function would only break them at the next city-scale run. This test
resolves every `from fangkong… import name` of bench/ now."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pathlib

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench"


def _imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fangkong"):
                found.extend((path.name, node.module, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize(("script", "module", "name"), _imports())
def test_bench_imports_resolve(script, module, name):
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}"), f"{script}: {module}.{name}"
