"""Two-factor log-in (django-otp): a six-digit code from an authenticator app (TOTP, RFC 6238) after the
password, or one of ten single-use backup codes (django-otp's static tokens) when the phone is lost.

A log-in has two steps. The password (accounts.views.LoginView, django-axes' lock-out) logs the session in; if
the account has a device, the session is marked PENDING and every page leads to the code page
(accounts.middleware.TwoFactorMiddleware) until a code passes: then django-otp records the device in the
session (`user.is_verified()`, OTPMiddleware). An account that must have two-factor
(`permissions.requires_two_factor`: city and district commanders, superusers, when
OTP_REQUIRED_FOR_WIDE_ROLES is on) and has no device yet is sent to enrol right after the password and can
do nothing else first.

Wrong codes are failed log-ins: each sends Django's `user_login_failed` for the username, which django-axes
counts against the same limit as wrong passwords (and the audit log records). Failed log-ins are forgiven
(axes' records cleared) only when the log-in is complete — after the code, or after the password for an
account without a device — so logging in with the password again does not reset the count of wrong codes.
django-otp's own throttle (a growing wait after each wrong code on a device) comes on top.

API bearer tokens are not sessions and are unaffected: each user issues them on the token page (for an account with
two-factor, reached only after the code) or the operator with `fangkong create-api-token`. An API
call with a session that has not passed its code is anonymous (401).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.accounts.models import User
from fangkong.accounts.services import _lock, audit_account, scope_code
from fangkong.audit.models import Action
from fangkong.core import permissions

PENDING = "_fk_otp_pending"  # in the session: the password passed, the code is still due
VERIFY = "verify"  # the session must pass a code
ENROL = "enrol"  # the account must enrol a device first
BACKUP_CODE_COUNT = 10
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup codes"


def is_verified(user: Any) -> bool:
    """This session passed a second factor (OTPMiddleware sets `otp_device`)."""
    return getattr(user, "otp_device", None) is not None


def has_device(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def state(request: HttpRequest) -> str:
    """What the session still owes: VERIFY (a code), ENROL (a device first) or "" (nothing). No query for
    an account that has no device and need not have one."""
    user: Any = request.user
    if not user.is_authenticated or is_verified(user):
        return ""
    if request.session.get(PENDING):
        return VERIFY
    if permissions.requires_two_factor(user):
        return VERIFY if has_device(user) else ENROL
    return ""


def _credentials(user: User) -> dict[str, str]:
    return {"username": user.get_username()}


def forgive_failures(request: HttpRequest, user: User) -> None:
    """The log-in is complete: clear the failed log-ins django-axes holds for this username and address
    (settings.AXES_RESET_ON_SUCCESS is off so that the password step alone does not)."""
    if getattr(settings, "AXES_ENABLED", True):
        AxesProxyHandler.update_request(request)
        AxesProxyHandler.get_implementation().reset_user_attempts(request, _credentials(user))


@receiver(user_logged_in, dispatch_uid="fangkong.accounts.two_factor.password_passed")
def password_passed(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """After the password: a session of an account with a device owes its code (a session never keeps the
    second factor of an earlier log-in)."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    pending = has_device(user)
    request.session[PENDING] = pending
    if not pending:
        forgive_failures(request, user)


def locked_out(request: HttpRequest, user: User) -> bool:
    """django-axes refuses this username from this address (wrong passwords and wrong codes together)."""
    return getattr(settings, "AXES_ENABLED", True) and not AxesProxyHandler.is_allowed(request, _credentials(user))


