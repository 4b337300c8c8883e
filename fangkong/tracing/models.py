"""Contact tracing (流调): investigations of cases, their contacts, the contact graph, infection links
and terminal disinfection (终末消毒) tasks.

Every row carries `area_code`, the area code of the index case's person (its scoping key), so an
area's lists are prefix queries; rows follow that person when they move (moves.follow_moved_residents).
`ContactEdge` is the person→person projection of matched contacts: the ring query walks it with one
recursive CTE from an index on the source person.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.masking import mask_document, mask_phone
from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet
from fangkong.people.models import DocumentType


def area_scope_q(scope: Scope) -> Q:
    if scope.area_code:
        return Q(area_code__startswith=scope.area_code)
    return NOTHING


AREA_INDEX_OPS = ["varchar_pattern_ops"]


class ContactKind(models.TextChoices):
    HOUSEHOLD = "household", _("Household member")  # 同住
    COLLEAGUE = "colleague", _("Colleague")  # 同事
    TRANSPORT = "transport", _("Same transport")  # 同乘交通工具
    NEIGHBOUR = "neighbour", _("Neighbour")  # 邻居
    CAREGIVER = "caregiver", _("Caregiver")  # 陪护
    MEDICAL = "medical", _("Medical staff")  # 医护
    OTHER = "other", _("Other")


class Protection(models.TextChoices):
    NONE = "none", _("None")  # 无防护
    MASK = "mask", _("Mask only")  # 仅佩戴口罩
    FULL_PPE = "full_ppe", _("Full protection (suit, N95, goggles)")  # 全套防护


class MatchState(models.TextChoices):
    UNMATCHED = "unmatched", _("Not matched")
    AUTO_DOCUMENT = "auto_document", _("Matched by document number")
    AUTO_PHONE = "auto_phone", _("Matched by phone")
    CANDIDATES = "candidate_needs_confirmation", _("Candidates to confirm")
    CONFIRMED = "confirmed", _("Match confirmed")
    CREATED = "created", _("Added to the registry")
    REJECTED = "rejected", _("Candidates rejected")


MATCHED_STATES = (MatchState.AUTO_DOCUMENT, MatchState.AUTO_PHONE, MatchState.CONFIRMED, MatchState.CREATED)


class Investigation(models.Model):
    """流调记录: the investigation of one case episode (a case re-opened later gets a new one)."""

    case = models.ForeignKey("cases.Case", models.PROTECT, related_name="investigations", verbose_name=_("case"))
    # The case's opened_at when the investigation began: identifies the episode.
    episode_opened_at = models.DateTimeField()
    onset_on = models.DateField(_("symptom onset"), null=True, blank=True)
    sampled_on = models.DateField(_("sampling date"), null=True, blank=True)
    investigator = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                     verbose_name=_("investigator"))
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    # Public places the case used (for terminal disinfection), one per entry.
    places = models.JSONField(_("places visited"), default=list, blank=True)
    area_code = models.CharField(max_length=15, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "episode_opened_at"], name="investigation_one_per_episode")]
        indexes = [models.Index(fields=["area_code"], opclasses=AREA_INDEX_OPS, name="investigation_area_idx")]

    def __str__(self) -> str:
        return f"#{self.pk}"

    scope_q = staticmethod(area_scope_q)

    @property
    def reference_date(self):
        """Exposure counts from this date on (minus the look-back): onset, or sampling without onset."""
        return self.onset_on or self.sampled_on


class Contact(models.Model):
    """One person reported as a contact of the index case, as reported, and who they turned out to be."""

    investigation = models.ForeignKey(Investigation, models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind of contact"), max_length=12, choices=ContactKind.choices)
    name = models.CharField(_("full name"), max_length=50)
    doc_type = models.CharField(_("document type"), max_length=16, choices=DocumentType.choices, default=DocumentType.ID_CARD)
    doc_number = models.CharField(_("document number"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    first_exposure_on = models.DateField(_("first exposure"), null=True, blank=True)
    last_exposure_on = models.DateField(_("last exposure"))
    protection = models.CharField(_("protection"), max_length=10, choices=Protection.choices, default=Protection.NONE)
    is_close = models.BooleanField(_("close contact"), default=False)  # 密接, computed by rule.is_close
    resident = models.ForeignKey("people.Resident", models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("matched resident"))
    match_state = models.CharField(_("match"), max_length=28, choices=MatchState.choices, default=MatchState.UNMATCHED)
    # Lives outside the registry (no document number to register them by): recorded with the address
    # text and flagged for the command centre, which passes them on to the place where they live.
    outside_registry = models.BooleanField(_("outside the registry"), default=False)
    # When the close contact was queued (case opened, observation started): set once, never again.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    queue_note = models.CharField(max_length=200, blank=True)
    client_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["investigation_id", "id"]
        indexes = [
            models.Index(fields=["area_code", "match_state"], opclasses=AREA_INDEX_OPS * 2, name="contact_area_match_idx"),
            models.Index(fields=["resident"], name="contact_resident_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    scope_q = staticmethod(area_scope_q)

    @property
    def masked_doc_number(self) -> str:
        return mask_document(self.doc_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_matched(self) -> bool:
        return self.match_state in MATCHED_STATES


class ContactEdge(models.Model):
    """The contact graph, person to person: the index case's person → a matched contact."""

    source_resident = models.ForeignKey("people.Resident", models.CASCADE, related_name="+")
    target_resident = models.ForeignKey("people.Resident", models.CASCADE, related_name="+")
    contact = models.OneToOneField(Contact, models.CASCADE, null=True, blank=True, related_name="edge")
    investigation = models.ForeignKey(Investigation, models.CASCADE, null=True, blank=True, related_name="+")
    last_exposure_on = models.DateField()
    is_close = models.BooleanField(default=True)
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        # The ring query looks up the close edges of a source: the index answers it from itself.
        indexes = [
            models.Index(fields=["source_resident", "is_close", "target_resident"], name="edge_source_idx"),
            models.Index(fields=["area_code"], opclasses=AREA_INDEX_OPS, name="edge_area_idx"),
        ]

    scope_q = staticmethod(area_scope_q)


class InfectionLink(models.Model):
    """Who infected whom (传播链): an infector case → an infectee case, with who recorded it and why."""

    infector = models.ForeignKey("cases.Case", models.PROTECT, related_name="infected")
    infectee = models.ForeignKey("cases.Case", models.PROTECT, related_name="infected_by")
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # The infectee's area code.
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["infector", "infectee"], name="infection_link_unique"),
            models.CheckConstraint(condition=~Q(infector=models.F("infectee")), name="infection_link_not_self"),
        ]
        indexes = [models.Index(fields=["area_code"], opclasses=AREA_INDEX_OPS, name="infection_link_area_idx")]

    scope_q = staticmethod(area_scope_q)


class TaskKind(models.TextChoices):
    HOME = "home", _("Home of the case")  # 病例住所
    PUBLIC = "public", _("Public place")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class DisinfectionTask(models.Model):
    """终末消毒: terminal disinfection of the home of a case, or of a public place they used."""

    investigation = models.ForeignKey(Investigation, models.CASCADE, related_name="tasks")
    kind = models.CharField(_("kind"), max_length=8, choices=TaskKind.choices)
    place = models.CharField(_("place"), max_length=200)
    status = models.CharField(_("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["investigation", "kind", "place"], name="disinfection_task_once")]
        indexes = [models.Index(fields=["area_code", "status"], opclasses=AREA_INDEX_OPS * 2, name="disinfection_area_idx")]

    def __str__(self) -> str:
        return self.place

    scope_q = staticmethod(area_scope_q)
