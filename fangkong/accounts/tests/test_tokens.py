import pytest

from fangkong.accounts.models import ApiToken
from fangkong.audit.models import Action, AuditLog

pytestmark = pytest.mark.django_db


def test_creating_a_token_shows_the_key_once_and_stores_only_its_hash(city, login):
    client = login(city.users["guard"])
    response = client.post("/accounts/tokens/", {"name": "门岗平板"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("fk_") and key in response.content.decode()
    token = ApiToken.objects.get(user=city.users["guard"])
    assert token.name == "门岗平板" and key not in (token.key_hash, token.prefix)
    assert ApiToken.authenticate(key) == city.users["guard"]
    again = client.get("/accounts/tokens/").content.decode()
    assert key not in again and token.prefix in again


def test_creation_and_revocation_are_audit_logged_without_the_key(city, login):
    client = login(city.users["community"])
    key = client.post("/accounts/tokens/", {"name": "脚本"}).context["new_key"]
    token = ApiToken.objects.get()
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked and ApiToken.authenticate(key) is None
    entries = AuditLog.objects.filter(action=Action.TOKEN).order_by("id")
    assert [e.changes for e in entries] == [{"name": [None, "脚本"], "prefix": [None, token.prefix]}, {"revoked": [False, True]}]
    assert all(e.area_code == "420102001001" and key not in str(e.changes) for e in entries)


def test_a_token_needs_a_name(city, login):
    response = login(city.users["community"]).post("/accounts/tokens/", {"name": "  "})
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_users_see_and_revoke_only_their_own_tokens(city, login):
    mine, _key = ApiToken.issue(city.users["grid_a"], "网格A手机")
    client = login(city.users["grid_b"])
    assert "网格A手机" not in client.get("/accounts/tokens/").content.decode()
    assert client.post(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 404
    mine.refresh_from_db()
    assert not mine.revoked


def test_revoking_needs_a_post(city, login):
    token, _key = ApiToken.issue(city.users["grid_a"], "手机")
    assert login(city.users["grid_a"]).get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    assert client.get("/accounts/tokens/").status_code == 302
