"""A PostgreSQL cluster of the test's own on a free port, so a test may stop and restart it
without touching the machine's server. Trust auth on loopback; data kept across restarts."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def pg_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is not installed"
    return found[-1]


def as_postgres(command: list[str]) -> None:
    """Run a PostgreSQL tool, as the `postgres` user when we are root (it refuses root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")


class PostgresServer:
    """`data_dir` must be reachable by the `postgres` user (pytest's own temp folders are
    not, when run as root): `PostgresServer.in_tmp(port)` makes one under /tmp."""

    @classmethod
    def in_tmp(cls, port: int) -> PostgresServer:
        return cls(port, Path(tempfile.mkdtemp(prefix="tutor-pg-", dir="/tmp")) / "data")

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self.data_dir = data_dir
        self.log = data_dir.parent / f"postgres-{port}.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> PostgresServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            shutil.chown(self.data_dir.parent, "postgres", "postgres")
        command = [pg_binary("initdb"), "-D", str(self.data_dir), "-U", "postgres"]
        as_postgres([*command, "--auth=trust", "-E", "UTF8"])
        return self

    def start(self) -> PostgresServer:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        command = [pg_binary("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log)]
        as_postgres([*command, "-o", options, "-w", "start"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url, connect_timeout=1):
                    return self
            except psycopg.OperationalError:
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL on {self.port} did not start")

    def stop(self) -> None:
        command = [pg_binary("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
        as_postgres(command)

    def remove(self) -> None:
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)
