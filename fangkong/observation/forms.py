"""Forms of the observation screens: they collect input; the services decide (and their FieldErrors are
put back on these fields)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.widgets import DateInput, TemperatureInput
from fangkong.observation.models import DecisionKind, Kind
from fangkong.observation.reports import DEFAULT_METHOD, HowTakenInput
from fangkong.screening.forms import SYMPTOM_CHOICES, ClientIdForm
from fangkong.screening.readings import TemperatureMethod

DATE_INPUT = DateInput()
TEMPERATURE_INPUT = TemperatureInput()


class OpenFileForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.HOME)
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": _("e.g. close contact of a confirmed case")}))
    last_exposure_on = forms.DateField(label=_("Last exposure"), widget=DATE_INPUT)
    place = forms.CharField(label=_("Place"), max_length=200, required=False,
                            help_text=_("Home address or the isolation site"))


class ReportForm(ClientIdForm):
    temperature = forms.CharField(label=_("Temperature (°C)"), max_length=10, widget=TEMPERATURE_INPUT)
    temperature_method = forms.ChoiceField(label=_("Measured at"), choices=TemperatureMethod.choices,
                                           initial=DEFAULT_METHOD, required=False, widget=forms.RadioSelect)
    outdoors = forms.BooleanField(label=_("Measured outdoors"), required=False)
    ambient_c = forms.CharField(label=_("Outdoor temperature (°C)"), max_length=10, required=False,
                                widget=TemperatureInput(attrs={"inputmode": "text"}))
    symptoms = forms.MultipleChoiceField(label=_("Symptoms"), choices=SYMPTOM_CHOICES, required=False,
                                         widget=forms.CheckboxSelectMultiple)

    def how_taken(self) -> HowTakenInput:
        data = self.cleaned_data
        return HowTakenInput(data.get("temperature_method") or DEFAULT_METHOD, bool(data.get("outdoors")),
                             data.get("ambient_c"))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Follow-up note"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Decision"), choices=[(k, DecisionKind(k).label) for k in (
        DecisionKind.EXTEND, DecisionKind.SHORTEN, DecisionKind.END)])
    new_end_on = forms.DateField(label=_("New end"), widget=DATE_INPUT, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ViolationForm(forms.Form):
    note = forms.CharField(label=_("What happened"), max_length=200,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. seen leaving the compound at 14:00")}))


class HandleAlertForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


def add_field_errors(form: forms.Form, errors: dict[str, str]) -> None:
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, str(message))


class ResponsibleForm(forms.Form):
    """Choose the responsible worker (包保责任人) among the area's grid and community workers."""

    responsible = forms.TypedChoiceField(label=_("Responsible worker"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args, workers, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        field.required = required
        field.choices = [("", "—")] + [(w.pk, label) for w, label in workers]
        field.widget.attrs["aria-label"] = str(field.label)
