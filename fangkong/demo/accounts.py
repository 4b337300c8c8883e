"""One demo account per role, scoped to real places of the demo city (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.models import Role, User
from fangkong.areas.models import Area, Compound, Level
from fangkong.demo.cases import ensure_demo_facilities
from fangkong.demo.observation import assign_demo_responsibles
from fangkong.facilities.models import Facility, FacilityKind

DEMO_PASSWORD = "fangkong2020"


class NoDemoCity(LookupError):
    pass


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str  # a Role value, or "" for the superuser
    label: str
    scope: str


def _first(level: str, under: Area | None = None) -> Area:
    queryset = Area.objects.filter(level=level)
    if under is not None:
        queryset = queryset.filter(code__startswith=under.code)
    area = queryset.order_by("code").first()
    if area is None:
        raise NoDemoCity(_("No %(level)s found: run `fangkong demo-city` first.") % {"level": Level(level).label})
    return area


def _first_grid(community: Area) -> Area:
    """The community's first grid that covers buildings (so the grid account sees people)."""
    grids = Area.objects.filter(level=Level.GRID, code__startswith=community.code).order_by("code")
    return grids.filter(buildings__isnull=False).distinct().first() or _first(Level.GRID, community)


@transaction.atomic
def ensure_demo_accounts(password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """Create or reset the demo accounts; the password is reset on every run so the printed logins work."""
    city = _first(Level.CITY)
    district = _first(Level.DISTRICT, city)
    street = _first(Level.STREET, district)
    community = _first(Level.COMMUNITY, street)
    grid = _first_grid(community)
    compound = Compound.objects.filter(community=community).order_by("id").first()
    if compound is None:
        raise NoDemoCity(_("The first community has no compound: run `fangkong demo-city` first."))

    ensure_demo_facilities()
    facility = (Facility.objects.filter(kind=FacilityKind.DESIGNATED_HOSPITAL, area_code__startswith=district.code).order_by("id").first()
                or Facility.objects.order_by("id").first())

    specs: list[tuple[str, str, dict, str]] = [
        ("city", Role.CITY_COMMANDER, {"area": city}, city.name),
        ("district", Role.DISTRICT_COMMANDER, {"area": district}, district.name),
        ("street", Role.STREET_COMMANDER, {"area": street}, street.name),
        ("community", Role.COMMUNITY_WORKER, {"area": community}, community.name),
        ("grid", Role.GRID_WORKER, {"area": grid}, f"{community.name} {grid.name}"),
        ("facility", Role.FACILITY_STAFF, {"facility": facility}, facility.name),
        ("guard", Role.GATE_GUARD, {"compound": compound}, compound.name),
        ("volunteer", Role.VOLUNTEER, {"area": community}, community.name),
    ]
    accounts = []
    for username, role, scope, scope_name in specs:
        user = User.objects.filter(username=username).first() or User(username=username)
        user.role = role
        user.area = scope.get("area")
        user.compound = scope.get("compound")
        user.facility = scope.get("facility")
        user.is_superuser = user.is_staff = False
        user.is_active = True
        user.set_password(password)
        user.save()
        accounts.append(DemoAccount(username, role, str(Role(role).label), scope_name))

    admin = User.objects.filter(username="admin").first() or User(username="admin")
    admin.role, admin.area, admin.compound, admin.facility = "", None, None, None
    admin.is_superuser = admin.is_staff = admin.is_active = True
    admin.set_password(password)
    admin.save()
    accounts.append(DemoAccount("admin", "", _("Administrator"), _("everything")))
    assign_demo_responsibles()  # the grid and community accounts become the responsible workers of their people
    return accounts