def code_failed(request: HttpRequest, user: User) -> bool:
    """Count a wrong code as a failed log-in (django-axes, the audit log); True when it locked the account
    out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def passed(request: HttpRequest, device: Device) -> None:
    """The code passed: the session is fully logged in."""
    otp_login(request, device)
    request.session[PENDING] = False
    forgive_failures(request, request.user)  # type: ignore[arg-type]


def normalise_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


@dataclass(frozen=True)
class Check:
    device: Device | None = None
    wait_seconds: int = 0  # django-otp's throttle: no code was checked


def check_code(user: User, raw: str) -> Check:
    """Check a code against the account's devices: six digits against the authenticator app, anything
    else against the backup codes (a used backup code is gone)."""
    code = normalise_code(raw)
    model: type[Device] = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            wait = _wait(device)
            if wait:
                return Check(wait_seconds=wait)
            if device.verify_token(code):
                return Check(device=device)
    return Check()


# --- Enrolment and devices ------------------------------------------------------------------------------

def enrolling_device(user: User) -> TOTPDevice:
    """The account's authenticator device being set up (unconfirmed until its first code passes); the same
    one on every visit, so the QR code shown stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def secret(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app that cannot scan."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> bytes:
    """The otpauth:// address of the device as an SVG QR code (served from its own URL: the
    Content-Security-Policy allows no inline images of ours)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue()


def new_backup_codes(user: User) -> list[str]:
    """Ten new single-use backup codes (the old ones stop working), returned to be shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@dataclass(frozen=True)
class Enrolment:
    codes: list[str] | None = None  # the backup codes, to be shown once; None: not confirmed
    wait_seconds: int = 0  # django-otp's throttle after a wrong code: no code was checked


def _wait(device: Device) -> int:
    """Seconds until django-otp's throttle lets the device check a code again (0: it may now)."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return 0
    until = (data or {}).get("locked_until")
    wait = (until - timezone.now()).total_seconds() if until else 1
    return max(1, int(wait + 0.999))


def confirm(request: HttpRequest, user: User, raw: str) -> Enrolment:
    """Finish the enrolment with the first code from the app: the device is confirmed, the session counts
    as verified with it and ten backup codes are made (returned, to be shown once)."""
    code = normalise_code(raw)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None or not (code.isdigit() and len(code) == device.digits):
            return Enrolment()
        wait = _wait(device)
        if wait:
            return Enrolment(wait_seconds=wait)
        if not device.verify_token(code):
            return Enrolment()
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_backup_codes(user)
        audit_account(user, user, Action.UPDATE, {"two_factor": "enabled"}, scope_code(user))
    passed(request, device)
    return Enrolment(codes=codes)


def regenerate_backup_codes(user: User) -> list[str]:
    with transaction.atomic():
        codes = new_backup_codes(user)
        audit_account(user, user, Action.UPDATE, {"two_factor": "new backup codes"}, scope_code(user))
    return codes


def _delete_devices(user: User) -> int:
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user, confirmed=True).count()
        model.objects.filter(user=user).delete()
    return removed


def remove(user: User) -> int:
    """The account's own choice (its password checked by the view): two-factor off. An account that must
    have it is sent to enrol again at its next page."""
    with transaction.atomic():
        removed = _delete_devices(user)
        if removed:
            audit_account(user, user, Action.UPDATE, {"two_factor": "removed"}, scope_code(user))
    return removed


def reset(manager: User, account: User) -> int:
    """A manager's reset (a lost phone and no backup codes): the account's devices are deleted and its
    sessions end (a session verified on the lost phone must not live on); at the next log-in it logs in
    with the password and, if it must have two-factor, enrols again. Audit-logged."""
    with transaction.atomic():
        locked = _lock(account)
        removed = _delete_devices(locked)
        if removed:
            locked.sessions_valid_after = timezone.now()
            locked.save(update_fields=["sessions_valid_after"])
            audit_account(manager, locked, Action.UPDATE, {"two_factor": "reset"}, scope_code(locked))
    return removed


@dataclass(frozen=True)
class Summary:
    authenticator: TOTPDevice | None
    backup_codes_left: int
    required: bool

    @property
    def enabled(self) -> bool:
        return self.authenticator is not None


def summary(user: User) -> Summary:
    return Summary(authenticator(user), backup_codes_left(user), permissions.requires_two_factor(user))
