"""Residents (居民): who lives where, with their identity and special-group tags."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Reverse
from django.utils.translation import gettext_lazy as _

from fangkong.areas.models import Household
from fangkong.core.identity import DocType, IdentityError, normalize_id_card, normalize_phone
from fangkong.core.masking import mask_document, mask_phone
from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class DocumentType(models.TextChoices):
    ID_CARD = DocType.ID_CARD, _("Resident ID card")
    PASSPORT = DocType.PASSPORT, _("Passport")
    HK_MACAO_PASS = DocType.HK_MACAO_PASS, _("Hong Kong/Macao travel permit")
    TAIWAN_PASS = DocType.TAIWAN_PASS, _("Taiwan travel permit")
    FOREIGN_PR = DocType.FOREIGN_PR, _("Foreigner's permanent residence ID card")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son/daughter-in-law")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


class SpecialGroup:
    """Special-group tags as bits of one integer, so counting them over a city is one scan."""

    LONELY_ELDERLY = 1  # 孤寡老人
    CHILD_IN_NEED = 2  # 困难儿童
    EXTREME_POVERTY = 4  # 特困人员
    DISABLED = 8  # 残疾人
    PREGNANT = 16  # 孕产妇
    CHRONIC_ILLNESS = 32  # 慢性病
    LIVING_ALONE = 64  # 独居

    LABELS = {
        LONELY_ELDERLY: _("Lonely elderly"),
        CHILD_IN_NEED: _("Child in need"),
        EXTREME_POVERTY: _("Extreme poverty"),
        DISABLED: _("Disabled"),
        PREGNANT: _("Pregnant or postpartum"),
        CHRONIC_ILLNESS: _("Chronic illness"),
        LIVING_ALONE: _("Living alone"),
    }

    @classmethod
    def labels(cls, mask: int) -> list[str]:
        return [str(label) for bit, label in cls.LABELS.items() if mask & bit]


class ResidentQuerySet(ScopedQuerySet):
    def search(self, text: str) -> ResidentQuerySet:
        """Name (its beginning: 张 finds 张伟), phone or document number (whole, or its last digits).
        Every branch has an index on PostgreSQL, so a city-wide search is an index lookup, not a scan:
        phones are found through reverse(phone), whole or by their last digits (尾号)."""
        text = text.strip()
        if not text:
            return self.none()
        condition = Q(name__startswith=text)
        compact = text.replace(" ", "").upper()
        try:
            condition |= Q(phone_reversed=normalize_phone(text)[::-1])
        except IdentityError:
            pass
        try:
            condition |= Q(doc_type="id_card", doc_number=normalize_id_card(compact))
        except IdentityError:
            pass
        if compact[:-1].isdigit() and len(compact) >= 4:
            tail = compact[::-1]  # the last digits are the beginning of the reversed value
            condition |= Q(phone_reversed__startswith=tail) | Q(doc_reversed__startswith=tail)
        return self.alias(phone_reversed=Reverse("phone"), doc_reversed=Reverse("doc_number")).filter(condition)


class Resident(models.Model):
    household = models.ForeignKey(Household, models.PROTECT, related_name="residents")
    name = models.CharField(_("full name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    doc_type = models.CharField(_("document type"), max_length=16, choices=DocumentType.choices, default=DocumentType.ID_CARD)
    doc_number = models.CharField(_("document number"), max_length=20)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    relation = models.CharField(_("relation to head"), max_length=16, choices=Relation.choices, default=Relation.HEAD)
    registered_address = models.CharField(_("registered residence"), max_length=200, blank=True)
    special_groups = models.PositiveSmallIntegerField(_("special groups"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Found living here during screening but not yet confirmed on the roster (新增人员).
    is_new_occupant = models.BooleanField(_("new occupant"), default=False)
    # Denormalized household area code (grid or community): the scoping and partitioning key.
    area_code = models.CharField(max_length=15, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "doc_number"], name="resident_unique_document",
                                    opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="resident_sex_valid"),
        ]
        # Every index slows a million-row import, so each one here is needed by a query:
        # - area subtree scoping and the tree counts: `area_code LIKE 'prefix%'` grouped by area code and
        #   special groups, answered from the index alone (pattern opclass on PostgreSQL, ignored elsewhere);
        # - search by name prefix;
        # - search by phone (whole or last digits) and by a document's last digits: reverse(phone) and
        #   reverse(doc_number) (PostgreSQL expression indexes, migration 0004).
        # Pattern opclasses compare bytes: cheaper to maintain than the database locale's collation.
        indexes = [
            models.Index(fields=["area_code", "special_groups"], opclasses=["varchar_pattern_ops", "int2_ops"],
                         name="resident_area_groups_idx"),
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="resident_name_prefix_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.area_code = self.household.area_code
        super().save(*args, **kwargs)

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.compound_id:
            return Q(household__compound_id=scope.compound_id)
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING

    @property
    def masked_doc_number(self) -> str:
        return mask_document(self.doc_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def special_group_labels(self) -> list[str]:
        return SpecialGroup.labels(self.special_groups)

    # Fields whose changes the audit log records (before/after).
    AUDITED_FIELDS = (
        "name", "sex", "birth_date", "doc_type", "doc_number", "phone", "relation",
        "registered_address", "special_groups", "note", "household_id", "is_new_occupant",
    )


class ImportBatch(models.Model):
    """One import run (a roster, or a list of evidence for the cross-check): who, which file, the
    counts and the error report (XLSX)."""

    ROSTER = "residents"

    user = models.ForeignKey("accounts.User", models.SET_NULL, null=True, blank=True, related_name="import_batches", verbose_name=_("user"))
    filename = models.CharField(_("file name"), max_length=255)
    # What the file held: "residents" (a roster) or a kind of cross-check evidence (see fangkong.crosscheck).
    kind = models.CharField(_("kind"), max_length=20, default=ROSTER)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    # The importing user's scope code ('' for the command line): who may see this batch.
    area_code = models.CharField(max_length=15, blank=True, db_index=True)
    report = models.BinaryField(_("error report"), blank=True, default=b"")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING
