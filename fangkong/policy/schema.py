"""The policy: every period, threshold and routing rule, with the 2020 defaults (DESIGN §2).

Rules elsewhere read `current_policy()` rather than constants. New fields get defaults here, so
older stored versions still load.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FACILITY_KINDS = (
    "designated_hospital",  # 定点医院
    "shelter_hospital",  # 方舱医院
    "isolation_site",  # 集中隔离点
    "isolation_single_room",  # 隔离点单间
    "recovery_station",  # 康复驿站
    "fever_clinic",  # 发热门诊
)
ROUTED_CATEGORIES = ("critical", "severe", "moderate", "mild", "suspected", "close_contact", "fever", "discharged")
# Routing targets are facility kinds; `isolation_single_room` names the single rooms of isolation sites
# (see fangkong/facilities/routing.py, which turns a target into a facility kind and the bed kinds allowed).
BED_KINDS = ("icu", "ordinary", "single_room")  # 重症监护床位, 普通床位, 单间
MAX_REPORTS_PER_DAY = 6
# Fields kept so that stored versions load, but read by no module yet: the policy page leaves them out
# until the module that reads them exists (area risk grading: issue 13; volunteers: issue 15).
NOT_YET_READ = frozenset({
    "risk_quiet_days", "risk_medium_max_cumulative",
    "volunteer_min_age", "volunteer_max_age", "volunteer_contact_free_days", "volunteer_must_live_in_city",
})


class ReportWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Screening and fever
    fever_threshold_c: float = Field(37.3, ge=36.0, le=40.0)
    temperature_min_c: float = Field(34.0, ge=25.0, le=40.0)
    temperature_max_c: float = Field(43.0, ge=38.0, le=46.0)
    # Infrared forehead thermometers work in this ambient range: a forehead reading taken outdoors
    # outside it is kept but flagged unreliable, and a re-take is asked for (R7).
    forehead_ambient_min_c: float = Field(18.0, ge=-20.0, le=40.0)
    forehead_ambient_max_c: float = Field(28.0, ge=0.0, le=50.0)
    # Close contacts: exposure counts from this many days before the case's onset (or sampling).
    close_contact_lookback_days: int = Field(2, ge=0, le=14)
    observation_days: int = Field(14, ge=1, le=60)
    observation_centralised: bool = True
    # Release from medical observation (解除医学观察): this many negative nucleic acid tests sampled in the
    # last `observation_release_test_days` days of the period (0: no test needed).
    observation_release_negative_tests: int = Field(1, ge=0, le=5)
    observation_release_test_days: int = Field(3, ge=1, le=14)
    # Home isolation: reports per day, one in each window (local time); the count and the windows agree.
    home_reports_per_day: int = Field(2, ge=1, le=MAX_REPORTS_PER_DAY)
    home_report_windows: list[ReportWindow] = Field(
        default_factory=lambda: [
            ReportWindow(name="morning", start="06:00", end="10:00"),
            ReportWindow(name="evening", start="17:00", end="21:00"),
        ]
    )
    # Discharge as cured (治愈出院): this many negative nucleic acid tests in a row, sampled at least
    # `discharge_test_interval_hours` apart (2020: two, 24 hours apart; 0: no test needed).
    discharge_negative_tests: int = Field(2, ge=0, le=5)
    discharge_test_interval_hours: int = Field(24, ge=0, le=168)
    # After discharge: days in a recovery station or under home monitoring.
    post_discharge_days: int = Field(14, ge=0, le=60)
    # Area risk grading (2020); the quiet days and the cumulative bound are not read yet (NOT_YET_READ).
    risk_quiet_days: int = Field(14, ge=1, le=60)
    risk_medium_max_cumulative: int = Field(50, ge=1)
    risk_cluster_window_days: int = Field(14, ge=1, le=60)
    # Routing: which facility kinds take each category (first = preferred).
    routing: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "critical": ["designated_hospital"],
            "severe": ["designated_hospital"],
            "moderate": ["shelter_hospital"],
            "mild": ["shelter_hospital"],
            "suspected": ["isolation_single_room", "designated_hospital"],
            "close_contact": ["isolation_site"],
            "fever": ["fever_clinic"],
            "discharged": ["recovery_station"],
        }
    )
    # Beds: which bed kinds each category may take (suspected cases: single rooms only, never shared).
    bed_kinds: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "critical": ["icu"],
            "severe": ["ordinary", "icu"],
            "moderate": ["ordinary"],
            "mild": ["ordinary"],
            "suspected": ["single_room"],
            "close_contact": ["single_room"],
            "fever": ["single_room", "ordinary"],
            "discharged": ["ordinary", "single_room"],
        }
    )
    # Placement: these categories are served first, in this order; everybody else by waiting time.
    placement_first: list[str] = Field(default_factory=lambda: ["critical", "severe"])
    # Within their tier, pregnant or postpartum women (the 孕产妇 tag) and infants (younger than
    # placement_infant_max_years whole years) are served before everybody else, as these switches say.
    placement_pregnant_first: bool = True
    placement_infant_first: bool = True
    placement_infant_max_years: int = Field(1, ge=0, le=18)
    # A less preferred kind of facility (later in the routing list) is chosen only when it is at least
    # this many kilometres nearer than a preferred one.
    placement_preference_km: float = Field(10.0, ge=0.0, le=500.0)
    # Categories transferred by 120 ambulance; the others by a transfer vehicle.
    ambulance_categories: list[str] = Field(default_factory=lambda: ["critical", "severe", "fever"])
    # A suspected case is excluded after this many negative tests in a row, sampled this far apart.
    exclusion_negative_tests: int = Field(2, ge=1, le=5)
    exclusion_interval_hours: int = Field(24, ge=0, le=168)
    # Finding the hidden (查漏补缺): the cross-check of evidence against the roster.
    # Meter readings are averaged, and lit windows compared, over the last this many days.
    crosscheck_window_days: int = Field(7, ge=1, le=60)
    # A household without registered residents using at least this much power a day is a to-do.
    crosscheck_min_kwh_per_day: float = Field(1.0, ge=0.1, le=100.0)
    # Returnees who arrived within this many days are checked against the roster and the screening.
    crosscheck_returnee_days: int = Field(14, ge=1, le=60)
    # Volunteers (not read yet: NOT_YET_READ)
    volunteer_min_age: int = Field(18, ge=14, le=80)
    volunteer_max_age: int = Field(55, ge=14, le=80)
    volunteer_contact_free_days: int = Field(14, ge=0, le=60)
    volunteer_must_live_in_city: bool = True
    # Contact tracing
    # Protection used during a contact that still counts as unprotected (a close contact, 密接);
    # "none", "mask" (a mask only) and "full_ppe" (protective suit, N95, goggles) are the choices.
    close_contact_unprotected: list[Literal["none", "mask", "full_ppe"]] = Field(default_factory=lambda: ["none"])
    # A cluster (聚集性疫情): at least this many confirmed or suspected cases in one household or one
    # building within risk_cluster_window_days.
    cluster_min_cases: int = Field(2, ge=2, le=100)
    # Retention (PIPL art. 19 and 47: personal information is deleted when its purpose is served). The
    # daily rows are kept this many days, then `fangkong purge` removes whole days and keeps per-area
    # daily counts. 90 days: six 14-day observation periods, the span a tracing investigation or a
    # review of a cluster looks back over, with room; at least 28 (two periods), at most three years.
    retention_screening_days: int = Field(90, ge=28, le=1095)  # visits, self-reports, person checks
    retention_observation_report_days: int = Field(90, ge=28, le=1095)  # health reports under observation

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if not self.temperature_min_c < self.fever_threshold_c < self.temperature_max_c:
            raise ValueError("fever_threshold_c must lie between temperature_min_c and temperature_max_c")
        if self.forehead_ambient_min_c >= self.forehead_ambient_max_c:
            raise ValueError("forehead_ambient_min_c must be below forehead_ambient_max_c")
        if len(self.home_report_windows) != self.home_reports_per_day:
            raise ValueError(f"home_reports_per_day: {self.home_reports_per_day} reports a day need as many windows, "
                             f"not {len(self.home_report_windows)}")
        names = [w.name for w in self.home_report_windows]
        if len(set(names)) != len(names):
            raise ValueError("home_report_windows: each window needs its own name")
        if any(w.start >= w.end for w in self.home_report_windows):
            raise ValueError("home_report_windows: a window ends after it starts, on the same day")
        ordered = sorted(self.home_report_windows, key=lambda w: w.start)
        if any(a.end > b.start for a, b in zip(ordered, ordered[1:], strict=False)):
            raise ValueError("home_report_windows: windows must not overlap")
        if self.volunteer_min_age > self.volunteer_max_age:
            raise ValueError("volunteer_min_age must not exceed volunteer_max_age")
        for category, kinds in self.routing.items():
            if category not in ROUTED_CATEGORIES:
                raise ValueError(f"routing: unknown category {category!r}")
            unknown = [k for k in kinds if k not in FACILITY_KINDS]
            if unknown or not kinds:
                raise ValueError(f"routing[{category}]: needs one or more of {', '.join(FACILITY_KINDS)}")
        missing = [c for c in ROUTED_CATEGORIES if c not in self.routing]
        if missing:
            raise ValueError(f"routing: missing categories {', '.join(missing)}")
        for category, kinds in self.bed_kinds.items():
            if category not in ROUTED_CATEGORIES:
                raise ValueError(f"bed_kinds: unknown category {category!r}")
            if not kinds or any(k not in BED_KINDS for k in kinds) or len(set(kinds)) != len(kinds):
                raise ValueError(f"bed_kinds[{category}]: needs one or more of {', '.join(BED_KINDS)}")
        missing = [c for c in ROUTED_CATEGORIES if c not in self.bed_kinds]
        if missing:
            raise ValueError(f"bed_kinds: missing categories {', '.join(missing)}")
        for name in ("placement_first", "ambulance_categories"):
            values = getattr(self, name)
            if any(c not in ROUTED_CATEGORIES for c in values) or len(set(values)) != len(values):
                raise ValueError(f"{name}: categories among {', '.join(ROUTED_CATEGORIES)}, each at most once")
        return self
