"""The `cascade` console script: Django's manage.py under Cascade's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cascade.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cascade", *sys.argv[1:]])


if __name__ == "__main__":
    main()
