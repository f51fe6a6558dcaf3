"""Cursor pagination: stable under inserts, constant cost at any depth, ``page_size`` on every list."""

from __future__ import annotations

import json
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, OrderBy, Q, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from core.timestamps import utc_offset_error

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.views import APIView


class TriplineCursorPagination(CursorPagination):
    """The settings every list shares, and the page envelope in OpenAPI 3.1 terms."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        """``page_size`` from 1 to ``max_page_size``; anything else is a 400 (DRF would quietly use 100)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_schema_operation_parameters(self, view: object) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters

    def get_paginated_response_schema(self, schema: dict) -> dict:
        # DRF writes ``nullable: true``, which OpenAPI 3.1 (JSON Schema) does not know.
        link = {"type": ["string", "null"], "format": "uri", "description": "null on the last (first) page."}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }


class CheckedCursorPagination(TriplineCursorPagination):
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
        except DjangoValidationError:
            raise NotFound(self.invalid_cursor_message) from None
        if isinstance(position, datetime) and utc_offset_error(position):
            raise NotFound(self.invalid_cursor_message)
        return cursor


class CreatedCursorPagination(CheckedCursorPagination):
    ordering = ("created_at", "id")


class IdCursorPagination(CheckedCursorPagination):
    """For the large bigint-keyed tables (positions, lots, movements): the primary key orders."""

    ordering = ("id",)


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering; nulls sort after every value, whichever the direction."""

    field: str
    descending: bool = False
    nulls_last: bool = True

    def reversed(self) -> SortKey:
        return SortKey(self.field, not self.descending, not self.nulls_last)

    def order_by(self) -> OrderBy:
        nulls = {"nulls_last": True} if self.nulls_last else {"nulls_first": True}
        return F(self.field).desc(**nulls) if self.descending else F(self.field).asc(**nulls)

    def equal(self, value: object) -> Q:
        return Q(**{f"{self.field}__isnull": True}) if value is None else Q(**{self.field: value})

    def after(self, value: object) -> Q:
        """Rows strictly after ``value`` in this key's order."""
        if value is None:
            return _NOTHING if self.nulls_last else Q(**{f"{self.field}__isnull": False})
        beyond = Q(**{f"{self.field}__{'lt' if self.descending else 'gt'}": value})
        if self.nulls_last:
            beyond |= Q(**{f"{self.field}__isnull": True})
        return beyond


_NOTHING = Q(pk__in=[])


class KeysetPagination(TriplineCursorPagination):
    """Cursor pagination over an ordering the caller chooses, on columns that repeat or are null.

    DRF's cursor keeps only the first ordering column's value and cannot compare a null; this
    cursor carries every column's value of the row it stops at, plus ``tiebreaker`` (unique), and
    asks for the rows after it in that order (keyset pagination), so each page costs the same.
    """

    tiebreaker = "pk"

    def sort_keys(self, request: Request) -> list[SortKey]:
        """The ordering before the tiebreaker; subclasses read it from the request."""
        return []

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: object = None) -> list | None:
        self.request, self.base_url = request, request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.keys = [*self.sort_keys(request), SortKey(self.tiebreaker)]
        reverse, values = self._cursor(request, queryset)
        keys = [key.reversed() for key in self.keys] if reverse else self.keys
        if queryset._fields:  # value rows: the cursor reads its keys' values from them too
            readable = {*queryset._fields, *queryset.query.annotations}
            missing = [key.field for key in self.keys if key.field not in readable]
            if missing:
                queryset = queryset.values(*queryset._fields, *missing)
        queryset = queryset.order_by(*(key.order_by() for key in keys))
        if values is not None:
            queryset = queryset.filter(_after(keys, values))
        rows = list(queryset[: self.page_size + 1])
        more, self.page = len(rows) > self.page_size, rows[: self.page_size]
        if reverse:
            self.page.reverse()
        came_from_a_cursor = values is not None
        self.has_next, self.has_previous = (came_from_a_cursor, more) if reverse else (more, came_from_a_cursor)
        return self.page

    def get_next_link(self) -> str | None:
        return self._link(self.page[-1], reverse=False) if self.has_next and self.page else None

    def get_previous_link(self) -> str | None:
        return self._link(self.page[0], reverse=True) if self.has_previous and self.page else None

    def _link(self, row: object, *, reverse: bool) -> str:
        values = [row[key.field] if isinstance(row, dict) else getattr(row, key.field) for key in self.keys]
        token = json.dumps({"r": int(reverse), "v": values}, separators=(",", ":"), default=str)
        encoded = urlsafe_b64encode(token.encode()).decode()
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def _cursor(self, request: Request, queryset: QuerySet) -> tuple[bool, list | None]:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return False, None
        try:
            token = json.loads(urlsafe_b64decode(encoded.encode("ascii")))
            values = token["v"]
            if not isinstance(values, list) or len(values) != len(self.keys):
                raise ValueError("one value per sort key")
            typed = [_typed(queryset, key.field, value) for key, value in zip(self.keys, values, strict=True)]
            return bool(token["r"]), typed
        except (ValueError, TypeError, KeyError, DjangoValidationError):
            raise NotFound(self.invalid_cursor_message) from None


def _typed(queryset: QuerySet, field: str, value: object) -> object:
    """A cursor's value as its column's type: a tampered cursor is refused, never sent to SQL."""
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ValueError("not a column value")
    try:
        model_field = queryset.model._meta.pk if field == "pk" else queryset.model._meta.get_field(field)
    except FieldDoesNotExist:
        return str(value)  # an annotation (a rollup's key): text
    typed = model_field.to_python(value)
    if isinstance(typed, datetime) and utc_offset_error(typed):
        raise ValueError("an offset the database cannot store")
    return typed


def _after(keys: Sequence[SortKey], values: Sequence[object]) -> Q:
    """Rows after ``values`` in the lexicographic order of ``keys``."""
    condition, same_so_far = _NOTHING, Q()
    for key, value in zip(keys, values, strict=True):
        condition |= same_so_far & key.after(value)
        same_so_far &= key.equal(value)
    return condition
