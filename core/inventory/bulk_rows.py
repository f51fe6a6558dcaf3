"""Validation of bulk rows, column by column, without a serializer per row.

A batch arrives as a list of dicts (parsed from JSON, NDJSON or CSV, so values may be strings).
Each column has one parse function; the whole batch is checked in one pass and every problem is
reported with its row number (1-based, data rows only) and field, up to ``MAX_REPORTED_ERRORS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

MAX_REPORTED_ERRORS = 1000


class CellError(ValueError):
    """A value that does not parse; the message is shown to the client as is."""


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[object], object]
    required: bool = True
    default: object = None


@dataclass
class RowErrors:
    """Problems of a batch, in row order; ``total`` counts beyond what is kept."""

    items: list[dict] = field(default_factory=list)
    total: int = 0

    def add(self, row: int, field_name: str, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_REPORTED_ERRORS:
            self.items.append({"row": row, "field": field_name, "message": message})

    def __bool__(self) -> bool:
        return self.total > 0

    def sorted(self) -> list[dict]:
        return sorted(self.items, key=lambda item: (item["row"], item["field"]))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_columns(rows: list[dict], columns: Iterable[Column], errors: RowErrors) -> dict[str, list]:
    """Parse every row into column lists. Unknown keys, missing and malformed values go to ``errors``."""
    columns = list(columns)
    known = {column.name for column in columns}
    out: dict[str, list] = {column.name: [None] * len(rows) for column in columns}
    for index, row in enumerate(rows):
        number = index + 1
        if not isinstance(row, dict):
            errors.add(number, "", "Each row must be an object of field names to values.")
            continue
        for key in row.keys() - known:
            errors.add(number, str(key), f"Unknown field. Allowed fields: {', '.join(sorted(known))}.")
        for column in columns:
            value = row.get(column.name)
            if _blank(value):
                if column.required:
                    errors.add(number, column.name, "This field is required.")
                out[column.name][index] = column.default
                continue
            try:
                out[column.name][index] = column.parse(value)
            except CellError as exc:
                errors.add(number, column.name, str(exc))
    return out


# --- Cell parsers ------------------------------------------------------------------------------


def text(max_length: int) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str | int):
            raise CellError("Expected text.")
        value = str(value).strip()
        if len(value) > max_length:
            raise CellError(f"At most {max_length} characters.")
        if "\x00" in value:
            raise CellError("NUL characters are not allowed.")
        return value

    return parse


def choice(options: Iterable[str]) -> Callable[[object], str]:
    allowed = frozenset(options)

    def parse(value: object) -> str:
        if not isinstance(value, str) or value.strip() not in allowed:
            raise CellError(f"Expected one of: {', '.join(sorted(allowed))}.")
        return value.strip()

    return parse


def integer(value: object) -> int:
    if isinstance(value, bool):
        raise CellError("Expected a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise CellError("Expected a whole number.")


def decimal(max_digits: int = 12, places: int = 4) -> Callable[[object], Decimal]:
    limit = Decimal(10) ** (max_digits - places)

    def parse(value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise CellError("Expected a decimal number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise CellError("Expected a decimal number.") from None
        if not number.is_finite() or abs(number) >= limit:
            raise CellError(f"Expected a decimal number below {limit}.")
        return number.quantize(Decimal(1).scaleb(-places))

    return parse


def aware_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise CellError("Expected an ISO 8601 date-time with a UTC offset, e.g. 2026-11-24T10:00:00Z.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CellError("Expected an ISO 8601 date-time with a UTC offset, e.g. 2026-11-24T10:00:00Z.") from None
    if parsed.tzinfo is None:
        raise CellError("The date-time needs a UTC offset (Z or +hh:mm); local times are ambiguous.")
    if parsed > timezone.now() + timedelta(days=1):
        raise CellError("The date-time is in the future.")
    return parsed


def iso_date(value: object) -> date:
    if not isinstance(value, str):
        raise CellError("Expected a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CellError("Expected a date as YYYY-MM-DD.") from None


def boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "false", "0", "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    raise CellError("Expected true or false.")


def non_negative(parse: Callable[[object], object]) -> Callable[[object], object]:
    def checked(value: object) -> object:
        number = parse(value)
        if number < 0:
            raise CellError("Must not be negative.")
        return number

    return checked


def between(parse: Callable[[object], object], low: float, high: float) -> Callable[[object], object]:
    def checked(value: object) -> object:
        number = parse(value)
        if not low <= number <= high:
            raise CellError(f"Must be between {low} and {high}.")
        return number

    return checked
