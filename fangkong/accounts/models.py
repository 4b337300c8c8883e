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
from fangkong.core.permissions import Role
from fangkong.core.scope import Scope

# The area level each area-scoped role is bound to.
ROLE_AREA_LEVEL = {
    Role.CITY_COMMANDER: Level.CITY,
    Role.DISTRICT_COMMANDER: Level.DISTRICT,
    Role.STREET_COMMANDER: Level.STREET,
    Role.COMMUNITY_WORKER: Level.COMMUNITY,
    Role.GRID_WORKER: Level.GRID,
    Role.VOLUNTEER: Level.COMMUNITY,
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
    # Every browser session issued before this moment ends at its next request (accounts.sessions): "log out
    # everywhere", a password reset, a deactivation. API tokens are not sessions.
    sessions_valid_after = models.DateTimeField(_("sessions valid after"), null=True, blank=True, editable=False)

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
    def home_area(self) -> Area | None:
        """The area a user's navigation starts from."""
        if self.is_superuser:
            return Area.objects.filter(level=Level.CITY).order_by("code").first()
        if self.role == Role.GATE_GUARD and self.compound_id:
            return self.compound.community
        return self.area


def facilities_in_scope(user: User):
    """The facilities `user` may bind staff accounts to. Facilities lie above accounts: the model is
    reached through the User's foreign key (which names it) instead of being imported."""
    return User._meta.get_field("facility").related_model.objects.restrict(user)


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
