"""The errors every layer shares, and the two small helpers that raise or pass them on.

A domain operation refuses bad input with `FieldErrors`: one message per field, in the user's language,
that a form attaches to its fields, the API returns as JSON and an import writes into its row report.
A refusal about one thing (an illegal status change, no free bed) is a `FieldError`: the same, with one
field and a message that str() gives back, so a view can show it as a banner.

`clean_text` is the one way free text from a person is tidied (whitespace collapsed, length capped,
required or not); `actor` turns "nobody logged in" (an anonymous user, a job) into None for the
audit log and the `created_by` columns.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.utils.translation import gettext as _


class FieldErrors(ValueError):
    """Bad input: `errors` maps a field name to its message ("__all__" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class FieldError(FieldErrors):
    """A refusal on one field; str() is the user-facing message. Subclasses name their usual field."""

    field = "__all__"

    def __init__(self, message: str, field: str | None = None):
        super().__init__({field or self.field: message})
        self.message = message

    def __str__(self) -> str:
        return self.message


def clean_text(value: Any, field: str, *, limit: int, required: bool = False,
               errors: dict[str, str] | None = None) -> str:
    """Free text with its whitespace collapsed. Empty when required, or longer than `limit`, is a field
    error: raised as FieldErrors, or — given an `errors` dict — written there (a form checking all its
    fields at once) while the text is returned."""
    text = " ".join(str(value if value is not None else "").split())
    message = ""
    if required and not text:
        message = _("Give a reason.") if field == "reason" else _("This field is required.")
    elif len(text) > limit:
        message = _("Longer than %(n)d characters.") % {"n": limit}
    if message:
        if errors is None:
            raise FieldErrors({field: message})
        errors[field] = message
    return text


UserT = TypeVar("UserT")


def actor(user: UserT | None) -> UserT | None:
    """The user to record as having acted: None for an anonymous user or a user not saved (jobs, links)."""
    return user if getattr(user, "pk", None) else None
