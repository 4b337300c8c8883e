"""What people adds to the area page (registered in PeopleConfig.ready, see fangkong.core.panels): the
resident search and the area's resident export, at the head of the page's toolbar."""

from __future__ import annotations

from typing import Any

from fangkong.core import permissions


def area_tools(user: permissions.Account | None, area: Any) -> dict[str, Any]:
    return {"area": area, "can_export": permissions.can_reveal(user)}
