from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    verbose_name = _("People")

    def ready(self) -> None:
        from fangkong.areas.grids import BUILDINGS_MOVED
        from fangkong.people.services import follow_moved_buildings

        BUILDINGS_MOVED.register(follow_moved_buildings)
