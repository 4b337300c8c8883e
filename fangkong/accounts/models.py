"""Accounts, roles and their scopes.

Every account has one role and one scope: an area subtree (commanders, community and grid workers,
volunteers), a compound (gate guards) or a facility (facility staff). Superusers see everything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.areas.models import Area, Compound, Level
from fangkong.core.masking import mask_phone
from fangkong.core.scope import Scope


class Role(models.TextChoices):
    CITY_COMMANDER = "city_commander", _("City commander")
    DISTRICT_COMMANDER = "district_commander", _("District commander")
    STREET_COMMANDER = "street_commander", _("Street commander")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    FACILITY_STAFF = "facility_staff", _("Facility staff")
    GATE_GUARD = "gate_guard", _("Gate guard")
    VOLUNTEER = "volunteer", _("Volunteer")


# The area level each area-scoped role is bound to.
ROLE_AREA_LEVEL = {
    Role.CITY_COMMANDER: Level.CITY,
    Role.DISTRICT_COMMANDER: Level.DISTRICT,
    Role.STREET_COMMANDER: Level.STREET,
    Role.COMMUNITY_WORKER: Level.COMMUNITY,
    Role.GRID_WORKER: Level.GRID,
    Role.VOLUNTEER: Level.COMMUNITY,
}
COMMANDERS = {Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER, Role.STREET_COMMANDER}
# Roles that may reveal full ID numbers and phones of people in their scope, and edit residents.
REVEALERS = COMMANDERS | {Role.COMMUNITY_WORKER, Role.GRID_WORKER}
IMPORTERS = COMMANDERS | {Role.COMMUNITY_WORKER}
# Roles that split their communities into grids (areas.grids checks the community lies in their scope).
GRID_MANAGERS = COMMANDERS | {Role.COMMUNITY_WORKER}
# The roles each role may grant to accounts it manages: strictly below its own, written out (no numeric
# levels to compare). Facility staff: city commanders only for now, as facilities have no place in the
# area tree yet. Superusers grant every role; nobody grants superuser here (that stays in /admin/).
GRANTABLE_ROLES: dict[str, tuple[Role, ...]] = {
    Role.CITY_COMMANDER: (Role.DISTRICT_COMMANDER, Role.STREET_COMMANDER, Role.COMMUNITY_WORKER, Role.GRID_WORKER,
                          Role.VOLUNTEER, Role.GATE_GUARD, Role.FACILITY_STAFF),
    Role.DISTRICT_COMMANDER: (Role.STREET_COMMANDER, Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.VOLUNTEER,
                              Role.GATE_GUARD),
    Role.STREET_COMMANDER: (Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.VOLUNTEER, Role.GATE_GUARD),
    Role.COMMUNITY_WORKER: (Role.GRID_WORKER, Role.VOLUNTEER, Role.GATE_GUARD),
}


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=24, choices=Role.choices, blank=True)
    area = models.ForeignKey(Area, models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("area"))
    compound = models.ForeignKey(Compound, models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("compound"))
    facility = models.ForeignKey("facilities.Facility", models.PROTECT, null=True, blank=True, related_name="staff",
                                 verbose_name=_("facility"))
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    # Set when a manager hands out a password (generated or reset): the first log-in must replace it
    # (accounts.middleware). API tokens are not affected.
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta(AbstractUser.Meta):
        # Log-in treats "Zhang" and "zhang" alike, so two accounts may not differ only by case; the database
        # holds the line when two managers create them at the same moment (the form checks first).
        constraints = [models.UniqueConstraint(Lower("username"), name="user_username_ci_unique")]

    def clean(self) -> None:
        super().clean()
        level = ROLE_AREA_LEVEL.get(self.role)
        if level and (self.area is None or self.area.level != level):
            raise ValidationError({"area": _("This role must be bound to an area of level %(level)s.") % {"level": Level(level).label}})
        if self.role == Role.GATE_GUARD and self.compound_id is None:
            raise ValidationError({"compound": _("A gate guard must be bound to a compound.")})
        if self.role == Role.FACILITY_STAFF and self.facility_id is None:
            raise ValidationError({"facility": _("Facility staff must be bound to a facility.")})

    @property
    def scope(self) -> Scope:
        if self.is_superuser:
            return Scope(everything=True)
        if self.role == Role.GATE_GUARD:
            return Scope(compound_id=self.compound_id)
        if self.role == Role.FACILITY_STAFF:
            return Scope(facility_id=self.facility_id)
        if self.role in ROLE_AREA_LEVEL and self.area_id:
            return Scope(area_code=self.area.code)
        return Scope()

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_commander(self) -> bool:
        return self.is_superuser or self.role in COMMANDERS

    @property
    def can_reveal(self) -> bool:
        return self.is_superuser or self.role in REVEALERS

    @property
    def can_edit_residents(self) -> bool:
        return self.can_reveal

    @property
    def can_import(self) -> bool:
        return self.is_superuser or self.role in IMPORTERS

    @property
    def can_manage_grids(self) -> bool:
        return self.is_superuser or self.role in GRID_MANAGERS

    @property
    def can_browse_audit(self) -> bool:
        return self.is_commander

    @property
    def can_see_cases(self) -> bool:
        """The four-category board and the facility board (the rule lives with the cases)."""
        from fangkong.cases.services import can_manage_cases

        return can_manage_cases(self)

    @property
    def can_change_policy(self) -> bool:
        return self.is_superuser or self.role == Role.CITY_COMMANDER

    @property
    def grantable_roles(self) -> tuple[Role, ...]:
        """The roles this account may give to the accounts it manages (none: it manages no accounts)."""
        if self.is_superuser:
            return tuple(Role)
        if not self.scope.area_code:  # a manager needs an area to manage accounts in
            return ()
        return GRANTABLE_ROLES.get(self.role, ())

    @property
    def can_manage_accounts(self) -> bool:
        return bool(self.grantable_roles)

    @property
    def home_area(self) -> Area | None:
        """The area a user's navigation starts from."""
        if self.is_superuser:
            return Area.objects.filter(level=Level.CITY).order_by("code").first()
        if self.role == Role.GATE_GUARD and self.compound_id:
            return self.compound.community
        return self.area


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """Bearer token for devices and scripts; only its hash is stored, the key is shown once."""

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        key = "fk_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(key), prefix=key[:8])
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> User | None:
        token = cls.objects.select_related("user", "user__area").filter(key_hash=hash_token(key), revoked=False).first()
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        # "Last used" to the minute: a phone sending visits all day must not pay a committed write
        # (and its WAL flush) on every request just to move this stamp by a second.
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user
