"""The placement plan on a desktop and a phone: the facility-and-bed column shows its whole label, and
confirming many bookings asks first, saying how many."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.cases import services as cases
from fangkong.cases.models import Status
from fangkong.facilities.models import BedPool, Stay
from fangkong.people.models import Resident

from .helpers import log_in

# The widest part of each row must stay inside the table's own box (nothing cut off or hidden).
CUT_OFF = """() => [...document.querySelectorAll('table.proposals td select')].filter(s => {
  const cell = s.closest('td').getBoundingClientRect(), box = s.getBoundingClientRect(), css = getComputedStyle(s);
  const probe = document.createElement('span');
  Object.assign(probe.style, {fontSize: css.fontSize, fontFamily: css.fontFamily, whiteSpace: 'nowrap', position: 'absolute'});
  probe.textContent = s.options[s.selectedIndex].text;
  document.body.appendChild(probe);
  // The label, the select's own padding and its arrow (about 1.2em) must fit inside the select.
  const needed = probe.getBoundingClientRect().width + parseFloat(css.paddingLeft) + parseFloat(css.paddingRight) + 1.2 * parseFloat(css.fontSize);
  probe.remove();
  return box.right > cell.right + 1 || box.width < needed || box.right > document.documentElement.clientWidth;
}).length"""


def many_waiting(city, n: int) -> None:
    BedPool.objects.filter(facility=city.facilities["shelter"]).update(capacity=n)
    household = city.households["a102"]
    for i in range(n - 2):
        Resident.objects.create(household=household, name=f"轻症{i:02d}", sex="M", birth_date="1980-01-01",
                                doc_type="passport", doc_number=f"E{i:07d}")
    for resident in Resident.objects.filter(area_code__startswith="420102")[:n]:
        cases.open_case(city.users["community"], resident, Status.CONFIRMED, "确诊", severity="mild")


def test_the_plan_shows_whole_bed_labels_and_confirming_says_how_many(e2e_city, desktop: Page, phone: Page):
    many_waiting(e2e_city, 54)
    log_in(desktop, "district")
    desktop.goto("/facilities/placement/")
    desktop.locator("#run-engine").click()
    expect(desktop).to_have_url(re.compile(r"/facilities/placement/runs/\d+/$"))
    expect(desktop.locator("#run-placed b")).to_have_text("54 / 54")
    assert desktop.evaluate(CUT_OFF) == 0
    run_url = desktop.url

    log_in(phone, "district")
    phone.goto(run_url)
    assert phone.evaluate(CUT_OFF) == 0

    desktop.locator("#confirm-run").click()
    expect(desktop.locator("#confirm-count")).to_have_text("将预订 54 张床位并下达 54 个转运单。")
    assert Stay.objects.count() == 0  # nothing booked before the second click
    desktop.locator("#confirm-run-final").click()
    expect(desktop.locator(".msg-success")).to_contain_text("54")
    assert Stay.objects.count() == 54
