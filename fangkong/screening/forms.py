"""Forms of the visit, the self-report and the campaign. Fields are loose on purpose: the services
check everything (with the policy) and their FieldErrors are attached back to these fields."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import FieldErrors
from fangkong.core.widgets import DateInput, TemperatureInput
from fangkong.people.models import DocumentType, Relation, Resident, Sex
from fangkong.policy.services import current_policy
from fangkong.screening.models import Method, Outcome, Symptom
from fangkong.screening.readings import TemperatureMethod, ambient_range
from fangkong.screening.validation import PersonInput, VisitInput

PRESENCE = [("present", _("Present")), ("away", _("Away"))]
SYMPTOM_CHOICES = [(code, Symptom.LABELS[bit]) for code, bit in Symptom.CODES.items()]
NEW_OCCUPANT_ROWS = 2
NEW_RESIDENT_FIELDS = ("name", "doc_type", "doc_number", "sex", "birth_date", "phone", "relation")


class ClientIdForm(forms.Form):
    """The id of this submission, made when the page is shown: sending the page twice records it once."""

    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["client_id"] = uuid.uuid4()


class VisitForm(ClientIdForm):
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, widget=forms.RadioSelect, initial=Method.DOOR)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect,
                                initial=Outcome.REACHED)
    note = forms.CharField(label=_("Note"), max_length=400, required=False)


class PersonForm(forms.Form):
    """Readings of one person: a roster member (`resident` given) or a new occupant."""

    ambient_range: tuple | None = None

    presence = forms.ChoiceField(label=_("Present or away"), choices=PRESENCE, widget=forms.RadioSelect,
                                 initial="present", required=False)
    temperature = forms.CharField(label=_("Temperature (°C)"), max_length=10, required=False,
                                  widget=TemperatureInput())
    temperature_method = forms.ChoiceField(label=_("Measured at"), choices=TemperatureMethod.choices,
                                           widget=forms.RadioSelect, initial=TemperatureMethod.FOREHEAD, required=False)
    outdoors = forms.BooleanField(label=_("Measured outdoors"), required=False)
    ambient_c = forms.CharField(label=_("Outdoor temperature (°C)"), max_length=10, required=False,
                                widget=TemperatureInput(attrs={"inputmode": "text"}))
    symptoms = forms.MultipleChoiceField(label=_("Symptoms"), choices=SYMPTOM_CHOICES, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    travel_14d = forms.BooleanField(label=_("Travel or stay in key areas in the last 14 days"), required=False)
    contact_14d = forms.BooleanField(label=_("Contact with confirmed or suspected cases in the last 14 days"),
                                     required=False)

    def __init__(self, *args, resident: Resident | None = None, ambient_range: tuple | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.resident = resident
        if ambient_range:  # the page warns at once when the outdoor temperature is outside the device's range
            low, high = ambient_range
            self.fields["ambient_c"].widget.attrs.update({"data-low": str(low), "data-high": str(high)})
            self.ambient_range = ambient_range

    def person(self, **extra: Any) -> PersonInput:
        data = self.cleaned_data
        return PersonInput(present=data.get("presence", "present") != "away", temperature=data.get("temperature"),
                           temperature_method=data.get("temperature_method") or TemperatureMethod.FOREHEAD,
                           outdoors=bool(data.get("outdoors")), ambient_c=data.get("ambient_c"),
                           symptoms=data.get("symptoms") or [], travel_14d=bool(data.get("travel_14d")),
                           contact_14d=bool(data.get("contact_14d")), **extra)


class NewOccupantForm(PersonForm):
    """Someone living here but not on the roster; left empty, the row is ignored."""

    name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.ID_CARD,
                                 required=False)
    doc_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("From the ID number"))] + list(Sex.choices), required=False)
    birth_date = forms.CharField(label=_("Birth date"), max_length=20, required=False,
                                 help_text=_("1985-03-02; may be left empty for a resident ID card."))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices, initial=Relation.TENANT,
                                 required=False)

    field_order = [*NEW_RESIDENT_FIELDS, "presence", "temperature", "temperature_method", "outdoors", "ambient_c",
                   "symptoms", "travel_14d", "contact_14d"]

    @property
    def is_used(self) -> bool:
        return bool(self.is_valid() and (self.cleaned_data.get("name") or self.cleaned_data.get("doc_number")))

    def person(self, **extra: Any) -> PersonInput:
        new = {name: self.cleaned_data.get(name) for name in NEW_RESIDENT_FIELDS}
        return super().person(new_resident=new, **extra)


class VisitForms:
    """The visit form with one person form per roster member and a few empty new-occupant rows;
    builds the service input and puts the service's errors back on the right fields."""

    def __init__(self, data, residents: list[Resident], *, new_rows: int = NEW_OCCUPANT_ROWS,
                 self_report: bool = False):
        self.visit: ClientIdForm = ClientIdForm(data) if self_report else VisitForm(data)
        ambient = ambient_range(current_policy())
        self.people = [PersonForm(data, resident=r, prefix=f"r{r.pk}", ambient_range=ambient) for r in residents]
        self.new = [NewOccupantForm(data, prefix=f"n{i}", ambient_range=ambient) for i in range(new_rows)]
        self._rows: list[PersonForm] = []

    @property
    def forms(self) -> list[forms.Form]:
        return [self.visit, *self.people, *self.new]

    @property
    def has_errors(self) -> bool:
        return any(f.is_bound and f.errors for f in self.forms)

    def is_valid(self) -> bool:
        return all([f.is_valid() for f in self.forms])  # a list: every form gets validated

    def visit_input(self, **fixed: Any) -> VisitInput:
        values = {**self.visit.cleaned_data, **fixed}
        reached = values.get("outcome") == Outcome.REACHED
        self._rows = [*self.people, *[f for f in self.new if f.is_used]] if reached else []
        persons = [f.person(resident_id=f.resident.pk) for f in self.people] if reached else []
        persons += [f.person() for f in self._rows[len(self.people):]]
        return VisitInput(client_id=values.get("client_id"), method=values.get("method", ""),
                          outcome=values.get("outcome", ""), note=values.get("note", ""), persons=persons)

    def add_errors(self, exc: FieldErrors) -> None:
        for key, message in exc.errors.items():
            parts = key.split(".")
            if parts[0] != "persons" or len(parts) == 1:
                self.visit.add_error(parts[0] if parts[0] in self.visit.fields else None, message)
                continue
            form = self._rows[int(parts[1])]
            name = parts[-1] if len(parts) > 2 else None
            if name == "present":
                name = "presence"
            form.add_error(name if name in form.fields else None, message)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(
        attrs={"placeholder": _("e.g. Three-day city-wide dragnet")}))
    area = forms.ChoiceField(label=_("Area"))
    start_date = forms.DateField(label=_("First day"), widget=DateInput())
    end_date = forms.DateField(label=_("Last day"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, areas: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.code, f"{'　' * (len(a.code) // 3 - 1)}{a.name}") for a in areas]

    def add_field_errors(self, exc: FieldErrors) -> None:
        for name, message in exc.errors.items():
            self.add_error(name if name in self.fields else None, message)
