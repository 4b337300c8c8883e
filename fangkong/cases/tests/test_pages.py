import pytest

from fangkong.cases import services
from fangkong.cases.models import Status


@pytest.mark.django_db
def test_every_screen_renders_for_a_city_commander_and_a_plan_can_be_confirmed(city, login):
    case = services.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "x", severity="mild")
    t = services.order_test(city.users["community"], case)
    c = login(city.users["city"])
    for url in ["/cases/", "/cases/areas/4201/", "/cases/areas/420102001001/", "/cases/areas/420102001001/people/?status=confirmed",
                "/cases/areas/4201/export/", f"/cases/{case.pk}/", "/cases/tests/", "/cases/tests/import/",
                f"/cases/open/{city.residents['lina'].pk}/", "/facilities/", f"/facilities/{city.facilities['hospital'].pk}/",
                "/facilities/new/", f"/facilities/{city.facilities['hospital'].pk}/edit/", "/facilities/placement/", "/facilities/transfers/",
                f"/residents/{city.residents['zhangwei'].pk}/", "/policy/"]:
        r = c.get(url, follow=True)
        assert r.status_code == 200, (url, r.status_code)
    r = c.post("/facilities/placement/run/", follow=True)
    assert r.status_code == 200

    r = c.post(r.redirect_chain[-1][0] + "confirm/", follow=True)
    assert r.status_code == 200, r.content[:500]
    r = c.get("/facilities/transfers/")
    assert r.status_code == 200
