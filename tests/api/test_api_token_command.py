"""`fangkong create-api-token USERNAME NAME` prints a working key once and stores only its hash."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fangkong.accounts.models import ApiToken, hash_token
from fangkong.audit.models import Action, AuditLog


def test_the_command_prints_a_key_that_authenticates(city, client):
    out, err = io.StringIO(), io.StringIO()
    call_command("create-api-token", "grid_a", "gate tablet", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("fk_") and "\n" not in key
    token = ApiToken.objects.get(user=city.users["grid_a"], name="gate tablet")
    assert token.key_hash == hash_token(key) and key not in token.key_hash
    assert client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).json()["username"] == "grid_a"
    assert AuditLog.objects.filter(action=Action.TOKEN, object_id=str(token.pk)).exists()
    assert key not in err.getvalue()


@pytest.mark.parametrize(("username", "name"), [("nobody", "x"), ("grid_a", " "), ("grid_a", "x" * 101)])
def test_the_command_refuses_unknown_users_and_bad_names(city, username, name):
    with pytest.raises(CommandError):
        call_command("create-api-token", username, name, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()
