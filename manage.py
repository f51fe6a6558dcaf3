#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# What Django answers without settings; everything else reads or writes the database or Redis.
WITHOUT_SERVICES = {"help", "--help", "-h", "version", "--version"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.main")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from core import embedded_services

    if sys.argv[1:2] and sys.argv[1] not in WITHOUT_SERVICES:
        try:
            embedded = settings.EMBEDDED_SERVICES
        except ImproperlyConfigured:  # Django reports it below, as it always does
            embedded = []
        # Settings start nothing: a command on embedded services that are down stops here, with what
        # to do, rather than at its first query with a socket error.
        problem = embedded_services.not_running_message(embedded)
        if problem:
            sys.exit(problem)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
