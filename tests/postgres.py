"""A real PostgreSQL for the tests: Debian's server binaries, a temporary data folder, a free loopback port.
PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` system user."""

from __future__ import annotations

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile

import pytest

INSTALL_HINT = (
    "PostgreSQL server binaries not found (looked for /usr/lib/postgresql/*/bin/initdb): install them with "
    "`apt-get update && apt-get install -y postgresql` (make setup does this)"
)


def bin_dir() -> pathlib.Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb; fails the test with how to install."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail(INSTALL_HINT)
    return pathlib.Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """initdb, start, stop and restart of one PostgreSQL cluster with trust authentication on 127.0.0.1."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.port = free_port()
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="laughter-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else ""
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "laughter", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://laughter@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return f"postgresql://laughter@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url_of(name)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
