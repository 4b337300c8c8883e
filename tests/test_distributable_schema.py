"""The schema stays distributable (issue 17, DESIGN.md §3): every big table carries the area code that a
distribution would use, so that when one machine is outgrown an existing engine (Citus, distributed by
city or district; or read replicas) can take the tables as they are.

`area_code` is a materialised path: its first 4 digits are the city, its first 6 the district. A big
table is distributed on it (or on a district column derived from it); a small table is a reference table,
copied to every node. See docs/architecture.md, "Big tables and their distribution key".

Every model of Fangkong's apps must be classified here, big or small: a new model fails the first test
until someone says which it is and why. The known gaps are listed, not hidden: a gap that is closed, or a
new one, fails the tests until the lists below are updated.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

# Big tables: they grow with the population or with the days. Distributed by area_code.
BIG: dict[str, str] = {
    "audit.AuditLog": "one row per audited action, every day, by everyone",
    "areas.Household": "one per household of the city",
    "people.Resident": "one per resident of the city",
    "screening.Visit": "one per household visit, every day of a campaign",
    "screening.PersonCheck": "one per person checked at each visit",
    "screening.FollowUp": "follow-up items raised by the visits",
    "screening.HouseholdLink": "one self-report link per household",
    "screening.DaySummary": "one per grid per day, kept after the retention purge removes the day's visits",
    "observation.ReportDaySummary": "one per area code per day of health reports, kept after the purge",
    "facilities.Stay": "one per booking/admission of a case",
    "facilities.Transfer": "transfers of cases between facilities",
    "facilities.Proposal": "one per waiting case per placement run, every run is kept",
    "facilities.Appointment": "one per booked sampling appointment of a case",
    "cases.Case": "one per case (four categories), grows with the outbreak",
    "cases.StatusChange": "every transition of every case",
    "cases.NucleicAcidTest": "every test of every case",
    "observation.ObservationFile": "one per person under home or central observation",
    "observation.FileDecision": "every decision on an observation file",
    "observation.FollowUpNote": "follow-up notes on observation files",
    "observation.HealthReport": "self-reports/health reports, twice a day per person observed",
    "observation.Alert": "alerts raised on observation files",
    "crosscheck.MeterReading": "one per household per day",
    "crosscheck.LitCount": "one per building per night",
    "crosscheck.Returnee": "one per arrival, every day",
    "crosscheck.ToDo": "to-dos raised by the cross-checks",
    "tracing.Investigation": "one per investigated case",
    "tracing.Contact": "the contacts of every investigation",
    "tracing.ContactEdge": "the contact graph, edges between residents",
    "tracing.InfectionLink": "infector-infectee links between cases",
    "tracing.DisinfectionTask": "disinfection tasks of the investigations",
}

# Small and reference tables: they grow with the staff, the facilities, the housing stock or the
# operators' runs, not with the population or the days. Copied to every node (Citus reference tables).
SMALL: dict[str, str] = {
    "accounts.User": "the staff: thousands, not millions",
    "accounts.ApiToken": "a few per device/user",
    "policy.PolicyVersion": "one per policy change",
    "areas.Area": "the area tree (city, districts, streets, communities, grids): every node needs it",
    "areas.Compound": "housing stock: thousands per city, changes slowly",
    "areas.Building": "housing stock: changes slowly, read by every district's pages",
    "areas.Unit": "housing stock: a few per building, changes slowly",
    "people.ImportBatch": "one per resident import",
    "jobs.Job": "one per import, export or scheduled run, deleted after JOBS_KEEP_DAYS",
    "screening.Campaign": "one per screening campaign",
    "facilities.Facility": "hundreds of facilities, placement reads them across districts",
    "facilities.BedPool": "a few per facility",
    "facilities.PlacementRun": "one per placement run (its proposals are big, see above)",
    "facilities.AppointmentSlot": "a facility's sampling slots: facilities x slots a day",
    "facilities.FacilityImport": "one per facility import",
    "cases.ResultImport": "one per result import",
}

# Big tables that carry area_code, but no index leads with it, with the reason. The column is what a
# distribution needs (a distributed table needs no index on its distribution column); an index leading
# with area_code serves the scoped lists (`area_code LIKE 'prefix%'`), which these tables are not read by.
AREA_CODE_NOT_LEADING: dict[str, str] = {
    "screening.Visit": "time series, read by day first: index (date, area_code), partitioned by day",
    "screening.PersonCheck": "time series, read by day first: index (date, area_code), partitioned by day",
    "screening.FollowUp": "read by status first: index (status, area_code)",
    "screening.HouseholdLink": "read by its unique token (a self-report link, no log-in), never listed",
    "facilities.Appointment": "read through its case and its slot",
    "cases.StatusChange": "history, read through its case",
    "observation.FileDecision": "history, read through its observation file",
    "observation.FollowUpNote": "read through its observation file",
    "observation.HealthReport": "time series, read by file and by (date, window): partitioned by day",
    "screening.DaySummary": "daily aggregates, read by day first: unique (date, area_code)",
    "observation.ReportDaySummary": "daily aggregates, read by day first: unique (date, area_code)",
    "crosscheck.MeterReading": "time series, read by household and by date",
    "crosscheck.LitCount": "time series, read by building and by date",
    "crosscheck.ToDo": "read by status first: index (status, area_code)",
}

# Known gaps: big tables without an area_code column, with the reason they have none yet. Closing a gap
# (adding the column and its backfill in a planned migration) means removing its line here.
KNOWN_GAPS: dict[str, str] = {}

# Known gaps in foreign keys between big tables: (model, field) where one side has no area_code, so the
# join cannot be co-located on (area_code, id). Each follows from a gap above.
FK_GAPS: dict[tuple[str, str], str] = {}

AREA_CODE = "area_code"


def _fangkong_models() -> dict[str, type[models.Model]]:
    return {
        model._meta.label: model
        for config in apps.get_app_configs()
        if config.name.startswith("fangkong.")
        for model in config.get_models()
    }


def _area_code(model: type[models.Model]) -> models.Field | None:
    try:
        field = model._meta.get_field(AREA_CODE)
    except Exception:
        return None
    return field if isinstance(field, models.Field) and field.concrete else None


def _area_code_leads_an_index(model: type[models.Model]) -> bool:
    field = _area_code(model)
    if field is None:
        return False
    if getattr(field, "db_index", False) or field.unique:
        return True
    meta = model._meta
    if any(index.fields and index.fields[0].lstrip("-") == AREA_CODE for index in meta.indexes):
        return True
    unique_sets = [list(fields) for fields in meta.unique_together]
    unique_sets += [list(c.fields) for c in meta.constraints
                    if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None]
    return any(fields[0] == AREA_CODE for fields in unique_sets)


def _relations(model: type[models.Model]) -> list[tuple[str, type[models.Model]]]:
    """The model's own foreign keys, one-to-ones and many-to-manys: (field name, target)."""
    found = []
    for field in model._meta.get_fields():
        if not (field.is_relation and field.concrete and field.related_model):
            continue
        if field.many_to_one or field.one_to_one or field.many_to_many:
            found.append((field.name, field.related_model))
    return found


