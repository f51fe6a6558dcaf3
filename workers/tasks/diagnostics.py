"""Round-trip checks of the worker itself."""

from celery import shared_task
from django.db import connection


@shared_task(name="tripline.diagnostics.ping", ignore_result=False, acks_late=True, time_limit=30, soft_time_limit=20)
def ping(nonce: str) -> dict:
    """Answer with the nonce and proof that the worker reaches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        database = cursor.fetchone()[0]
    return {"nonce": nonce, "database": database}
