from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    verbose_name = _("People")

    def ready(self) -> None:
        from fangkong.areas.grids import BUILDINGS_MOVED
        from fangkong.areas.residents import RESIDENT_FIGURES
        from fangkong.core.panels import Panel, register_panel
        from fangkong.jobs.exports import register_export
        from fangkong.jobs.registry import register
        from fangkong.people import exports, jobs
        from fangkong.people.figures import FIGURES
        from fangkong.people.panels import area_tools
        from fangkong.people.services import follow_moved_buildings

        for kind in jobs.KINDS:  # the roster and area imports run as background jobs
            register(kind)
        register_export(exports.EXPORT)  # so does the area's resident export
        BUILDINGS_MOVED.register(follow_moved_buildings)
        RESIDENT_FIGURES.provide(lambda: FIGURES)  # the residents' figures on the area pages, the area API and counts
        register_panel("area-tools", Panel("residents", "people/_area_tools.html", area_tools))
