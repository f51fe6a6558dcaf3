"""Abstract models every domain table builds on."""

import uuid

from django.db import models


def short_reference(prefix: str, pk: object) -> str:
    """A reference people can read out (``RFQ-3F2A9C01B7``): the prefix and the id's first 10 hex digits."""
    return f"{prefix}-" + str(pk).replace("-", "")[:10].upper()


class TimestampedModel(models.Model):
    """A UUID public identifier and creation / update times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]
