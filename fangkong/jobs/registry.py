"""The kinds of background job. An app registers its kinds in its AppConfig.ready():

    register(JobKind("roster-import", _("Roster import"), run_roster_import))
    register(JobKind("observation-alerts", _("Observation alerts"), run_alerts, cron="*/5 * * * *"))

`run(job, progress)` does the work and returns an `Outcome`. It runs inside one transaction with the job's
"done" mark, so a worker killed half-way leaves nothing behind and the retried job starts clean: a job
must count nothing twice when it runs again (imports upsert, periodic jobs are idempotent). A `JobError`
is a failure the user can act on (a bad file): its message is shown on the job page.
A kind with a `cron` schedule (five fields, the server's time zone) is run by the queue on that schedule,
as the system (no user).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from fangkong.jobs.models import Job
    from fangkong.jobs.progress import Progress


class JobError(Exception):
    """A failure the user can act on; the message (in the user's language) is shown on the job page."""


@dataclass
class Outcome:
    counts: dict[str, Any] = field(default_factory=dict)
    url: str = ""  # the page with the per-row report (e.g. an import batch's result page)
    file_name: str = ""
    file_type: str = ""
    file_data: bytes = b""
    message: str = ""
    # What the file's download writes to the audit log (fangkong.jobs.exports): object_type, object_id,
    # object_repr, area_code and changes; kept in the job's result under "audit". Empty: the job itself.
    audit: dict[str, Any] = field(default_factory=dict)


Runner = Callable[["Job", "Progress"], Outcome]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str | Promise
    run: Runner
    cron: str = ""  # periodic: run by the queue on this schedule
    # The page a person returns to from the job page (e.g. the upload form), a URL name.
    back_url_name: str = ""
    # Or the page by the job (an export's area page, with its filters), when it needs the job's params.
    back: Callable[[Job], str] | None = None
    # Its work only reads (an export): run before the job's transaction, its reads may go to the read replica.
    reads_only: bool = False
    # The counts the job page shows, under these labels (a count without one is not shown).
    count_labels: dict[str, str | Promise] = field(default_factory=dict)


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    if kind.name in KINDS and KINDS[kind.name] is not kind:
        raise ValueError(f"job kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind


def get(name: str) -> JobKind:
    return KINDS[name]


def periodic() -> list[JobKind]:
    return [kind for kind in KINDS.values() if kind.cron]
