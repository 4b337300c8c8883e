"""The layers of the house, enforced: a lower app never imports a higher one, and no modules import
each other in a circle. Every `import` statement counts — at module level, inside a function, under
TYPE_CHECKING — because each one is a dependency a newcomer must follow (docs/architecture.md).

An app may import apps of lower layers only; apps of one layer are independent (neither imports the
other). Where a lower app must show or react to what a higher one knows, the higher app registers with
it (core.hooks, core.panels, core.landing): see docs/architecture.md.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fangkong"

# Bottom to top. The project's own modules (fangkong/urls.py, api.py, batch.py, settings.py, cli.py, testing.py)
# sit above every app and may import any of them.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("audit",),
    ("jobs",),
    ("areas",),
    ("accounts",),
    ("people", "policy"),
    ("cases",),
    ("facilities", "screening"),
    ("observation", "crosscheck"),
    ("tracing",),
    ("demo",),
]
LAYER_OF = {app: index for index, apps in enumerate(LAYERS) for app in apps}



def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_code(path: pathlib.Path) -> bool:
    """Application code: not tests, not migrations (which name apps by label, Django's own graph)."""
    parts = path.relative_to(PACKAGE).parts
    return not ({"tests", "migrations"} & set(parts)) and not parts[-1].startswith("test_")


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if _is_code(p)}


def _imports(path: pathlib.Path, modules: dict[str, pathlib.Path]) -> set[str]:
    """The fangkong modules a file imports (a `from package import submodule` names the submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("fangkong."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fangkong") and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return {name for name in found if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYER_OF) else None


def upward_imports() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) → the module pairs, for imports that do not point strictly down."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, imported in _graph().items():
        source = _app(module)
        if source is None:
            continue  # the project's own modules sit on top
        for target_module in imported:
            target = _app(target_module)
            if target is None:
                found[(source, "fangkong")].append(f"{module} → {target_module}")
            elif target != source and LAYER_OF[target] >= LAYER_OF[source]:
                found[(source, target)].append(f"{module} → {target_module}")
    return dict(found)


def import_circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iteratively)."""
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles


def test_every_app_has_a_layer():
    apps = {p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists()}
    assert apps == set(LAYER_OF), "add the new app to LAYERS here and in docs/architecture.md"


def test_no_app_imports_a_higher_or_sibling_app():
    found = upward_imports()
    assert not found, "imports against the layers:\n" + "\n".join(
        line for lines in found.values() for line in sorted(lines))


def test_no_import_circles():
    circles = import_circles()
    assert not circles, "modules importing each other in a circle:\n" + "\n".join(" ↔ ".join(c) for c in circles)


def test_the_architecture_page_shows_these_layers():
    page = (ROOT / "docs" / "architecture.md").read_text()
    for index, apps in enumerate(LAYERS):
        line = f"| {index} | " + ", ".join(f"`{app}`" for app in apps) + " |"
        assert line in page, f"docs/architecture.md should have the row {line!r}"
    # The picture: top to bottom, one line of apps per layer between the │ joints.
    picture = page.split("```")[1]
    drawn = [tuple(line.split()) for line in picture.splitlines() if line.strip() and line.strip() != "│"]
    assert drawn == [tuple(apps) for apps in reversed(LAYERS)], "redraw the picture in docs/architecture.md"


def function_level_imports() -> list[str]:
    """Imports of Fangkong inside functions of application code, but for AppConfig.ready(): that is where
    an app registers its hooks, providers and panels, once every model is loaded. Anywhere else a local
    import hides a dependency (and, often, the circle it was written to dodge)."""
    found = []
    for name, path in _modules().items():
        for function in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "ready":
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fangkong")) or (
                        isinstance(node, ast.Import) and any(a.name.startswith("fangkong") for a in node.names)):
                    found.append(f"{name}:{node.lineno} in {function.name}()")
    return sorted(set(found))


def test_fangkong_is_imported_at_module_level():
    found = function_level_imports()
    assert not found, "import these at the top of the module:\n" + "\n".join(found)
