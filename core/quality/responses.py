"""When a response to an alert arrived: an RFQ awarded, a transfer approved, a markdown accepted.

Those records live in apps above quality (procurement, transfers, playbooks), so quality does not
read them by name: each registers here, when Django starts, SQL answering
``alert_id, position_id, kind, at`` for the tenant's alerts, and the KPIs (time to act) and the
replay (an alert averted by its response) read them all as one union.
"""

from __future__ import annotations

from typing import Protocol


class ResponseSql(Protocol):
    def __call__(self, *, tenant: str) -> str:
        """SQL answering ``alert_id`` (uuid, or NULL when the response names no alert), ``position_id``
        (bigint), ``kind`` (text) and ``at`` (timestamptz) of every response of the tenant ``tenant``
        (a placeholder)."""


_sources: dict[str, ResponseSql] = {}


def response_source_register(name: str, source: ResponseSql) -> None:
    """Count ``source``'s responses; registering a name again replaces it."""
    _sources[name] = source


def responses_sql(*, tenant: str) -> str:
    """Every registered source's rows as one union (no row when none is registered)."""
    parts = [source(tenant=tenant) for _, source in sorted(_sources.items())]
    if not parts:
        return (
            "SELECT NULL::uuid AS alert_id, NULL::bigint AS position_id, NULL::text AS kind, "
            "NULL::timestamptz AS at WHERE false"
        )
    return "\nUNION ALL\n".join(
        f"SELECT alert_id, position_id, kind, at FROM ({part}) AS source"  # noqa: S608 - registered SQL, no values
        for part in parts
    )
