"""Forms of the four-category screens: they collect input; the services decide."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.cases.models import Result, Severity, Status
from fangkong.cases.transitions import TRANSITIONS, allowed

_l = gettext_lazy
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _status_choices(statuses) -> list[tuple[str, str]]:
    return [(s, label) for s, label in Status.choices if s in statuses]


class OpenCaseForm(forms.Form):
    status = forms.ChoiceField(label=_l("Category"), choices=_status_choices(TRANSITIONS[None]))
    severity = forms.ChoiceField(label=_l("Severity (confirmed cases)"), choices=[("", "—"), *Severity.choices], required=False)
    reason = forms.CharField(label=_l("Reason"), max_length=200, widget=forms.TextInput(attrs={"placeholder": _l("e.g. 37.9 °C and a cough at the door-to-door check")}))
    evidence = forms.CharField(label=_l("Evidence"), max_length=200, required=False)


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_l("New status"))
    severity = forms.ChoiceField(label=_l("Severity (confirmed cases)"), choices=[("", "—"), *Severity.choices], required=False)
    reason = forms.CharField(label=_l("Reason"), max_length=200)
    evidence = forms.CharField(label=_l("Evidence"), max_length=200, required=False,
                               help_text=_l("e.g. a CT report, a sample number, the doctor's name"))
    cure_override = forms.CharField(label=_l("Discharge as cured without the tests the policy asks for: why"), max_length=200,
                                    required=False, help_text=_l("Only when the tests are missing; recorded in the audit log."))

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = _status_choices(allowed(current))
        if Status.DISCHARGED not in allowed(current):
            del self.fields["cure_override"]


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(label=_l("Severity"), choices=Severity.choices)
    reason = forms.CharField(label=_l("Reason"), max_length=200)


class OrderTestForm(forms.Form):
    sample_number = forms.CharField(label=_l("Sample number"), max_length=40, required=False,
                                    help_text=_l("The tube's barcode; left empty, a number is made."))
    take_now = forms.BooleanField(label=_l("The sample is taken now"), required=False)
    place = forms.CharField(label=_l("Where"), max_length=100, required=False)
    taker = forms.CharField(label=_l("Taken by"), max_length=50, required=False)


class SampleForm(forms.Form):
    sampled_at = forms.DateTimeField(label=_l("Sample taken at"), input_formats=DATETIME_FORMATS, widget=DATETIME_INPUT, required=False)
    place = forms.CharField(label=_l("Where"), max_length=100)
    taker = forms.CharField(label=_l("Taken by"), max_length=50, required=False)


class ResultForm(forms.Form):
    result = forms.ChoiceField(label=_l("Result"), choices=[c for c in Result.choices if c[0]])
    result_at = forms.DateTimeField(label=_l("Result time"), input_formats=DATETIME_FORMATS, widget=DATETIME_INPUT, required=False)
    lab = forms.CharField(label=_l("Laboratory"), max_length=100, required=False)

    def clean_result_at(self):
        return self.cleaned_data.get("result_at") or timezone.now()


class LabFileForm(forms.Form):
    file = forms.FileField(label=_l("Lab result file (XLSX or CSV)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".xlsx", ".csv"):
            raise forms.ValidationError(_("Only .xlsx and .csv files can be imported."))
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)})
        return upload


def add_field_errors(form: forms.Form, errors: dict[str, str]) -> None:
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, str(message))
