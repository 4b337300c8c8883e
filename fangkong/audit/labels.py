"""Words for the audit log's readers: the model, field and choice names behind the identifiers an entry
stores (`cases.case`, `planned_end_on`, `open`, `True`), found generically through Django's `_meta`.

An entry's `object_type` is a model label (`people.resident`) or a shorter name an app chose for it
(`observation.file` for ObservationFile, `cases.test` for NucleicAcidTest): `resolve_model` maps both.
Names Django made up from a class or field name (`observation file`, `area code`) are looked up in
the catalogs at display time, so they speak the reader's language too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

EMPTY = "∅"
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


class Data(str):
    """A stored value shown as it is (a file name, a free-text reason): data, not UI text."""

    is_data = True
# Keys of `changes` that are notes about an entry rather than fields of its model.
NOTES = {
    "revealed": _("Fields shown"), "_note": _("Reason"), "file": _("File"), "files": _("Files"),
    "_automatic": _("Automatic"), "accounts": _("Accounts"), "before": _("Before"), "buildings": _("Buildings"),
    "merged": _("Merged"), "merged_into": _("Merged into"), "beds": _("Beds"), "closed": _("Closed"), "date": _("Date"), "days": _("Days"), "decision": _("Decision"), "format": _("Format"),
    "masked": _("Masked"), "rows": _("Rows"), "report": _("Report"), "targets": _("Targets"),
    "password": _("Password"), "lockout": _("Lock-out"), "failed_logins": _("Failed log-ins"),
    "created": _("Created"), "updated": _("Updated"), "unchanged": _("Unchanged"), "errors": _("Errors"),
    "issued": _("Issued"), "via": _("Via"), "user": _("User"), "people": _("People"), "placed": _("Placed"),
    "released": _("Released"), "total_km": _("Total distance (km)"), "window": _("Report window"),
    "flag_dismissed": _("Flag dismissed"), "follow_up": _("Follow-up"), "outside_registry": _("Outside the registry"),
    "summaries": _("Daily summaries kept"), "follow_ups": _("Follow-up items"),
    "q": _("Search"), "reason": _("Reason"), "note": _("Note"), "evidence": _("Evidence"), "kind": _("Kind"), "status": _("Status"),
}
# Values written by the code as words rather than choices.
WORDS = {
    "reset": _("reset"), "changed": _("changed"), "cleared": _("cleared"), "xlsx": "XLSX", "csv": "CSV",
    "screening coverage": _("Screening coverage"), "cross-check to-dos": _("Finding the hidden"),
    "facility import": _("Facility import"), "import": _("Import"), "name": _("Full name"), "phone": _("Phone"),
    "open": _("Open"), "all": _("All"), "meter": _("Electricity meter readings"), "lit_windows": _("Lit-window counts"),
    "returnees": _("Returnee lists"),
}


# Words for keys and values that are not model fields (a JSON document such as the policy), given by the
# app that writes them: {model label: () → {key or value: its label}}, registered in its AppConfig.ready().
_WORDS: dict[str, Callable[[], Mapping[str, Any]]] = {}


def register_words(model_label: str, provider: Callable[[], Mapping[str, Any]]) -> None:
    _WORDS[model_label.lower()] = provider


def _registered(model: type[models.Model] | None, key: Any) -> str:
    provider = _WORDS.get(model._meta.label_lower) if model is not None else None
    if provider is None or not isinstance(key, str):
        return ""
    word = provider().get(key)
    return str(word) if word is not None else ""


@lru_cache(maxsize=512)
def resolve_model(object_type: str) -> type[models.Model] | None:
    """The model an entry is about: its label, or the one model of the app whose name ends (or else
    starts) with the given name; None when nothing matches unambiguously."""
    app_label, _dot, name = (object_type or "").lower().partition(".")
    if not name:
        return None
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return None
    candidates = {m._meta.model_name: m for m in config.get_models()}
    if name in candidates:
        return candidates[name]
    for test in (str.endswith, str.startswith):
        found = [m for model_name, m in candidates.items() if test(model_name, name)]
        if len(found) == 1:
            return found[0]
    return None


def object_types_for(model: type[models.Model]) -> list[str]:
    """Every object type that resolves to the model (its label and the shorter names above)."""
    meta = model._meta
    name = meta.model_name
    parts = {name[i:] for i in range(len(name))} | {name[:i] for i in range(1, len(name) + 1)}
    return sorted(t for t in (f"{meta.app_label}.{p}" for p in parts) if resolve_model(t) is model)


def model_label(object_type: str) -> str:
    model = resolve_model(object_type)
    return gettext(str(model._meta.verbose_name)) if model is not None else ""


def audited_models() -> list[tuple[str, str]]:
    """(model label, its name in the reader's language) for the project's models, by name."""
    project = [m for m in apps.get_models() if m.__module__.startswith("fangkong.")]
    return sorted(((m._meta.label_lower, gettext(str(m._meta.verbose_name))) for m in project), key=lambda p: p[1])


def _field(model: type[models.Model] | None, key: str) -> models.Field | None:
    if model is None:
        return None
    for field in model._meta.get_fields():
        if field.concrete and key in (field.name, getattr(field, "attname", field.name)):
            return field
    return None


def field_label(model: type[models.Model] | None, key: str) -> str:
    field = _field(model, key)
    if field is not None:
        return gettext(str(field.verbose_name))
    if registered := _registered(model, key):
        return registered
    if key in NOTES:
        return str(NOTES[key])
    if key in WORDS:
        return str(WORDS[key])
    prefix, _sep, rest = key.partition("_")  # beds_icu, closed_ordinary: a note about one choice
    if rest and (words := _choice_words(model, rest)):
        return f"{gettext(str(NOTES.get(prefix, prefix)))} · {words}"
    return key.lstrip("_").replace("_", " ")


@lru_cache(maxsize=256)
def _app_choices(app_label: str) -> tuple[tuple[str, str, str, Any], ...]:
    """(model name, field name, value, label) of every choice of the app's models."""
    rows = []
    for model in apps.get_app_config(app_label).get_models():
        for field in model._meta.concrete_fields:
            for value, label in field.flatchoices or ():
                rows.append((model._meta.model_name, field.name, str(value), label))
    return tuple(rows)


def _choice_words(model: type[models.Model] | None, value: str, key: str = "") -> str:
    """The label of a coded value: a field of the model's app named `key`, then the app's models named
    after the key (`decision` → FileDecision), then any choice of the app, then of the whole project,
    with that value (when its label is unambiguous)."""
    if model is None:
        return ""
    project = [r for app in _project_apps() for r in _app_choices(app) if r[2] == value]
    rows = [r for r in _app_choices(model._meta.app_label) if r[2] == value]
    for candidates, keep in ((rows, lambda r: r[1] == key), (rows, lambda r: bool(key) and key in r[0]),
                             (rows, lambda r: True), (project, lambda r: True)):
        found = {str(r[3]) for r in candidates if keep(r)}
        if len(found) == 1:
            return found.pop()
    return ""


@lru_cache(maxsize=1)
def _project_apps() -> tuple[str, ...]:
    return tuple(c.label for c in apps.get_app_configs() if c.name.startswith("fangkong."))


def value_label(model: type[models.Model] | None, key: str, value: Any, mask=None) -> Any:
    """A stored value in words: a choice's name, 是/否, a related object's number, masked identifiers."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict):
        return "; ".join(f"{field_label(model, k)}: {value_label(model, k, v, mask)}" for k, v in value.items()) or EMPTY
    if isinstance(value, list):
        return "、".join(str(value_label(model, key, v, mask)) for v in value) or EMPTY
    field = _field(model, key)
    if field is not None and field.is_relation and isinstance(value, int):
        return f"#{value}"
    if isinstance(value, str):
        if field is None and value in WORDS:  # a note's word (the fields a reveal showed: name, phone)
            return str(WORDS[value])
        if mask is not None:
            return mask(value)
        if field is not None and field.flatchoices:
            labels = {str(v): label for v, label in field.flatchoices}
            if value in labels:
                return str(labels[value])
        if registered := _registered(model, value):
            return registered
        if value in WORDS:
            return str(WORDS[value])
        if field is None and (words := _choice_words(model, value, key)):
            return words
        if not IDENTIFIER.fullmatch(value):  # a code left unnamed stays visible to the catalog checks
            return Data(value)
    return value
