"""`fangkong create-api-token USERNAME NAME`: issue an API token and print its key, once.

Only the key's hash is stored: the printed key cannot be shown again (issue a new token instead).
The key is the only line on stdout, so scripts can capture it.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from fangkong.accounts.models import ApiToken, User
from fangkong.audit.models import Action
from fangkong.audit.services import record


class Command(BaseCommand):
    help = "Issue an API token for a user and print its key (shown only once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="What the token is for, e.g. the device or script.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError(_("The token name must have 1–100 characters."))
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(_("No user is named %(username)s.") % {"username": username}) from exc
        if not user.is_active:
            raise CommandError(_("The user %(username)s is not active.") % {"username": username})
        with transaction.atomic():
            token, key = ApiToken.issue(user, name)
            scope = user.scope
            record(None, Action.TOKEN, token, object_repr=str(token), area_code=scope.area_code or "",
                   changes={"issued": [None, token.prefix], "user": [None, user.username], "via": [None, "command line"]})
        self.stderr.write(_("Token %(prefix)s… for %(username)s: store the key now, it is not shown again.")
                          % {"prefix": token.prefix, "username": user.username})
        self.stdout.write(key)
