"""Forms of the tracing screens: they collect input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.areas.models import Household
from fangkong.people.models import DocumentType, Sex
from fangkong.tracing.models import ContactKind, Protection

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvestigationForm(forms.Form):
    onset_on = forms.DateField(label=_("Symptom onset"), required=False, widget=DATE_INPUT)
    sampled_on = forms.DateField(label=_("Sampling date"), required=False, widget=DATE_INPUT,
                                 help_text=_("Counts when the onset is not known."))
    places = forms.CharField(label=_("Public places visited"), required=False, max_length=6000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("One per line; each gets a terminal disinfection task."))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def place_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("places", "").splitlines() if line.strip()]


class ContactForm(forms.Form):
    client_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    name = forms.CharField(label=_("Name"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind of contact"), choices=ContactKind.choices)
    protection = forms.ChoiceField(label=_("Protection"), choices=Protection.choices)
    last_exposure_on = forms.DateField(label=_("Last exposure"), widget=DATE_INPUT)
    first_exposure_on = forms.DateField(label=_("First exposure"), required=False, widget=DATE_INPUT)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices)
    doc_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    address = forms.CharField(label=_("Address as reported"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("e.g. 青和居2栋201")}))


class RegisterForm(forms.Form):
    household = forms.ModelChoiceField(label=_("Household"), queryset=Household.objects.none())
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False,
                            help_text=_("Read from a resident ID card when left empty."))
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["household"].label_from_instance = lambda h: h.address


class LinkForm(forms.Form):
    """The infector is picked from a search of the cases in scope (the page lists them), never typed."""

    infector = forms.IntegerField(label=_("Source of infection"), min_value=1, widget=forms.HiddenInput,
                                  error_messages={"required": _("Search for the person and choose them.")})
    evidence = forms.CharField(label=_("Evidence"), max_length=200, required=False)


class TaskDoneForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
