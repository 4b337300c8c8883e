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


def clean_text(value: Any, field: str, *, limit: int, required: bool = False, collapse: bool = True,
               errors: dict[str, str] | None = None, required_message: str | None = None,
               too_long_message: str | None = None) -> str:
    """Free text from a person, tidied: whitespace collapsed to single spaces (a name, a place), or with
    `collapse=False` only stripped at both ends (a note keeps its lines). Empty when required, or longer
    than `limit`, is a field error — raised as FieldErrors or, given an `errors` dict, written there (a
    form checking all its fields at once) while the text is returned. The messages default to "This field
    is required." ("Give a reason." for a reason) and "Longer than N characters."; a field whose page says
    it otherwise passes its own (`too_long_message` with an %(n)d placeholder)."""
    raw = str(value if value is not None else "")
    text = " ".join(raw.split()) if collapse else raw.strip()
    message = ""
    if required and not text:
        message = required_message or (_("Give a reason.") if field == "reason" else _("This field is required."))
    elif len(text) > limit:
        message = (too_long_message or _("Longer than %(n)d characters.")) % {"n": limit}
    if message:
        if errors is None:
            raise FieldErrors({field: message})
        errors[field] = message
    return text


UserT = TypeVar("UserT")


def actor(user: UserT | None) -> UserT | None:
    """The user to record as having acted: None for an anonymous user or a user not saved (jobs, links)."""
    return user if getattr(user, "pk", None) else None
