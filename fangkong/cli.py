"""The `fangkong` console command: manage.py for operators (`fangkong migrate`, `fangkong demo-city`...)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # The settings refuse to start unsafe (fangkong/settings.py): say why, without a traceback.
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
