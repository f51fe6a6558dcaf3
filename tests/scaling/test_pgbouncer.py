"""Tripline through PgBouncer in transaction pooling (docs/scaling.md, PgBouncer).

A child pytest reruns a subset of the suite (bulk ingestion, the engine's tasks on a real worker,
50 approvals and sales at once, webhook deliveries) with every connection, the tests', their
threads' and the worker's, going through a PgBouncer this test starts with fewer server
connections than clients: transactions of different clients share server connections, so a lock,
a setting or a cursor kept past a transaction would show up as a failure there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.support.pgbouncer import pgbouncer_running, url_with

pytestmark = pytest.mark.slow

SUBSET = [
    "tests/inventory/test_bulk_ingestion.py",
    "tests/workers/test_evaluation_tasks.py",
    "tests/transfers/test_concurrency.py",
    "tests/concurrency/test_pushes_during_evaluation.py",
    "tests/workers/test_webhook_tasks.py",
]
# A full demo seed beside pushes: 40 s, and nothing of the pooler it would show that the others do not.
LEFT_OUT = "test_a_demo_seed_of_another_tenant_finishes_while_pushes_and_evaluations_run"
CHILD_TIMEOUT_SECONDS = 900


def test_the_subset_passes_through_pgbouncer_in_transaction_pooling() -> None:
    direct = settings.DATABASES["default"]
    # The child's own test database, beside this run's: pytest-django names it test_<name>.
    child_database = urlsplit(settings.DATABASE_URL).path.lstrip("/") + "_pooled"
    with pgbouncer_running(direct["HOST"], direct["PORT"], direct["USER"] or "postgres") as bouncer:
        env = dict(
            os.environ,
            DATABASE_URL=url_with(settings.DATABASE_URL, database=child_database),
            DATABASE_POOLER="transaction",
            REDIS_URL=settings.REDIS_URL,
        )
        command = [sys.executable, "-m", "pytest", "-p", "tests.support.pgbouncer", "-p", "no:cacheprovider"]
        command += [
            "--through-pgbouncer",
            f"127.0.0.1:{bouncer.port}",
            "--create-db",
            "-q",
            "-x",
            "--durations=12",
            *SUBSET,
        ]
        child = subprocess.run(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_SECONDS,
            check=False,
        )
        assert child.returncode == 0, child.stdout[-8000:] + child.stderr[-2000:]
        assert re.search(r"\d+ passed", child.stdout), child.stdout[-2000:]
        stats = {row["database"]: row for row in bouncer.show("STATS")}
    # The tests' transactions did go through this PgBouncer, not straight to PostgreSQL.
    assert int(stats[f"test_{child_database}"]["total_xact_count"]) > 1000, stats


# What would outlive a transaction on a pooled connection, as it would be written in the code.
_SESSION_STATE = {
    "a session-level advisory lock (use pg_advisory_xact_lock)": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\("),
    "a SET that is not LOCAL (use SET LOCAL or set_config(..., true))": re.compile(
        r"""execute\(\s*f?["']{1,3}\s*SET\s+(?!LOCAL\b)""", re.IGNORECASE
    ),
    "a session set_config (pass is_local = true)": re.compile(r"set_config\([^)]*,\s*false\s*\)", re.IGNORECASE),
    "a temporary table kept past its transaction (add ON COMMIT DROP)": re.compile(
        r"CREATE\s+TEMP(ORARY)?\s+TABLE(?![^\"']*ON\s+COMMIT\s+DROP)", re.IGNORECASE
    ),
    "LISTEN, PREPARE or a cursor WITH HOLD": re.compile(r"[\"']\s*(LISTEN|PREPARE)\s+\w+|WITH\s+HOLD", re.IGNORECASE),
}
# The bench is left out: its seeding sets session options on a connection of its own, straight to
# PostgreSQL (docs/scaling.md says so), and it never runs in a deployment.
_CODE = ("core", "api", "tenants", "workers", "console")


def test_the_code_keeps_no_session_state_a_pooler_would_leak() -> None:
    root = Path(settings.BASE_DIR)
    found = []
    for package in _CODE:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # run once, by `migrate`, on a direct connection
            text = path.read_text()
            found += [
                f"{path.relative_to(root)}:{text.count(chr(10), 0, match.start()) + 1}: {what}"
                for what, pattern in _SESSION_STATE.items()
                for match in pattern.finditer(text)
            ]
    assert not found, "\n".join(found)
