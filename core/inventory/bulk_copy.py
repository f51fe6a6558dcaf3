"""Getting a batch into PostgreSQL fast: temporary staging tables and one COPY per batch."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from django.db import models
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


def copy_records(cursor, model: type[models.Model], rows: list[dict]) -> None:  # noqa: ANN001
    """Insert new rows of a model (dicts by column name; a missing column is NULL) with one COPY.

    psycopg adapts each value, so None and '' stay apart and JSON columns take Python objects.
    The model's auto-increment key is left to the database.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    columns = ", ".join(f.column for f in fields)
    json_columns = {f.column for f in fields if isinstance(f, models.JSONField)}
    with cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [Jsonb(row.get(f.column)) if f.column in json_columns else row.get(f.column) for f in fields]
            )
