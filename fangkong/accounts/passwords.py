"""Passwords a manager hands out: generated ones, easy to read out over the phone, and the check of
a password a manager chooses (Django's validators, AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from fangkong.accounts.models import User
from fangkong.core.errors import FieldErrors

# Generated passwords: no look-alike characters (0/O, 1/l/I), easy to read out over the phone.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_GROUPS, PASSWORD_GROUP_LENGTH = 3, 4


def check_password(password: str, account: User) -> None:
    """FieldErrors on "password" when Django's validators refuse it for this account."""
    try:
        validate_password(password, user=account)
    except ValidationError as exc:
        raise FieldErrors({"password": " ".join(exc.messages)}) from exc


def generate_password() -> str:
    """A random password such as `k7Qm-x3Fp-T9wa` (about 69 bits), which Django's validators accept."""
    while True:
        groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH))
                  for _ in range(PASSWORD_GROUPS))
        password = "-".join(groups)
        try:
            validate_password(password)
        except ValidationError:  # pragma: no cover - astronomically unlikely
            continue
        return password
