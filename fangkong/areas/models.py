"""The area tree and the built environment beneath it.

Area tree: city › district › street (街道/乡镇) › community (社区/村) › grid (网格).
Each area's `code` is hierarchical (GB/T 2260 style: a child's code starts with its parent's), so
the code is the materialized path: "everything under this street" is one indexed prefix query
(`code LIKE '420102001%'`), never a recursive walk.

Compounds (小区) belong to a community; buildings (楼栋) › units (单元) › households (户). A grid
covers a set of buildings. Buildings and households carry `area_code` (their grid's code, or their
community's when no grid is set), so scoping and subtree counts on them are prefix queries too.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / township")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")


# Length of the hierarchical code at each level: 4201 › 420102 › 420102001 › 420102001001 › +3.
CODE_LENGTH = {
    Level.CITY: 4,
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
}
LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]
CHILD_LEVEL = dict(zip(LEVEL_ORDER[:-1], LEVEL_ORDER[1:], strict=True))


class AreaQuerySet(ScopedQuerySet):
    def subtree(self, code: str) -> AreaQuerySet:
        return self.filter(code__startswith=code)


class Area(models.Model):
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="area_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.area_code:
            return Q(code__startswith=scope.area_code)
        return NOTHING

    def clean(self) -> None:
        expected = CODE_LENGTH[Level(self.level)]
        if len(self.code) != expected or not self.code.isdigit():
            raise ValidationError({"code": _("A %(level)s code has %(n)d digits.") % {"level": self.get_level_display(), "n": expected}})
        if self.parent is None and self.level != Level.CITY:
            raise ValidationError({"parent": _("Only a city has no parent.")})
        if self.parent is not None:
            if CHILD_LEVEL.get(Level(self.parent.level)) != self.level:
                raise ValidationError({"level": _("This level cannot sit under the parent's level.")})
            if not self.code.startswith(self.parent.code):
                raise ValidationError({"code": _("The code must start with the parent's code.")})

    def ancestors(self) -> AreaQuerySet:
        """Ancestors by code prefix, city first: one query."""
        prefixes = [self.code[:n] for n in CODE_LENGTH.values() if n < len(self.code)]
        return Area.objects.filter(code__in=prefixes).order_by("code")

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL.get(Level(self.level))


class Compound(models.Model):
    """小区: a residential compound with its gates; located in WGS-84 (EPSG:4326) degrees."""

    community = models.ForeignKey(Area, models.PROTECT, related_name="compounds", limit_choices_to={"level": Level.COMMUNITY})
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    longitude = models.DecimalField(_("longitude (WGS-84)"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("latitude (WGS-84)"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Denormalized community code: the scoping/partitioning key.
    area_code = models.CharField(max_length=15, db_index=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["area_code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="compound_unique_name"),
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180) | Q(longitude__isnull=True), name="compound_longitude_range"),
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90) | Q(latitude__isnull=True), name="compound_latitude_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.area_code = self.community.code
        super().save(*args, **kwargs)

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.compound_id:
            return Q(pk=scope.compound_id)
        if scope.area_code:
            code = scope.area_code
            if len(code) > CODE_LENGTH[Level.COMMUNITY]:
                # A grid sees the compounds where it covers at least one building.
                return Q(pk__in=Building.objects.filter(area_code__startswith=code).values("compound_id"))
            return Q(area_code__startswith=code)
        return NOTHING


class Building(models.Model):
    compound = models.ForeignKey(Compound, models.PROTECT, related_name="buildings")
    name = models.CharField(_("name"), max_length=50)
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    grid = models.ForeignKey(Area, models.SET_NULL, null=True, blank=True, related_name="buildings", limit_choices_to={"level": Level.GRID})
    area_code = models.CharField(max_length=15, db_index=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["compound_id", "id"]
        constraints = [models.UniqueConstraint(fields=["compound", "name"], name="building_unique_name")]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.area_code = self.grid.code if self.grid_id else self.compound.area_code
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.grid_id and self.compound_id and not self.grid.code.startswith(self.compound.area_code):
            raise ValidationError({"grid": _("The grid must belong to the compound's community.")})

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.compound_id:
            return Q(compound_id=scope.compound_id)
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING


class Unit(models.Model):
    building = models.ForeignKey(Building, models.PROTECT, related_name="units")
    name = models.CharField(_("name"), max_length=50)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["building_id", "id"]
        constraints = [models.UniqueConstraint(fields=["building", "name"], name="unit_unique_name")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.compound_id:
            return Q(building__compound_id=scope.compound_id)
        if scope.area_code:
            return Q(building__area_code__startswith=scope.area_code)
        return NOTHING


class Household(models.Model):
    """户: one dwelling (a room number in a unit)."""

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="households")
    room = models.CharField(_("room"), max_length=20)
    # Denormalized for set-based scoping and counts over millions of rows.
    building = models.ForeignKey(Building, models.PROTECT, related_name="households", editable=False)
    compound = models.ForeignKey(Compound, models.PROTECT, related_name="households", editable=False)
    area_code = models.CharField(max_length=15, editable=False)
    # Found empty by a worker (a cross-check closed as vacant); cleared when someone is registered
    # in it or a visit reaches people there.
    vacant_since = models.DateField(_("vacant since"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["unit_id", "room"]
        constraints = [models.UniqueConstraint(fields=["unit", "room"], name="household_unique_room")]
        # One index serves both `area_code = x` and `area_code LIKE 'prefix%'` on PostgreSQL (the
        # pattern opclass; ignored elsewhere): a second, default-opclass btree would only slow imports.
        indexes = [models.Index(fields=["area_code"], opclasses=["varchar_pattern_ops"], name="household_area_idx")]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs) -> None:
        self.building_id = self.unit.building_id
        self.compound_id = self.unit.building.compound_id
        self.area_code = self.unit.building.area_code
        super().save(*args, **kwargs)

    @property
    def address(self) -> str:
        return f"{self.compound.name}{self.building.name}{self.unit.name}{self.room}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.compound_id:
            return Q(compound_id=scope.compound_id)
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING
