"""Cursor pagination: stable under inserts, constant cost at any depth."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from core.timestamps import utc_offset_error

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView


class CheckedCursorPagination(CursorPagination):
    """DRF's cursor pagination, with the cursor's position parsed before it reaches the query.

    DRF decodes a cursor but hands its position to the query as it came: a position that is not
    of the ordering column's type (``x`` for a bigint id) or a date-time with a UTC offset
    PostgreSQL cannot store was a 500. Such a cursor gets DRF's answer to one it cannot decode.
    """

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: APIView | None = None) -> list | None:
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            position = field.to_python(cursor.position)
        except ValidationError:
            raise NotFound(self.invalid_cursor_message) from None
        if isinstance(position, datetime) and utc_offset_error(position):
            raise NotFound(self.invalid_cursor_message)
        return cursor


class CreatedCursorPagination(CheckedCursorPagination):
    ordering = ("created_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class IdCursorPagination(CheckedCursorPagination):
    """For the large bigint-keyed tables (positions, lots, movements): the primary key orders."""

    ordering = ("id",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
