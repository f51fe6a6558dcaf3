"""Imported by the tests' Celery worker (``celery worker -I``): the test process flushes the database
between tests, and the post-migrate that follows recreates content types under new ids, which a
long-running worker would still hold in Django's content-type cache (guardian then finds no
permission for them). The worker forgets them before each task, as the test process does itself."""

from celery.signals import task_prerun
from django.contrib.contenttypes.models import ContentType


@task_prerun.connect
def content_types_forget(**kwargs: object) -> None:
    ContentType.objects.clear_cache()
