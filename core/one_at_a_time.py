"""Work a tenant runs one at a time (a full evaluation, a transfer plan).

A partial unique constraint on the tenant over the queued and running rows decides, so two starts
at once cannot both get through as a check-then-insert would let them.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction

from core.exceptions import Conflict

Run = TypeVar("Run", bound=models.Model)


def run_start(*, create: Callable[[], Run], active: Callable[[], Run | None], what: str, follow: str) -> Run:
    """The row ``create`` inserts; a Conflict naming the queued or running one if the tenant has it."""
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        current = active()
        raise Conflict(
            f"{what} is already {current.status if current else 'running'}"
            + (f" ({current.pk})" if current else "")
            + f"; follow it at {follow} instead of starting another."
        ) from None
