"""Panels a higher app adds to a lower app's object page (e.g. the household page shows the
screening visits): the lower page names its slot and the object, each higher app registers a
panel for that slot in its AppConfig.ready(), so the lower app imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fangkong.core.permissions import Account


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    # (user, object) → the template's context, or None when the panel is not for this user or object
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


_PANELS: dict[str, dict[str, Panel]] = {}


def register_panel(slot: str, panel: Panel) -> None:
    """Register (or replace, by key) a panel of a page slot such as "household"."""
    _PANELS.setdefault(slot, {})[panel.key] = panel


def panels_for(slot: str, user: Account, obj: Any) -> list[tuple[Panel, dict[str, Any]]]:
    shown = []
    for panel in sorted(_PANELS.get(slot, {}).values(), key=lambda p: (p.order, p.key)):
        context = panel.context(user, obj)
        if context is not None:
            shown.append((panel, context))
    return shown
