"""PgBouncer in transaction pooling, started by a test in a folder of its own on a free port.

Two halves. ``pgbouncer_running`` starts Debian's ``pgbouncer`` in front of a PostgreSQL server and
stops it on leaving, failed test or not. The ``--through-pgbouncer HOST:PORT`` option (registered
here for the whole suite) makes a run's database connections, its own and its Celery worker's, go
through such a PgBouncer once pytest-django has created the test database directly: the test of
tests/scaling/test_pgbouncer.py reruns a subset of the suite that way in a child pytest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg.rows import dict_row


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_wait(port: int, what: str, process: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    """Return once something accepts on 127.0.0.1:``port``; fail with ``log`` if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on {port} within {timeout}s:\n{log.read_text()}")


@dataclass
class Bouncer:
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def show(self, what: str) -> list[dict[str, object]]:
        """``SHOW <what>`` on PgBouncer's admin console, which speaks only the simple query protocol:
        psycopg's client-side cursor sends it that way."""
        with (
            psycopg.connect(self.url("pgbouncer"), autocommit=True, cursor_factory=psycopg.ClientCursor) as admin,
            admin.cursor(row_factory=dict_row) as cursor,
        ):
            cursor.execute(f"SHOW {what}")
            return cursor.fetchall()


@contextlib.contextmanager
def pgbouncer_running(server_host: str, server_port: int | str, user: str, *, pool_size: int = 6) -> Iterator[Bouncer]:
    """PgBouncer in transaction pooling on a free port, any database of ``server_host:server_port``
    (a host or a unix-socket folder), ``user`` trusted as the server trusts it.

    ``pool_size`` server connections per database, fewer than a run's clients (the test process,
    its threads, the worker), so clients really do share them transaction by transaction: state a
    session kept would show up in another client's transaction.
    """
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        pytest.fail("pgbouncer is not installed: `make services-tools` installs Debian's package")
    folder = Path(tempfile.mkdtemp(prefix="tripline-pgbouncer-"))
    port = free_port()
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    lines = [
        "[databases]",
        f"* = host={server_host or '127.0.0.1'} port={server_port or 5432}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {folder / 'userlist.txt'}",
        f"admin_users = {user}",
        "pool_mode = transaction",
        f"default_pool_size = {pool_size}",
        "max_client_conn = 500",
        # A test database is dropped and created again between runs: idle server connections to it
        # must not hold the DROP up for long.
        "server_idle_timeout = 5",
        # psycopg sends none of these, but libpq-based tools may: PgBouncer refuses unknown ones.
        "ignore_startup_parameters = extra_float_digits,options",
    ]
    if os.geteuid() == 0:
        lines.append("user = nobody")  # PgBouncer refuses to run as root; it drops to this user
        folder.chmod(0o755)
        for path in folder.iterdir():
            path.chmod(0o644)
    (folder / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
    log = folder / "pgbouncer.log"
    with open(log, "w") as out:
        process = subprocess.Popen([binary, str(folder / "pgbouncer.ini")], stdout=out, stderr=subprocess.STDOUT)
    try:
        port_wait(port, "PgBouncer", process, log)
        yield Bouncer(port=port, user=user)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def url_with(url: str, *, host: str | None = None, port: int | None = None, database: str | None = None) -> str:
    """``url`` with another host and port and/or database name, everything else as it was."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if host is not None:
        credentials = netloc.rpartition("@")[0]
        netloc = (credentials + "@" if credentials else "") + f"{host}:{port}"
        # A unix-socket folder named in the query would win over the host: drop it.
        query = "&".join(item for item in parts.query.split("&") if item and not item.startswith("host="))
        parts = parts._replace(query=query)
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database if database else parts.path))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--through-pgbouncer",
        metavar="HOST:PORT",
        default="",
        help="once the test database exists, connect to it through the PgBouncer at HOST:PORT",
    )


@pytest.fixture(scope="session", autouse=True)
def _through_pgbouncer(request: pytest.FixtureRequest) -> Iterator[None]:
    address = request.config.getoption("--through-pgbouncer")
    if not address:
        yield
        return
    request.getfixturevalue("django_db_setup")  # created directly: CREATE DATABASE needs no pooler
    from django.conf import settings
    from django.db import connections

    host, _, port = address.rpartition(":")
    direct = {key: connections["default"].settings_dict[key] for key in ("HOST", "PORT")}
    database_url = settings.DATABASE_URL
    connections["default"].close()
    connections["default"].settings_dict.update(HOST=host, PORT=port)
    # The worker's URL is built from this one (tests/support/celery_worker.py): through PgBouncer too.
    settings.DATABASE_URL = url_with(database_url, host=host, port=int(port))
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"].settings_dict.update(direct)
        settings.DATABASE_URL = database_url
