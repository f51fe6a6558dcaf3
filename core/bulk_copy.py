"""Getting a batch into PostgreSQL fast: temporary staging tables and one COPY per batch."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from django.db import connection, models
from psycopg.types.json import Jsonb


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


def bigints_read(cursor, select: str, params: Sequence, columns: Sequence[str]) -> np.ndarray:  # noqa: ANN001
    """The rows of ``select`` (its bigint ``columns``, none NULL) as a (rows, columns) int64 array, in no
    particular order (the same for every column).

    Each column comes back as one bytea of 8-byte big-endian values (``int8send``, aggregated), which
    NumPy reads at once; fetching rows, or a COPY's row messages, makes Python objects of every value
    or message (millions for the daily facts of a few thousand positions over a year).
    """
    aggregates = ", ".join(f"COALESCE(string_agg(int8send(q.{name}), ''::bytea), ''::bytea)" for name in columns)
    cursor.execute(f"SELECT {aggregates} FROM ({select}) q", params)  # noqa: S608 - the caller's SQL and names
    values = [np.frombuffer(bytes(column), dtype=">i8").astype(np.int64) for column in cursor.fetchone()]
    return np.stack(values, axis=1) if values else np.zeros((0, 0), dtype=np.int64)


def bigint_array(ids: Iterable[int]) -> str:
    """Ids as one PostgreSQL array literal, for a ``%s::bigint[]`` parameter.

    psycopg adapts a list element by element in Python; a chunk's 5,000 ids go to several
    statements, and one joined string costs a fraction of that.
    """
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def text_array(values: Iterable[str]) -> str:
    """Texts as one PostgreSQL array literal, for a ``%s::text[]`` parameter (see ``bigint_array``):
    each element double-quoted, its backslashes and double quotes escaped."""
    return "{" + ",".join(['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values]) + "}"


class JsonText(str):
    """A value already serialized as JSON: ``copy_records`` writes it as it is."""


def _as_is(text: str) -> str:
    return text


def copy_records(cursor, model: type[models.Model], rows: list[dict]) -> None:  # noqa: ANN001
    """Insert new rows of a model (dicts by column name; a missing column is NULL) with one COPY.

    Binary format, by each column's type: psycopg packs UUIDs, timestamps and numbers in C and
    text goes as it is, where CSV made every value a string and doubled every quote in the JSON.
    JSON columns take Python objects (None is JSON null) or ``JsonText``; UUID columns take UUIDs
    or their text. The auto-increment key is left to the database.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    columns = [f.column for f in fields]
    types = [f.db_type(connection) for f in fields]
    json_at = [index for index, sql_type in enumerate(types) if sql_type == "jsonb"]
    uuid_at = [index for index, sql_type in enumerate(types) if sql_type == "uuid"]

    def values_of(row: dict) -> list:
        values = [row.get(column) for column in columns]
        for index in json_at:
            value = values[index]
            values[index] = Jsonb(value, dumps=_as_is) if isinstance(value, JsonText) else Jsonb(value)
        for index in uuid_at:
            value = values[index]
            if value is not None and not isinstance(value, uuid.UUID):
                values[index] = uuid.UUID(str(value))
        return values

    copy_rows_binary(cursor, model._meta.db_table, dict(zip(columns, types, strict=True)), map(values_of, rows))
