"""How the domain asks for background work: by task name, after commit, never importing tasks.

A request that cannot reach the broker is logged and dropped: every caller has a sweep on the
beat (dirty positions, queued runs, the outbox, due deliveries) that picks the work up later.

Sending by name needs no import of ``workers``: the project's Celery app makes itself the default
of every thread when Django starts (``workers`` is an installed app), and ``current_app`` is it.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.core.cache import cache

logger = logging.getLogger("tripline.tasks")


def task_request(
    name: str, *, args: list | None = None, countdown: float = 0, once_per: tuple[str, float] | None = None
) -> bool:
    """Send task ``name``; with ``once_per=(key, seconds)`` only the first request of a burst
    does (the task clears the key when it starts). Answers whether a message was sent."""
    try:
        if once_per is not None and not cache.add(once_per[0], "1", timeout=max(1, round(once_per[1]))):
            return False
        current_app.send_task(name, args=args or [], countdown=countdown)
    except Exception:  # the caller's sweep on the beat takes over
        logger.warning("Could not send %s%s; its sweep will pick the work up", name, args or "", exc_info=True)
        return False
    return True
