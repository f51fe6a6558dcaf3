"""The response an alert's grade calls for, asked of whoever decides it.

Alerts sit below the playbooks that choose a markdown, a transfer or an RFQ, so the engine does
not import them: it declares here what it needs, and the playbooks app registers the function
that answers it when Django starts (``PlaybooksConfig.ready``).
"""

from __future__ import annotations

from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from core.alerts.rules import Trip


class TripsRecommend(Protocol):
    def __call__(self, *, tenant_id: object, readings: dict[int, dict], trips: dict[tuple, Trip]) -> None:
        """Set ``trip.recommendation`` on every trip of a chunk; ``readings`` by position id, the
        trips by (position id, rule)."""


_registered: list[TripsRecommend] = []


def recommender_register(recommend: TripsRecommend) -> None:
    """The one function that answers ``trips_recommend``; registering again replaces it."""
    _registered[:] = [recommend]


def trips_recommend(*, tenant_id: object, readings: dict[int, dict], trips: dict[tuple, Trip]) -> None:
    if not _registered:
        raise ImproperlyConfigured("No grade response is registered: core.playbooks must be in INSTALLED_APPS.")
    _registered[0](tenant_id=tenant_id, readings=readings, trips=trips)
