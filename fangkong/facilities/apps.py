from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "fangkong.facilities"
    verbose_name = _("Facilities and beds")

    def ready(self) -> None:
        """Facilities follows the cases below it and answers what they ask of the beds (see cases.hooks)."""
        from fangkong.cases.hooks import AREA_STAY_TIMES, BEDS, CASE_STAY_TIMES, DECEASED
        from fangkong.cases.providers import FACILITY_CASES
        from fangkong.core.panels import Panel, register_panel
        from fangkong.facilities import beds, panels
        from fangkong.facilities.jobs import FACILITIES
        from fangkong.jobs.registry import register

        register(FACILITIES)  # the facility import runs as a background job

        DECEASED.register(beds.end_active_stays)
        BEDS.provide(beds.case_beds)
        CASE_STAY_TIMES.provide(beds.case_stay_times)
        AREA_STAY_TIMES.provide(beds.area_stay_times)
        FACILITY_CASES.provide(beds.facility_cases)
        register_panel("case", Panel("appointments", "facilities/_case_appointments.html", panels.case_appointments, order=10))
        register_panel("case", Panel("stays", "facilities/_case_stays.html", panels.case_stays, order=20))
