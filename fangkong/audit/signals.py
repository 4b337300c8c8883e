from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from fangkong.audit.models import Action
from fangkong.audit.services import record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(user, Action.LOGIN, object_type="accounts.user", object_id=str(user.pk), object_repr=user.username,
           area_code=getattr(getattr(user, "area", None), "code", ""))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    record(None, Action.LOGIN_FAILED, object_type="accounts.user", object_repr=username)
