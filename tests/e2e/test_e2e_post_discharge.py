"""After discharge: the board links to the post-discharge list; its filter shows whose period is due or over."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.cases import services
from fangkong.cases.models import Case, Status

from .helpers import log_in


def test_the_community_sees_whose_post_discharge_period_is_due(e2e_city, phone: Page):
    city = e2e_city
    user = city.users["community"]
    for who in ("zhangwei", "lina"):
        case = services.open_case(user, city.residents[who], Status.CONFIRMED, "确诊", severity="mild")
        services.transition(user, case, Status.DISCHARGED, "治愈出院", cure_override="外院两次阴性")
    overdue = Case.objects.get(resident=city.residents["zhangwei"])
    Case.objects.filter(pk=overdue.pk).update(post_discharge_until=timezone.localdate() - dt.timedelta(days=2))

    log_in(phone, "community")
    phone.goto("/cases/areas/420102001001/")
    expect(phone.locator("#post-discharge-due")).to_have_text("1 人到期")
    phone.locator("#post-discharge-link").click()
    expect(phone.locator("table.post-discharge tbody tr")).to_have_count(2)
    phone.locator("#post-discharge-due-filter").click()
    expect(phone.locator("table.post-discharge tbody tr")).to_have_count(1)
    expect(phone.locator(f"#post-discharge-{overdue.pk}")).to_contain_text("已逾期")
    phone.locator(f"#post-discharge-{overdue.pk} a").click()
    expect(phone.locator("#post-discharge-until")).to_contain_text((timezone.localdate() - dt.timedelta(days=2)).isoformat())