def _differences(found: set, listed: set) -> str:
    return f"new (not listed): {sorted(found - listed)}; listed but no longer so: {sorted(listed - found)}"


def test_every_model_is_classified_big_or_small() -> None:
    labels = set(_fangkong_models())
    assert not set(BIG) & set(SMALL), f"both big and small: {sorted(set(BIG) & set(SMALL))}"
    unclassified = labels - set(BIG) - set(SMALL)
    assert not unclassified, (
        f"classify these models in {__name__}: BIG (grows with the population or the days: carries "
        f"area_code) or SMALL (a reference table): {sorted(unclassified)}"
    )
    gone = (set(BIG) | set(SMALL)) - labels
    assert not gone, f"no longer models, remove them from the lists: {sorted(gone)}"
    listed = set(AREA_CODE_NOT_LEADING) | set(KNOWN_GAPS) | {label for label, _ in FK_GAPS}
    assert listed <= set(BIG), f"exemptions and gaps name big tables only: {sorted(listed - set(BIG))}"


def test_big_tables_carry_an_indexed_area_code() -> None:
    big = {label: model for label, model in _fangkong_models().items() if label in BIG}
    missing = {label for label, model in big.items() if _area_code(model) is None}
    assert missing == set(KNOWN_GAPS), (
        f"big tables without area_code, {_differences(missing, set(KNOWN_GAPS))}. A new gap: give the "
        "table its area_code. A closed gap: remove it from KNOWN_GAPS."
    )
    for label in sorted(big.keys() - missing):
        field = _area_code(big[label])
        assert isinstance(field, models.CharField), f"{label}.area_code is a {type(field).__name__}"
    not_leading = {label for label in big.keys() - missing if not _area_code_leads_an_index(big[label])}
    assert not_leading == set(AREA_CODE_NOT_LEADING), (
        f"big tables whose area_code leads no index, {_differences(not_leading, set(AREA_CODE_NOT_LEADING))}"
        ". Index area_code (db_index=True, or an index that starts with it) "
        "or list the table with the reason; remove a table from the list once it is indexed."
    )


def test_foreign_keys_between_big_tables_carry_area_code_on_both_sides() -> None:
    found = _fangkong_models()
    gaps = set()
    for label, model in found.items():
        if label not in BIG:
            continue
        for name, target in _relations(model):
            if target._meta.label in BIG and (_area_code(model) is None or _area_code(target) is None):
                gaps.add((label, name))
    assert gaps == set(FK_GAPS), (
        f"foreign keys between big tables with a side lacking area_code, {_differences(gaps, set(FK_GAPS))}"
    )


def test_small_tables_do_not_point_at_big_tables() -> None:
    """A reference table is copied to every node; it may not hold a foreign key into a distributed table
    (Citus refuses it), so a small table pointing at a big one would pin the schema to one machine."""
    found = _fangkong_models()
    wrong = sorted(
        f"{label}.{name} -> {target._meta.label}"
        for label, model in found.items() if label in SMALL
        for name, target in _relations(model) if target._meta.label in BIG
    )
    assert not wrong, f"small (reference) tables pointing at big (distributed) tables: {wrong}"


@pytest.mark.django_db
def test_the_migrated_database_has_the_area_code_columns() -> None:
    """The models are not the whole truth: the migrated tables carry the column too."""
    with connection.cursor() as cursor:
        missing = sorted(
            label for label, model in _fangkong_models().items()
            if label in BIG and label not in KNOWN_GAPS
            and AREA_CODE not in {column.name for column in
                                  connection.introspection.get_table_description(cursor, model._meta.db_table)}
        )
    assert not missing, f"big tables whose database table has no area_code column: {missing}"
