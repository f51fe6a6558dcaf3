"""Input serializers: strict at the edge, so a typo in a field name is an error, not a no-op.

Strict about JSON types too: DRF would read ``"quantity": "12"`` as 12, ``"note": 5`` as "5" and
``"is_active": "yes"`` as true. The OpenAPI document says what each field takes, and a value of
another type answers 400 instead of being guessed at. Decimals travel as strings in the plain
notation the document's pattern gives, or as whole numbers (a JSON fraction is binary, inexact);
dates and times as RFC 3339 (times with an offset).
"""

from __future__ import annotations

import re
from datetime import datetime

from rest_framework import serializers

from core.timestamps import utc_offset_error

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
# RFC 3339, with the UTC offsets PostgreSQL stores (up to ±15:59; RFC 3339 would allow ±23:59).
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-](0\d|1[0-5]):[0-5]\d)$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The notation a decimal input is read in: digits as the field allows, a sign if it may be negative."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole = (field.max_digits - field.decimal_places) if field.max_digits is not None else None
    whole_digits = r"\d+" if whole is None else rf"\d{{1,{max(whole, 1)}}}"
    fraction = rf"(\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
    return rf"^{sign}{whole_digits}{fraction}$"


def _matches(pattern: str, value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def _whole(value: object) -> bool:
    """JSON has one number type: 3.0 is the whole number 3 (JSON Schema counts it as an integer)."""
    return type(value) is int or (type(value) is float and value.is_integer())


def datetime_error(value: object) -> str | None:
    """Why ``value`` is no RFC 3339 date-time the database can store, or None."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    # An offset beyond ±15:59 or in seconds reads as a date-time: its offset is what to fix.
    if parsed is not None and (problem := utc_offset_error(parsed)):
        return problem
    return None if _matches(DATETIME_PATTERN, value) else "Expected a date-time with an offset (RFC 3339)."


def type_error(field: serializers.Field, value: object) -> str | None:
    """Why ``value`` is not of the JSON type ``field`` documents, or None (nested values included)."""
    if value is None:
        return None  # the field says itself whether null is allowed
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Expected true or false."
    if isinstance(field, serializers.IntegerField):
        return None if _whole(value) else "Expected a whole number."
    if isinstance(field, serializers.FloatField):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "Expected a number."
    if isinstance(field, serializers.DecimalField):
        # A whole number is exact in JSON; a fraction is not (0.1 is a binary approximation): text.
        if _whole(value) or _matches(decimal_pattern(field), value):
            return None
        return 'Expected a decimal as a string ("12.50") or a whole number.'
    if isinstance(field, serializers.DateTimeField):
        return datetime_error(value)
    if isinstance(field, serializers.DateField):
        return None if _matches(DATE_PATTERN, value) else "Expected a date as YYYY-MM-DD."
    if isinstance(field, serializers.UUIDField):
        return None if _matches(UUID_PATTERN, value) else "Expected a UUID (8-4-4-4-12 hexadecimal digits)."
    if isinstance(field, serializers.ListField | serializers.MultipleChoiceField | serializers.ListSerializer):
        if not isinstance(value, list):
            return "Expected a list."
        child = getattr(field, "child", None)
        return next((error for item in value if child and (error := type_error(child, item))), None)
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return None if isinstance(value, str) else "Expected a string."
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return "Expected an object."
        return next((error for item in value.values() if (error := type_error(field.child, item))), None)
    if isinstance(field, serializers.Serializer):
        if not isinstance(value, dict):
            return "Expected an object."
        nested = field.fields
        return next(
            (error for name, item in value.items() if name in nested and (error := type_error(nested[name], item))),
            None,
        )
    return None  # JSONField and the like take any JSON


class InputSerializer(serializers.Serializer):
    """Refuses fields it does not declare (DRF ignores them by default) and values of another type."""

    def to_internal_value(self, data: object) -> dict:
        if isinstance(data, dict):
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - set(writable))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: ["Unknown field. Allowed fields: " + ", ".join(sorted(self.fields)) + "."]
                        for name in unknown
                    }
                )
            wrong = {name: [error] for name in data if (error := type_error(writable[name], data[name]))}
            if wrong:
                # Every problem in one answer: the other fields are checked as usual, the wrong ones named.
                try:
                    super().to_internal_value({name: value for name, value in data.items() if name not in wrong})
                except serializers.ValidationError as invalid:
                    detail = invalid.detail if isinstance(invalid.detail, dict) else {}
                    raise serializers.ValidationError({**detail, **wrong}) from None
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """The date-time of every input: refuses a UTC offset the database cannot store."""

    def enforce_timezone(self, value: datetime) -> datetime:
        # DRF passes every parsed input through here with its offset still on, then converts it.
        if problem := utc_offset_error(value):
            raise serializers.ValidationError(problem, code="invalid")
        return super().enforce_timezone(value)
