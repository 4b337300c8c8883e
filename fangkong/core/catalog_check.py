"""Which UI strings of the code have no translation: every msgid in the Python code and the templates must
have a msgstr in both catalogs (zh_Hans and en).

Pure Python, no GNU gettext: the Python files are read with `ast` (calls of `_`, `_l`, `gettext`,
`gettext_lazy`, `ngettext`, `pgettext`… with literal strings), the templates with Django's own `templatize`.
Run `python -m fangkong.core.catalog_check` to list what is missing; the suite runs the same check.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
from django.utils.translation.template import templatize

PACKAGE = Path(__file__).resolve().parent.parent
CATALOGS = {lang: PACKAGE / "locale" / lang / "LC_MESSAGES" / "django.po" for lang in ("zh_Hans", "en")}
SINGULAR = {"_", "_l", "gettext", "gettext_lazy", "gettext_noop", "_noop"}
PLURAL = {"ngettext", "ngettext_lazy"}
CONTEXT = {"pgettext", "pgettext_lazy"}
_STRING = r"u'(?:[^'\\]|\\.)*'"
_TEMPLATE_CALL = re.compile(rf"\b(gettext|ngettext|pgettext|npgettext)\(({_STRING}(?:\s*,\s*{_STRING})*)")


def _python_msgids(path: Path) -> set[tuple[str, str]]:
    """(context, msgid) pairs; plural forms give their singular."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name in SINGULAR | PLURAL and strings and isinstance(node.args[0], ast.Constant):
            found.add(("", strings[0]))
        elif name in CONTEXT and len(strings) >= 2:
            found.add((strings[0], strings[1]))
    return found


def _template_msgids(path: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for match in _TEMPLATE_CALL.finditer(templatize(path.read_text(encoding="utf-8"), origin=str(path))):
        kind, args = match.group(1), [ast.literal_eval(s) for s in re.findall(_STRING, match.group(2))]
        found.add((args[0], args[1]) if kind in ("pgettext", "npgettext") else ("", args[0]))
    return found


def code_msgids() -> dict[tuple[str, str], str]:
    """Every (context, msgid) of the code, with one file that uses it."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        for key in _python_msgids(path):
            found.setdefault(key, str(path.relative_to(PACKAGE)))
    for path in sorted(PACKAGE.rglob("templates/**/*.html")):
        for key in _template_msgids(path):
            found.setdefault(key, str(path.relative_to(PACKAGE)))
    return found


def missing_translations() -> dict[str, list[tuple[str, str, str]]]:
    """For each catalog: (context, msgid, file) of the code's strings it does not translate."""
    code = code_msgids()
    result = {}
    for lang, path in CATALOGS.items():
        translated = {(e.msgctxt or "", e.msgid) for e in polib.pofile(str(path)) if e.translated()}
        result[lang] = sorted((ctx, msgid, where) for (ctx, msgid), where in code.items()
                              if msgid and (ctx, msgid) not in translated)
    return result


def main() -> None:
    for lang, rows in missing_translations().items():
        print(f"{lang}: {len(rows)} missing")
        for ctx, msgid, where in rows:
            print(f"  {where}: {(ctx + ' | ') if ctx else ''}{msgid}")


if __name__ == "__main__":
    main()
