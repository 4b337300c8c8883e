"""Forms of the cross-check pages. They only collect input: the services check it (and their
FieldErrors are put back on these fields by name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import FieldErrors
from fangkong.crosscheck.models import EvidenceKind, Kind, Outcome, ToDo
from fangkong.people.forms import ResidentForm
from fangkong.people.import_views import UploadForm
from fangkong.people.models import Relation, Sex

# How an outcome reads on the close form, where it differs by kind.
OUTCOME_LABELS = {
    (Kind.POWERED, Outcome.REGISTERED): _("Registered new occupants"),
    (Kind.LIT, Outcome.REGISTERED): _("Registered new occupants"),
    (Kind.RETURNEE_UNREGISTERED, Outcome.REGISTERED): _("Registered on the roster"),
    (Kind.POWERED, Outcome.VACANT): _("Vacant (marks the household vacant)"),
}


class FieldErrorsMixin:
    def add_field_errors(self, exc: FieldErrors) -> None:
        for field, message in exc.errors.items():
            self.add_error(field if field in self.fields else None, message)  # type: ignore[attr-defined]


class EvidenceUploadForm(UploadForm):
    kind = forms.ChoiceField(label=_("Kind of evidence"), choices=EvidenceKind.choices, widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].label = _("File (XLSX or CSV)")
        self.order_fields(["kind", "file", "create_housing"])


class CloseForm(FieldErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("What was found"), widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), max_length=400, required=False,
                           help_text=_("Required for a false alarm: say what was found."))

    def __init__(self, *args, todo: ToDo, **kwargs) -> None:
        kwargs.setdefault("prefix", "close")  # the registration form on the same page has a note too
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [
            (outcome.value, OUTCOME_LABELS.get((Kind(todo.kind), outcome), outcome.label)) for outcome in todo.outcomes]


class OccupantForm(FieldErrorsMixin, ResidentForm):
    """A new occupant of the to-do's household (power), or of a household of the building (lit windows)."""

    def __init__(self, *args, households: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["relation"].initial = Relation.TENANT
        if households is not None:
            self.fields["household"] = forms.TypedChoiceField(
                label=_("Household"), coerce=int,
                choices=[("", "—")] + [(h.pk, f"{h.unit.name}{h.room}") for h in households])
            self.order_fields(["household"])


class ReturneeForm(FieldErrorsMixin, forms.Form):
    """Registering a returnee: name, document and phone come from the checkpoint's list."""

    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices, initial=Relation.OTHER)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("From the ID number"))] + list(Sex.choices), required=False)
    birth_date = forms.CharField(label=_("Birth date"), max_length=20, required=False,
                                 help_text=_("1985-03-02; may be left empty for a resident ID card."))
    note = forms.CharField(label=_("Note"), max_length=400, required=False)

    def raw(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ("relation", "sex", "birth_date", "note")}
