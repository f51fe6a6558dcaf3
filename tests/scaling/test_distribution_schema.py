"""Is the schema ready to distribute by tenant (Citus-style)? (docs/scaling.md, Distribution by tenant)

Read from PostgreSQL's catalog of the migrated test database: every table of Tripline's models is
either tenant-owned (a non-null ``tenant_id``) or one of the named reference tables; on tenant-owned
tables the primary key, every unique constraint and index and every foreign key to another
tenant-owned table include ``tenant_id`` (so rows that join live on one node), and no trigger is
needed. What falls short today is listed, table by table, in docs/scaling.md's gap table with the
migration each needs; this test holds the table to the catalog both ways: a new gap fails until it
is listed, and a fixed one fails until it is struck off.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

# Shared by every tenant (Citus reference tables, copied to every node) or kept on the coordinator.
REFERENCE_TABLES = {
    "tenants_tenant": "the distribution key's own table: a reference table (few rows, read by every request)",
    "auth_user": "people, who may belong to several tenants",
    "auth_group": "partner organizations' groups (guardian's grants hang on them)",
    "auth_group_permissions": "Django's permission sets",
    "auth_permission": "Django's permission catalogue",
    "auth_user_groups": "people's groups",
    "auth_user_user_permissions": "people's permissions",
    "django_content_type": "Django's model catalogue",
    "django_session": "staff sessions",
    "django_admin_log": "the admin's log",
    "guardian_groupobjectpermission": "guardian's generic grants (unused by the large tables)",
    "guardian_userobjectpermission": "guardian's generic grants",
    "axes_accessattempt": "login lockouts, by address and username",
    "axes_accessattemptexpiration": "login lockouts",
    "axes_accessfailurelog": "login lockouts",
    "axes_accesslog": "login lockouts",
}
DOC = Path(settings.BASE_DIR) / "docs" / "scaling.md"

_CATALOG = """
WITH tables AS (
    SELECT c.oid, c.relname FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname = ANY(%(tables)s)
), tenant AS (
    SELECT t.oid, a.attnum, a.attnotnull FROM tables t
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
)
SELECT t.relname, 'table', '', tenant.attnotnull IS TRUE AND tenant.attnum IS NOT NULL
FROM tables t LEFT JOIN tenant ON tenant.oid = t.oid
UNION ALL
SELECT t.relname, CASE con.contype WHEN 'p' THEN 'pk' WHEN 'u' THEN 'unique' ELSE 'fk' END,
       CASE WHEN con.contype = 'f' THEN con.confrelid::regclass::text ELSE '' END,
       tenant.attnum = ANY(con.conkey) AND (con.contype <> 'f' OR EXISTS (
           SELECT 1 FROM pg_attribute fa WHERE fa.attrelid = con.confrelid AND fa.attname = 'tenant_id'
           AND fa.attnum = ANY(con.confkey)))
FROM tables t JOIN tenant ON tenant.oid = t.oid
JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u', 'f')
UNION ALL
SELECT t.relname, 'unique index', '', tenant.attnum = ANY(i.indkey::int2[])
FROM tables t JOIN tenant ON tenant.oid = t.oid
JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique AND NOT i.indisprimary
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
UNION ALL
SELECT t.relname, 'trigger', '', false
FROM tables t JOIN tenant ON tenant.oid = t.oid
JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
-- The suite's own: tests/support/event_contract.py copies outbox rows to check them.
WHERE tg.tgname NOT LIKE 'event\\_contract%%'
"""


def _gaps() -> dict[str, str]:
    """Each table that falls short, and how: e.g. ``pk, unique x2, fk x3``."""
    tables = sorted({model._meta.db_table for model in apps.get_models(include_auto_created=True)})
    with connection.cursor() as cursor:
        cursor.execute(_CATALOG, {"tables": tables})
        rows = cursor.fetchall()
    owned = {table for table, kind, _, ok in rows if kind == "table" and ok}
    found: dict[str, list[str]] = defaultdict(list)
    for table, kind, target, ok in rows:
        if kind == "table":
            if not ok and table not in REFERENCE_TABLES:
                found[table].append("no tenant_id")
        elif kind == "fk" and target not in owned:
            continue  # to a reference table: allowed from a distributed one
        elif not ok:
            found[table].append("unique" if kind == "unique index" else kind)
    order = ["no tenant_id", "pk", "unique", "fk", "trigger"]
    return {
        table: ", ".join(
            f"{kind} x{kinds.count(kind)}" if kinds.count(kind) > 1 else kind for kind in order if kind in kinds
        )
        for table, kinds in sorted(found.items())
    }


def _listed() -> dict[str, str]:
    """The gap table of docs/scaling.md: ``| `table` | gaps | migration |``."""
    section = DOC.read_text().split("### Gaps", 1)[1].split("\n## ", 1)[0]
    return {
        match["table"]: match["gaps"].strip()
        for match in re.finditer(r"^\| `(?P<table>\w+)` \| (?P<gaps>[^|]+) \|", section, re.MULTILINE)
    }


@pytest.mark.django_db
def test_every_table_is_tenant_owned_or_a_named_reference_table() -> None:
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    assert set(REFERENCE_TABLES) <= tables, set(REFERENCE_TABLES) - tables  # the list names real tables
    assert len(REFERENCE_TABLES) < len(tables) / 3  # shared tables are few


@pytest.mark.django_db
def test_the_gaps_to_distribution_are_exactly_those_the_doc_lists() -> None:
    found, listed = _gaps(), _listed()
    missing = {table: gaps for table, gaps in found.items() if listed.get(table) != gaps}
    fixed = sorted(set(listed) - set(found))
    assert not missing, f"List these in docs/scaling.md's gap table (or fix them): {missing}"
    assert not fixed, f"No longer gaps: strike them off docs/scaling.md's gap table: {fixed}"
