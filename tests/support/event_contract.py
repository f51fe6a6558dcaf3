"""The event contract: every outbox event the suite writes is held to its registered payload schema.

Once pytest-django has the test database, a trigger on the outbox table copies every inserted row
(by ``outbox_emit``'s COPY, by set-based INSERT ... SELECT, by the ORM; from this process or a
Celery worker's) into a log table that is no model, so Django's flush leaves it alone, tagged with
the test running at the time. Rows a test wrote in the transaction its end rolls back are read in
that test's teardown, before the rollback; committed rows are read again when the database goes.
Any drift fails the session, with the event type, the path in the payload and the test.

A test marked ``outbox_drift_expected`` writes a drifted event on purpose: its teardown fails
unless the contract caught it, and what it caught is not held against the session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.db import DatabaseError, connection
from django.db.transaction import TransactionManagementError
from pytest_django.plugin import blocking_manager_key

from core.webhooks.events import EVENT_TYPES, payload_violations
from core.webhooks.models import OutboxEvent

MARKER = "outbox_drift_expected"
_LOG, _CURRENT, _FUNCTION = "event_contract_log", "event_contract_test", "event_contract_copy"


def _install_sql() -> str:
    outbox = OutboxEvent._meta.db_table
    return f"""
        CREATE TABLE IF NOT EXISTS {_LOG} (
            id bigserial PRIMARY KEY, event_id text NOT NULL, type text NOT NULL, data jsonb,
            partner_payloads jsonb, test text NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS {_LOG}_test ON {_LOG} (test);
        CREATE TABLE IF NOT EXISTS {_CURRENT} (test text NOT NULL);
        TRUNCATE {_LOG}, {_CURRENT};
        INSERT INTO {_CURRENT} VALUES ('');
        CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {_LOG} (event_id, type, data, partner_payloads, test)
            SELECT n.event_id, n.type, n.data, n.partner_payloads, COALESCE((SELECT test FROM {_CURRENT} LIMIT 1), '')
            FROM new_rows n;
            RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS {_FUNCTION} ON {outbox};
        CREATE TRIGGER {_FUNCTION} AFTER INSERT ON {outbox} REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}();
    """


@dataclass(frozen=True)
class Violation:
    test: str
    event_id: str
    type: str
    problem: str


class EventContract:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.installed = False
        self.current = ""
        self.side = None  # an autocommit connection of its own: workers must see which test runs
        self.seen: set[str] = set()
        self.violations: list[Violation] = []
        self.checked = 0
        self.types: set[str] = set()

    # -- the database side ------------------------------------------------------------------------
    def install(self) -> None:
        with self.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
            cursor.execute(_install_sql())
        self.side = connection.get_new_connection(connection.get_connection_params())
        self.side.autocommit = True
        self.installed = True
        self.test_set(self.current)

    def test_set(self, nodeid: str) -> None:
        self.current = nodeid
        if self.side is not None:
            self.side.execute(f"UPDATE {_CURRENT} SET test = %s", [nodeid])

    def read(self, *, test: str | None) -> list[Violation]:
        """Check the logged rows not checked yet (of ``test``, or all); answer the violations found.
        Read through Django's connection, which sees what the running test has not committed."""
        if not self.installed or connection.connection is None:
            return []
        sql = f"SELECT event_id, type, data, partner_payloads, test FROM {_LOG}"
        try:
            with self.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
                cursor.execute(
                    sql + (" WHERE test = %s" if test is not None else ""), [test] if test is not None else []
                )
                rows = cursor.fetchall()
        except (DatabaseError, TransactionManagementError):
            return []  # the test broke its transaction; what it wrote is gone with it
        found = []
        for event_id, type_name, data, partner_payloads, row_test in rows:
            if event_id in self.seen:
                continue
            self.seen.add(event_id)
            self.checked += 1
            self.types.add(type_name)
            # Django leaves jsonb as text for its JSONField to decode.
            data, partner_payloads = (json.loads(v) if isinstance(v, str) else v for v in (data, partner_payloads))
            found += [
                Violation(row_test, event_id, type_name, problem)
                for problem in payload_violations(type_name, data, partner_payloads)
            ]
        self.violations += found
        return found

    def unwritten(self) -> set[str]:
        """Declared types no test of this run wrote: their schemas went unchecked."""
        return set(EVENT_TYPES) - self.types if self.checked else set()

    def close(self) -> None:
        self.read(test=None)
        if self.side is not None:
            self.side.close()
            self.side = None

    # -- pytest hooks -----------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest):
        result = yield
        if fixturedef.argname == "django_db_setup" and not self.installed:
            self.install()
            # Runs before the database is torn down (finalizers run last added, first run).
            fixturedef.addfinalizer(self.close)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        self.test_set(item.nodeid)
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None):
        found = self.read(test=item.nodeid)  # before the fixtures roll the test's transaction back
        result = yield
        if item.get_closest_marker(MARKER) is not None:
            self.violations = [violation for violation in self.violations if violation not in found]
            if not found:
                raise AssertionError("The event contract did not catch the drifted payload this test wrote.")
        return result

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.violations:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.installed:
            return
        if not self.violations:
            unwritten = self.unwritten()
            terminalreporter.write_line(
                f"event contract: {self.checked} outbox events checked against their schemas, none drifts"
                + (f"; no test wrote {', '.join(sorted(unwritten))}" if unwritten else "")
            )
            return
        terminalreporter.section("event contract: outbox events that drift from their registered schema", red=True)
        for violation in self.violations:
            terminalreporter.write_line(
                f"{violation.type} {violation.event_id}: {violation.problem}  [{violation.test or 'outside a test'}]"
            )
        terminalreporter.write_line(
            f"{len(self.violations)} problem(s) in {self.checked} events: fix the payload or the event type's schema."
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: writes a drifted outbox event that the event contract must catch")
    config.pluginmanager.register(EventContract(config), "event_contract")
