"""Getting a batch into PostgreSQL fast: temporary staging tables and one COPY per batch."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence

from django.db import models


def staging_table_create(cursor, name: str, columns: Mapping[str, str]) -> None:  # noqa: ANN001 - a DB cursor
    """A temporary table that ends with the transaction.

    ON COMMIT DROP alone would let it linger inside an outer transaction (a test, a seed, two
    batches in one request), so an earlier one is dropped first.
    """
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
    definition = ", ".join(f"{column} {sql_type}" for column, sql_type in columns.items())
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition}) ON COMMIT DROP")


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:  # noqa: ANN001
    """COPY ``rows`` into ``table`` as one CSV text.

    The csv module writes the whole batch in C, where psycopg's write_row would cost Python calls
    per value. None becomes an empty unquoted field, which COPY reads as NULL; csv quotes text
    that holds commas, quotes or line breaks.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def copy_rows_binary(cursor, table: str, types: Mapping[str, str], rows: Iterable[Sequence]) -> None:  # noqa: ANN001
    """COPY ``rows`` into ``table`` (``types``: column -> SQL type, in row order) in binary format.

    psycopg packs each value in C by its column's type: for rows of numbers several times faster
    than writing them as CSV text, which formats every float, and exact by construction.
    """
    with cursor.copy(f"COPY {table} ({', '.join(types)}) FROM STDIN (FORMAT binary)") as copy:
        copy.set_types([sql_type.split("(")[0].strip() for sql_type in types.values()])
        for row in rows:
            copy.write_row(row)


def bigint_array(ids: Iterable[int]) -> str:
    """Ids as one PostgreSQL array literal, for a ``%s::bigint[]`` parameter.

    psycopg adapts a list element by element in Python; a chunk's 5,000 ids go to several
    statements, and one joined string costs a fraction of that.
    """
    return "{" + ",".join(map(str, map(int, ids))) + "}"


class _Null:
    """Written unquoted as ``\\N`` by a QUOTE_NONNUMERIC writer (it passes for a number)."""

    __slots__ = ()

    def __index__(self) -> int:
        return 0

    def __str__(self) -> str:
        return "\\N"


_NULL = _Null()


class JsonText(str):
    """A value already serialized as JSON: ``copy_records`` writes it as it is."""


def copy_records(cursor, model: type[models.Model], rows: list[dict]) -> None:  # noqa: ANN001
    """Insert new rows of a model (dicts by column name; a missing column is NULL) with one COPY.

    One CSV text written by the csv module in C, as in ``copy_rows``, but with every non-number
    quoted, so an empty string stays an empty string; None goes as an unquoted ``\\N``, the
    NULL marker. JSON columns take Python objects (None is JSON null) or ``JsonText``. The
    auto-increment key is left to the database.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    columns = [f.column for f in fields]
    json_at = [index for index, f in enumerate(fields) if isinstance(f, models.JSONField)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    for row in rows:
        values = [_NULL if (value := row.get(column)) is None else value for column in columns]
        for index in json_at:
            value = values[index]
            if value is _NULL:
                values[index] = "null"
            elif not isinstance(value, JsonText):
                values[index] = json.dumps(value)
        writer.writerow(values)
    statement = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN (FORMAT csv, NULL '\\N')"
    with cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())
