"""The crawl: the demo city at a small size, every demo role and the residents' links, every page they reach.

It fails on any 5xx, any link to a 4xx, any page without the site's layout, and any English (or code) in a
Chinese page or Chinese UI text in an English one (see crawler.py). Each later module adds its demo data to the
demo commands below, its roles to demo-accounts and its public links to `public_links`, and the crawl finds the
rest by itself. It prints how many pages it saw.
"""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.observation.models import ObservationFile
from fangkong.people.models import ImportBatch
from fangkong.screening.links import link_for
from fangkong.testing import log_in_verified

from .crawler import Crawler, CrawlResult, Problem

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "fangkong" / "locale"
DEMO_ROLES = ("admin", "city", "district", "street", "community", "grid", "facility", "guard", "volunteer")


def _chinese_ui_strings() -> set[str]:
    return {e.msgstr.strip() for e in polib.pofile(str(LOCALE / "zh_Hans/LC_MESSAGES/django.po"))
            if e.msgstr and e.msgstr != e.msgid and len(e.msgstr.strip()) >= 2}


def _build_demo() -> None:
    call_command("demo-city", residents=600, seed=2020, screening_days=3, verbosity=0)
    call_command("demo-cases", seed=2020, verbosity=0)
    call_command("demo-tracing", seed=2020, verbosity=0)
    call_command("demo-observation", seed=2020, files=60, verbosity=0)
    call_command("demo-accounts", verbosity=0)
    call_command("demo-evidence", verbosity=0)
    call_command("jobs-worker", once=True, verbosity=0)  # the schedule's first pass: the city's job pages


def public_links() -> list[str]:
    """The residents' links, a few of each kind: household self-report and observation self-report."""
    admin = User.objects.get(username="admin")
    households = Household.objects.order_by("id")[:5]
    links = [f"/r/{link_for(admin, household).token}/" for household in households]
    files = ObservationFile.objects.exclude(token="").order_by("id")[:5]
    links += [f"/o/{file.token}/" for file in files]
    return links


def _log_in(username: str, language: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
    client.cookies["django_language"] = language
    return client


def run_crawl(roles: tuple[str, ...] = DEMO_ROLES, *, english: bool = True, residents: bool = True) -> CrawlResult:
    chinese = _chinese_ui_strings()
    # Data, not UI text: usernames and the names of uploaded files.
    usernames = frozenset([*User.objects.values_list("username", flat=True),
                           *ImportBatch.objects.values_list("filename", flat=True)])
    result = CrawlResult()
    for username in roles:
        # The administrator sees every object of the demo; the roles, every kind of page they can reach.
        Crawler(_log_in(username, "zh-hans"), username, language="zh-hans", chinese_ui_strings=chinese,
                result=result, every_object=username == "admin", data_words=usernames).crawl(["/"])
    if english:  # The English UI, as the city commander sees it (every page kind, fewer objects).
        Crawler(_log_in("city", "en"), "city/en", language="en", chinese_ui_strings=chinese, result=result,
                max_per_query_pattern=2, max_per_object_pattern=3).crawl(["/"])
    if residents:  # Residents: no log-in, through their links, and the log-in page.
        anonymous = Client(raise_request_exception=False)
        anonymous.cookies["django_language"] = "zh-hans"
        Crawler(anonymous, "resident", language="zh-hans", chinese_ui_strings=chinese, result=result,
                skip=lambda url: not url.startswith(("/r/", "/o/", "/accounts/login/"))).crawl(
            [*public_links(), "/accounts/login/"])
    return result


def run_two_factor_crawl(result: CrawlResult) -> None:
    """As deployed, with OTP_REQUIRED_FOR_WIDE_ROLES on (the caller turns it on): the district commander who
    passed the code sees every kind of page (its two-factor page now on); the same account after the
    password alone sees only the code page; the administrator, without a device, only the enrolment."""
    chinese = _chinese_ui_strings()
    usernames = frozenset(User.objects.values_list("username", flat=True))
    verified = log_in_verified(Client(raise_request_exception=False), User.objects.get(username="district"))
    verified.cookies["django_language"] = "zh-hans"
    Crawler(verified, "district/2fa", language="zh-hans", chinese_ui_strings=chinese, result=result,
            max_per_query_pattern=2, max_per_object_pattern=2, data_words=usernames).crawl(
        ["/", "/accounts/two-factor/"])
    for username, page in (("district", "/accounts/two-factor/verify/"), ("admin", "/accounts/two-factor/enrol/")):
        client = _log_in(username, "zh-hans")  # the password step only
        crawler = Crawler(client, f"{username}/2fa-pending", language="zh-hans", chinese_ui_strings=chinese,
                          result=result, data_words=usernames)
        crawler.crawl(["/", page])
        reached = {url.partition("?")[0] for url in crawler.seen}
        response = client.get("/screening/")
        if response.status_code != 302 or not response["Location"].startswith(page):
            result.problems.append(Problem(crawler.user, "/screening/", "reached without its second factor", ""))
        assert page in reached


def test_crawl_every_page_of_the_demo_as_every_role_zh_and_en(settings, capsys):
    settings.LANGUAGE_CODE = "zh-hans"
    settings.SELF_REPORT_RATE_LIMITS = {"address": (100_000, 600), "link": (100_000, 3600)}
    _build_demo()
    result = run_crawl()
    settings.OTP_REQUIRED_FOR_WIDE_ROLES = True
    run_two_factor_crawl(result)
    total = sum(result.pages.values())
    with capsys.disabled():
        print(f"\ncrawl: {total} pages of {len(result.patterns)} kinds seen; by user: "
              + ", ".join(f"{u}={n}" for u, n in result.pages.items()) + f"; {len(result.problems)} problems")
    assert not result.problems, "\n".join(str(p) for p in result.problems[:200])
