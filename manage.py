#!/usr/bin/env python
"""Django's command-line utility for erpbridge."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpbridge.settings")
    from erpbridge.config import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        # A configuration mistake is one clear line, not a traceback.
        sys.exit(f"erpbridge: configuration error: {exc}")


if __name__ == "__main__":
    main()
