"""API: the area tree with live counts, compounds, buildings and their households (all scoped)."""


from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate

from fangkong.areas.access import access_area, access_building, access_compound
from fangkong.areas.models import Area, Building, Compound, Household
from fangkong.areas.residents import RESIDENT_FIGURES, Counts
from fangkong.areas.services import area_counts, child_counts
from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, Pagination, acting_user
from fangkong.core.permissions import Account

router = Router(tags=["areas"])


class CountsOut(Schema):
    households: int
    residents: int
    special: int  # residents with at least one special-group tag


class AreaOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    parent_code: str | None


class AreaDetailOut(AreaOut):
    child_level: str | None
    counts: CountsOut


class ChildAreaOut(AreaOut):
    counts: CountsOut


class BuildingOut(Schema):
    id: int
    name: str
    floors: int
    compound_id: int
    grid_code: str | None
    area_code: str

    @staticmethod
    def resolve_grid_code(obj: Building) -> str | None:
        return obj.grid.code if obj.grid_id else None


class BuildingDetailOut(BuildingOut):
    compound_name: str
    households: int = Field(alias="household_count")
    residents: int = Field(alias="resident_count")

    @staticmethod
    def resolve_compound_name(obj: Building) -> str:
        return obj.compound.name


class CompoundOut(Schema):
    id: int
    name: str
    address: str
    community_code: str
    longitude: float | None
    latitude: float | None

    @staticmethod
    def resolve_community_code(obj: Compound) -> str:
        return obj.area_code


class CompoundDetailOut(CompoundOut):
    buildings: list[BuildingOut] = Field(alias="visible_buildings")


class HouseholdOut(Schema):
    id: int
    room: str
    unit: str
    building_id: int
    compound_id: int
    area_code: str
    address: str
    resident_count: int

    @staticmethod
    def resolve_unit(obj: Household) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_resident_count(obj: Household) -> int:
        count = getattr(obj, "resident_count", None)
        if count is None:  # a household not read through households_of
            count = Household.objects.filter(pk=obj.pk).annotate(n=RESIDENT_FIGURES().per_household()).values_list(
                "n", flat=True).get()
        return count


def _counts(counts: Counts) -> dict[str, int]:
    return {"households": counts.households, "residents": counts.residents, "special": counts.special}


def _area_dict(area: Area, counts: Counts, **extra) -> dict:
    return {
        "code": area.code, "name": area.name, "level": area.level, "level_label": str(area.get_level_display()),
        "parent_code": area.parent.code if area.parent_id else None,
        "counts": _counts(counts), **extra,
    }


def households_of(user: Account, queryset: QuerySet[Household] | None = None) -> QuerySet[Household]:
    """Visible households with what their list rows show, resident counts in the same query."""
    queryset = Household.objects.restrict(user) if queryset is None else queryset
    return queryset.select_related("unit", "building", "compound").annotate(
        resident_count=RESIDENT_FIGURES().per_household())


AreaCode = Path(..., pattern=AREA_CODE_PATTERN, description="Hierarchical area code (GB/T 2260 style), digits only")


@router.get("/areas/{code}", response=AreaDetailOut, summary="An area with live counts")
def area_detail(request: HttpRequest, code: str = AreaCode):
    area = access_area(acting_user(request), code)
    return _area_dict(area, area_counts(area.code), child_level=area.child_level)


@router.get("/areas/{code}/children", response=list[ChildAreaOut], summary="Child areas with their counts")
@paginate(Pagination)
def area_children(request: HttpRequest, code: str = AreaCode):
    user = acting_user(request)
    area = access_area(user, code)
    counts = child_counts(area)
    children = Area.objects.restrict(user).filter(parent=area).select_related("parent").order_by("code")
    # A level holds tens of children at most, so the page is cut from the full list.
    return [_area_dict(child, counts.get(child.code, Counts())) for child in children]


@router.get("/compounds", response=list[CompoundOut], summary="Compounds in scope, optionally under one area")
@paginate(Pagination)
def compound_list(request: HttpRequest, community: str | None = Query(None, pattern=AREA_CODE_PATTERN)):
    compounds = Compound.objects.restrict(acting_user(request)).order_by("area_code", "name", "id")
    if community:
        compounds = compounds.filter(area_code__startswith=community)
    return compounds


@router.get("/compounds/{id}", response=CompoundDetailOut, summary="A compound with the buildings in scope")
def compound_detail(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)):
    user = acting_user(request)
    compound = access_compound(user, id)
    compound.visible_buildings = list(
        Building.objects.restrict(user).filter(compound=compound).select_related("grid").order_by("id")
    )
    return compound


@router.get("/buildings/{id}", response=BuildingDetailOut, summary="A building with its counts")
def building_detail(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)):
    user = acting_user(request)
    building = access_building(user, id)
    building.household_count = Household.objects.restrict(user).filter(building=building).count()
    building.resident_count = RESIDENT_FIGURES().visible(user, "building", [building.pk]).get(building.pk, 0)
    return building


@router.get("/buildings/{id}/households", response=list[HouseholdOut], summary="Households of a building")
@paginate(Pagination)
def building_households(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)):
    user = acting_user(request)
    building = access_building(user, id, related=())
    return households_of(user).filter(building=building).order_by("unit_id", "room", "id")
