"""Every msgid written in the Python code has a Chinese entry (an untranslated label shows English in
the Chinese UI, like "Lab result file (XLSX or CSV)" did). The source is read, not imported, so any
alias of gettext (`_`, `_l`, `gettext_lazy`, ...) is covered whatever makemessages would extract."""

from __future__ import annotations

import ast
from pathlib import Path

import polib

import fangkong

ROOT = Path(fangkong.__file__).resolve().parent
GETTEXT = {"_", "_l", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
CONTEXT_FIRST = {"pgettext", "pgettext_lazy"}


def _aliases(tree: ast.Module) -> set[str]:
    """Local names bound to gettext functions (`from ... import gettext_lazy as _l`, `_l = gettext_lazy`)."""
    names = set(GETTEXT)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            names |= {a.asname for a in node.names if a.asname and a.name in GETTEXT}
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in GETTEXT:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def code_msgids() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _aliases(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
                continue
            args = node.args
            context = ""
            if node.func.id in CONTEXT_FIRST and len(args) >= 2 and isinstance(args[0], ast.Constant):
                context, args = str(args[0].value), args[1:]
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str) and args[0].value:
                found.setdefault((context, args[0].value), f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_msgid_of_the_code_is_in_the_chinese_catalog():
    catalog = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    translated = {(e.msgctxt or "", e.msgid) for e in catalog if e.msgstr or e.msgstr_plural.get(0)}
    missing = {key: where for key, where in code_msgids().items() if key not in translated}
    assert not missing, "\n".join(f"{where}: {msgid!r}" for (_ctx, msgid), where in sorted(missing.items(), key=lambda i: i[1]))
