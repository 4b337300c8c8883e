"""Where a user starts (the home page, and so the page after log-in), by role.

The home page lives in a low app (areas) while a role's natural start may be a higher app's page
(a grid worker's day list is screening's). The higher app registers its start in its
AppConfig.ready(); roles without a registered start keep the home page's own choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fangkong.core.permissions import Account

# role → a function of the user giving the start URL, or None to keep the home page's choice
_LANDINGS: dict[str, Callable[[Any], str | None]] = {}


def register_landing(role: str, url_for: Callable[[Any], str | None]) -> None:
    _LANDINGS[str(role)] = url_for


def landing_for(user: Account) -> str | None:
    url_for = _LANDINGS.get(str(getattr(user, "role", "") or ""))
    return url_for(user) if url_for is not None else None
