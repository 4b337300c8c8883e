"""The policy edit form (the labels it shares with the read-only page are in policy.labels).

Ranges and consistency rules live in the pydantic schema only: the form collects values, asks
`Policy.model_validate` and puts each pydantic error back at the field it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import ValidationError

from fangkong.policy.labels import (
    BED_KIND_LABELS,
    CATEGORY_LABELS,
    FACILITY_KIND_LABELS,
    PLACEMENT_FLAGS,
    PROTECTION_LABELS,
)
from fangkong.policy.schema import (
    BED_KINDS,
    FACILITY_KINDS,
    MAX_REPORTS_PER_DAY,
    NOT_YET_READ,
    ROUTED_CATEGORIES,
    Policy,
)


@dataclass(frozen=True)
class FieldInfo:
    name: str
    label: Any
    unit: Any = ""


# The scalar fields, grouped in sections, in the order the pages show them. The fields of
# schema.NOT_YET_READ are left out until a module reads them (a setting that does nothing is not shown).
SECTIONS: list[tuple[Any, list[FieldInfo]]] = [
    (gettext_lazy("Screening and fever"), [
        FieldInfo("fever_threshold_c", gettext_lazy("Fever threshold"), "°C"),
        FieldInfo("temperature_min_c", gettext_lazy("Lowest valid reading"), "°C"),
        FieldInfo("temperature_max_c", gettext_lazy("Highest valid reading"), "°C"),
        FieldInfo("forehead_ambient_min_c", gettext_lazy("Forehead thermometer: lowest ambient temperature"), "°C"),
        FieldInfo("forehead_ambient_max_c", gettext_lazy("Forehead thermometer: highest ambient temperature"), "°C"),
    ]),
    (gettext_lazy("Close contacts and observation"), [
        FieldInfo("close_contact_lookback_days", gettext_lazy("Contacts count from this many days before onset"), gettext_lazy("days")),
        FieldInfo("close_contact_unprotected", gettext_lazy("A contact is close with this protection")),
        FieldInfo("observation_days", gettext_lazy("Medical observation period"), gettext_lazy("days")),
        FieldInfo("observation_centralised", gettext_lazy("Close contacts observed in centralised isolation (else at home)")),
        FieldInfo("observation_release_negative_tests", gettext_lazy("Negative tests needed for release"), gettext_lazy("tests")),
        FieldInfo("observation_release_test_days", gettext_lazy("Sampled in the last days of the period"), gettext_lazy("days")),
    ]),
    (gettext_lazy("Home isolation"), [
        FieldInfo("home_reports_per_day", gettext_lazy("Health reports per day"), gettext_lazy("per day")),
    ]),
    (gettext_lazy("After discharge"), [
        FieldInfo("discharge_negative_tests", gettext_lazy("Discharge as cured needs negative tests in a row"), gettext_lazy("tests")),
        FieldInfo("discharge_test_interval_hours", gettext_lazy("Samples of those tests at least this far apart"), gettext_lazy("hours")),
        FieldInfo("post_discharge_days", gettext_lazy("Recovery station or home monitoring"), gettext_lazy("days")),
    ]),
    (gettext_lazy("Clusters"), [
        FieldInfo("risk_cluster_window_days", gettext_lazy("Cluster window"), gettext_lazy("days")),
        FieldInfo("cluster_min_cases", gettext_lazy("A cluster: cases in one household or building"), gettext_lazy("cases")),
    ]),
    (gettext_lazy("Admission and placement"), [
        FieldInfo("placement_preference_km", gettext_lazy("A less preferred facility only if nearer by"), gettext_lazy("km")),
        FieldInfo("placement_pregnant_first", gettext_lazy("Pregnant and postpartum women first within their tier")),
        FieldInfo("placement_infant_first", gettext_lazy("Infants first within their tier")),
        FieldInfo("placement_infant_max_years", gettext_lazy("Infants: younger than"), gettext_lazy("years")),
        FieldInfo("exclusion_negative_tests", gettext_lazy("Suspected case excluded after negative tests in a row"), gettext_lazy("tests")),
        FieldInfo("exclusion_interval_hours", gettext_lazy("Samples of those tests at least this far apart"), gettext_lazy("hours")),
    ]),
    (gettext_lazy("Finding the hidden"), [
        FieldInfo("crosscheck_window_days", gettext_lazy("Meter readings and lit windows over the last"), gettext_lazy("days")),
        FieldInfo("crosscheck_min_kwh_per_day", gettext_lazy("Power use that needs registered residents"), gettext_lazy("kWh per day")),
        FieldInfo("crosscheck_returnee_days", gettext_lazy("Returnees checked for"), gettext_lazy("days after arrival")),
    ]),
    (gettext_lazy("Retention of personal data"), [
        FieldInfo("retention_screening_days", gettext_lazy("Screening visits, self-reports and temperatures kept for"),
                  gettext_lazy("days")),
        FieldInfo("retention_observation_report_days", gettext_lazy("Health reports under observation kept for"),
                  gettext_lazy("days")),
    ]),
]
SCALAR_FIELDS = {info.name: info for _title, infos in SECTIONS for info in infos}
# A field listed twice renders two inputs of one name: the browser sends both, the form keeps the last
# and an edit of the first is dropped. Refuse such a list at import.
if len(SCALAR_FIELDS) != sum(len(infos) for _title, infos in SECTIONS):
    raise ImproperlyConfigured("policy.forms.SECTIONS lists a field twice")
if SCALAR_FIELDS.keys() & NOT_YET_READ:
    raise ImproperlyConfigured("policy.forms.SECTIONS shows a field that no module reads yet")
# The other fields the pages show, as the report windows and the matrices.
MATRIX_FIELDS = ("home_report_windows", "routing", "bed_kinds", "placement_first", "ambulance_categories")


def shown_fields() -> list[str]:
    """Every policy field the policy pages show and let a commander change."""
    return [*SCALAR_FIELDS, *MATRIX_FIELDS]


# Messages of the schema's consistency checks (model_validator), by their first words.
CONSISTENCY_ERRORS = {
    "fever_threshold_c must lie between": ("fever_threshold_c", gettext_lazy("The fever threshold must lie between the lowest and highest valid readings.")),
    "forehead_ambient_min_c must be below": ("forehead_ambient_min_c", gettext_lazy("The lowest ambient temperature must be below the highest.")),
    "volunteer_min_age must not exceed": ("volunteer_min_age", gettext_lazy("The minimum age must not exceed the maximum age.")),
    "home_reports_per_day:": ("home_reports_per_day", gettext_lazy("Give one report window for each report of the day.")),
    "home_report_windows: each window needs": (None, gettext_lazy("Each report window needs its own name.")),
    "home_report_windows: a window ends": (None, gettext_lazy("A report window ends after it starts, on the same day.")),
    "home_report_windows: windows must not": (None, gettext_lazy("Report windows must not overlap.")),
}


def routing_field(category: str, kind: str) -> str:
    return f"route_{category}_{kind}"


def bed_field(category: str, kind: str) -> str:
    return f"bed_{category}_{kind}"


def flag_field(name: str, category: str) -> str:
    return f"{name}_{category}"


def _ordered(current: list[str], checked: set[str], universe: tuple[str, ...]) -> list[str]:
    """The ticked values: those of the policy in force in their order, newly ticked ones last."""
    kept = [value for value in current if value in checked]
    return kept + [value for value in universe if value in checked and value not in kept]


def window_field(index: int, part: str) -> str:
    return f"window_{index}_{part}"


def _message(error: dict) -> str:
    """A pydantic error in the user's language."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(limit)s.") % {"limit": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(limit)s.") % {"limit": ctx.get("le", ctx.get("lt"))}
    if kind == "string_pattern_mismatch":
        return _("Use a time such as 07:30.")
    if kind in ("int_parsing", "int_from_float", "float_parsing", "int_type", "float_type"):
        return _("Enter a number.")
    if kind == "missing":
        return _("This field is required.")
    return _("This value is not valid.")


