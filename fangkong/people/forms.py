"""The resident form. Fields are loose on purpose: `clean_resident` (shared with the API and the
import) does the real checking and its FieldErrors are attached to these fields by name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import FieldErrors
from fangkong.people.models import DocumentType, Relation, Resident, Sex, SpecialGroup

FIELDS = ("name", "sex", "birth_date", "doc_type", "doc_number", "phone", "relation",
          "registered_address", "special_groups", "note")


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.ID_CARD)
    doc_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("From the ID number"))] + list(Sex.choices), required=False)
    birth_date = forms.CharField(label=_("Birth date"), max_length=20, required=False,
                                 help_text=_("1985-03-02; may be left empty for a resident ID card."))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices, initial=Relation.HEAD)
    registered_address = forms.CharField(label=_("Registered residence"), max_length=400, required=False)
    special_groups = forms.TypedMultipleChoiceField(
        label=_("Special groups"), choices=list(SpecialGroup.LABELS.items()), coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), max_length=400, required=False)

    def raw(self) -> dict[str, Any]:
        """The cleaned form as `clean_resident` input (special groups as a bitmask)."""
        data = {name: self.cleaned_data.get(name) for name in FIELDS}
        mask = 0
        for bit in data["special_groups"] or []:
            mask |= bit
        data["special_groups"] = mask
        return data

    def add_field_errors(self, exc: FieldErrors) -> None:
        for field, message in exc.errors.items():
            self.add_error(field if field in self.fields else None, message)


class ResidentEditForm(ResidentForm):
    """Editing never shows the full document number or phone (that would be an unlogged reveal):
    both start empty; left empty they keep their current values."""

    clear_phone = forms.BooleanField(label=_("Remove the phone number"), required=False)

    def __init__(self, *args, resident: Resident, **kwargs) -> None:
        self.resident = resident
        initial = {
            "name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date.isoformat(),
            "doc_type": resident.doc_type, "relation": resident.relation,
            "registered_address": resident.registered_address, "note": resident.note,
            "special_groups": [bit for bit in SpecialGroup.LABELS if resident.special_groups & bit],
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["doc_number"].help_text = _("Now %(masked)s. Leave empty to keep it.") % {"masked": resident.masked_doc_number}
        self.fields["phone"].help_text = (
            _("Now %(masked)s. Leave empty to keep it.") % {"masked": resident.masked_phone} if resident.phone
            else _("None on record.")
        )

    def raw(self) -> dict[str, Any]:
        data = super().raw()
        if not (data["doc_number"] or "").strip():
            data["doc_number"] = self.resident.doc_number
        if self.cleaned_data.get("clear_phone"):
            data["phone"] = ""
        elif not (data["phone"] or "").strip():
            data["phone"] = self.resident.phone
        return data
