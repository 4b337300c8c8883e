"""How people read the policy's values: the four categories, facility and bed kinds, the placement
switches, a contact's protection and the report windows, in the user's language.

A module of its own, below the forms: the models and services of other apps (observation's report
windows, the facilities' category names) read these labels too, and a model must not depend on a form.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

CATEGORY_LABELS = {
    "critical": gettext_lazy("Critical"),
    "severe": gettext_lazy("Severe"),
    "moderate": gettext_lazy("Moderate"),
    "mild": gettext_lazy("Mild"),
    "suspected": gettext_lazy("Suspected"),
    "close_contact": gettext_lazy("Close contact"),
    "fever": gettext_lazy("Fever patient"),
    "discharged": gettext_lazy("Discharged"),
}
FACILITY_KIND_LABELS = {
    "designated_hospital": gettext_lazy("Designated hospital"),
    "shelter_hospital": gettext_lazy("Shelter hospital"),
    "isolation_site": gettext_lazy("Isolation site"),
    "isolation_single_room": gettext_lazy("Isolation single room"),
    "recovery_station": gettext_lazy("Recovery station"),
    "fever_clinic": gettext_lazy("Fever clinic"),
}
BED_KIND_LABELS = {
    "icu": gettext_lazy("ICU bed"),
    "ordinary": gettext_lazy("Ordinary bed"),
    "single_room": gettext_lazy("Single room"),
}
# Per-category placement switches beside the bed kinds: served first, transferred by 120 ambulance.
PLACEMENT_FLAGS = {
    "placement_first": gettext_lazy("Served first"),
    "ambulance_categories": gettext_lazy("By 120 ambulance"),
}
# The protection a contact used (as the tracing form records it); the policy lists those that still count.
PROTECTION_LABELS = {
    "none": gettext_lazy("No protection"),
    "mask": gettext_lazy("Mask only"),
    "full_ppe": gettext_lazy("Full protection (suit, N95, goggles)"),
}
WINDOW_NAME_LABELS = {"morning": gettext_lazy("Morning"), "noon": gettext_lazy("Noon"), "evening": gettext_lazy("Evening")}
