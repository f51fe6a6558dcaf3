"""The date-times the platform accepts: what PostgreSQL's ``timestamptz`` can store.

Python parses UTC offsets up to ±23:59:59.999999; PostgreSQL refuses anything beyond ±15:59:59
and offsets with fractions of a second, and such a value reaching a query or a COPY is a 500.
Every date-time read at the edge (request bodies, bulk rows, list filters) is checked here, so it
is a 400 that names its field instead. Real zones lie between -12:00 and +14:00, in whole minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
UTC_OFFSET_MESSAGE = "The UTC offset must be whole minutes between -15:59 and +15:59 (e.g. Z, +02:00, -05:30)."


def utc_offset_error(value: datetime) -> str | None:
    """Why ``value``'s UTC offset cannot be stored, or None when it can (or the value is naive)."""
    offset = value.utcoffset()
    if offset is None:
        return None
    if abs(offset) > MAX_UTC_OFFSET or offset % timedelta(minutes=1):
        return UTC_OFFSET_MESSAGE
    return None