class PolicyForm(forms.Form):
    """Every scalar field, the report windows (one spare row) and the routing matrix, plus a reason."""

    note = forms.CharField(label=gettext_lazy("Reason for the change"), max_length=200,
                           help_text=gettext_lazy("Recorded with the new version, e.g. the protocol edition."))

    def __init__(self, *args, policy: Policy, **kwargs):
        self.policy = policy
        values = policy.model_dump()
        initial: dict[str, Any] = {name: values[name] for name in SCALAR_FIELDS}
        # Room for as many windows as reports a day may be (a commander going from 2 to 4 adds both at once).
        self.window_count = max(len(policy.home_report_windows), MAX_REPORTS_PER_DAY)
        for i, window in enumerate(policy.home_report_windows):
            initial.update({window_field(i, "name"): window.name, window_field(i, "start"): window.start,
                            window_field(i, "end"): window.end})
        for category in ROUTED_CATEGORIES:
            for kind in FACILITY_KINDS:
                initial[routing_field(category, kind)] = kind in policy.routing.get(category, [])
            for kind in BED_KINDS:
                initial[bed_field(category, kind)] = kind in policy.bed_kinds.get(category, [])
            for name in PLACEMENT_FLAGS:
                initial[flag_field(name, category)] = category in getattr(policy, name)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for name, info in SCALAR_FIELDS.items():
            annotation = Policy.model_fields[name].annotation
            if annotation is bool:
                field: forms.Field = forms.BooleanField(required=False)
            elif name == "close_contact_unprotected":
                field = forms.MultipleChoiceField(choices=list(PROTECTION_LABELS.items()), required=False,
                                                  widget=forms.CheckboxSelectMultiple)
            elif annotation is int:
                field = forms.IntegerField()
            else:
                field = forms.FloatField(widget=forms.NumberInput(attrs={"step": "0.1"}))
            field.label = info.label
            field.unit = info.unit  # type: ignore[attr-defined]
            self.fields[name] = field
        for i in range(self.window_count):
            self.fields[window_field(i, "name")] = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=20)
            for part, label in (("start", gettext_lazy("From")), ("end", gettext_lazy("Until"))):
                self.fields[window_field(i, part)] = forms.CharField(
                    label=label, required=False, max_length=5, widget=forms.TextInput(attrs={"placeholder": "07:30", "inputmode": "numeric"}))
        for category in ROUTED_CATEGORIES:
            for kind in FACILITY_KINDS:
                label = f"{CATEGORY_LABELS[category]} → {FACILITY_KIND_LABELS[kind]}"
                self.fields[routing_field(category, kind)] = forms.BooleanField(
                    required=False, label=label, widget=forms.CheckboxInput(attrs={"aria-label": label}))
            for kind in BED_KINDS:
                label = f"{CATEGORY_LABELS[category]} → {BED_KIND_LABELS[kind]}"
                self.fields[bed_field(category, kind)] = forms.BooleanField(
                    required=False, label=label, widget=forms.CheckboxInput(attrs={"aria-label": label}))
            for name, flag_label in PLACEMENT_FLAGS.items():
                label = f"{CATEGORY_LABELS[category]}: {flag_label}"
                self.fields[flag_field(name, category)] = forms.BooleanField(
                    required=False, label=label, widget=forms.CheckboxInput(attrs={"aria-label": label}))
        self.fields["note"] = self.fields.pop("note")  # the reason comes last
        self.routing_errors: dict[str, str] = {}
        self.bed_errors: dict[str, str] = {}
        self.policy_values: dict[str, Any] = {}

    # Template helpers ---------------------------------------------------------------------------
    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(title, [self[info.name] for info in infos]) for title, infos in SECTIONS]

    def window_rows(self) -> list[list[forms.BoundField]]:
        return [[self[window_field(i, part)] for part in ("name", "start", "end")] for i in range(self.window_count)]

    def routing_rows(self) -> list[tuple[str, Any, list[tuple[forms.BoundField, Any]], str]]:
        """(category, label, [(checkbox, facility kind label)], error) per category."""
        return [(category, CATEGORY_LABELS[category],
                 [(self[routing_field(category, kind)], FACILITY_KIND_LABELS[kind]) for kind in FACILITY_KINDS],
                 self.routing_errors.get(category, "")) for category in ROUTED_CATEGORIES]

    def placement_rows(self) -> list[tuple[str, Any, list[forms.BoundField], str]]:
        """(category, label, [bed-kind checkboxes, then the placement switches], error) per category."""
        return [(category, CATEGORY_LABELS[category],
                 [self[bed_field(category, kind)] for kind in BED_KINDS] + [self[flag_field(name, category)] for name in PLACEMENT_FLAGS],
                 self.bed_errors.get(category, "")) for category in ROUTED_CATEGORIES]

    def placement_labels(self) -> list[Any]:
        return [BED_KIND_LABELS[kind] for kind in BED_KINDS] + list(PLACEMENT_FLAGS.values())

    def facility_kind_labels(self) -> list[Any]:
        return [FACILITY_KIND_LABELS[kind] for kind in FACILITY_KINDS]

    # Validation ---------------------------------------------------------------------------------
    def _collect(self, data: dict[str, Any]) -> dict[str, Any]:
        # Fields this form does not show keep the values of the policy in force.
        values = {**self.policy.model_dump(), **{name: data.get(name) for name in SCALAR_FIELDS}}
        windows, self._window_index = [], []
        for i in range(self.window_count):
            row = {part: (data.get(window_field(i, part)) or "").strip() for part in ("name", "start", "end")}
            if any(row.values()):
                windows.append(row)
                self._window_index.append(i)
        values["home_report_windows"] = windows
        routing = {}
        for category in ROUTED_CATEGORIES:
            checked = {kind for kind in FACILITY_KINDS if data.get(routing_field(category, kind))}
            # Keep the preferred order of the policy in force; newly ticked kinds go last.
            kept = [kind for kind in self.policy.routing.get(category, []) if kind in checked]
            routing[category] = kept + [kind for kind in FACILITY_KINDS if kind in checked and kind not in kept]
        values["routing"] = routing
        values["bed_kinds"] = {
            category: _ordered(self.policy.bed_kinds.get(category, []),
                               {kind for kind in BED_KINDS if data.get(bed_field(category, kind))}, BED_KINDS)
            for category in ROUTED_CATEGORIES
        }
        for name in PLACEMENT_FLAGS:
            values[name] = _ordered(getattr(self.policy, name),
                                    {c for c in ROUTED_CATEGORIES if data.get(flag_field(name, c))}, ROUTED_CATEGORIES)
        return values

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if any(name in self.errors for name in SCALAR_FIELDS):
            return data  # type errors first; ranges make sense once every field is a number
        values = self._collect(data)
        if not values["close_contact_unprotected"]:
            self.add_error("close_contact_unprotected", _("Tick at least one: without it nobody is a close contact."))
        for i, row in zip(self._window_index, values["home_report_windows"], strict=True):
            if not row["name"]:
                self.add_error(window_field(i, "name"), _("Give the window a name."))
        count, rows = data.get("home_reports_per_day"), len(values["home_report_windows"])
        if count and count != rows:
            self.add_error("home_reports_per_day", _("%(n)d reports a day need %(n)d report windows; %(m)d are filled in below.")
                           % {"n": count, "m": rows})
        for category, kinds in values["routing"].items():
            if not kinds:  # checked here too: the schema's own check only runs once every field is valid
                self.routing_errors[category] = _("Tick at least one kind of facility.")
        if self.routing_errors:
            self.add_error(None, _("Every category needs at least one kind of facility."))
        for category, kinds in values["bed_kinds"].items():
            if not kinds:
                self.bed_errors[category] = _("Tick at least one kind of bed.")
        if self.bed_errors:
            self.add_error(None, _("Every category needs at least one kind of bed."))
        try:
            Policy.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                self._place(error, values)
        if not self.errors:
            self.policy_values = values
        return data

    def _place(self, error: dict, values: dict[str, Any]) -> None:
        loc = error.get("loc") or ()
        if not loc:  # a consistency check of the whole policy
            text = str(error.get("msg", "")).removeprefix("Value error, ")
            for prefix, (field, message) in CONSISTENCY_ERRORS.items():
                if text.startswith(prefix):
                    shown = field if field in self.fields else None  # a field the page does not show: on top
                    if shown is None or shown not in self.errors:
                        self.add_error(shown, str(message))
                    return
            if text.startswith("routing"):
                if not self.routing_errors:
                    self.add_error(None, _("Every category needs at least one kind of facility."))
                return
            if text.startswith("bed_kinds"):
                if not self.bed_errors:
                    self.add_error(None, _("Every category needs at least one kind of bed."))
                return
            self.add_error(None, _("This value is not valid."))
            return
        if loc[0] in SCALAR_FIELDS:
            if loc[0] not in self.errors:
                self.add_error(loc[0], _message(error))
        elif loc[0] == "home_report_windows" and len(loc) >= 3 and isinstance(loc[1], int):
            self.add_error(window_field(self._window_index[loc[1]], str(loc[2])), _message(error))
        else:
            self.add_error(None, _message(error))
