"""A throw-away PostgreSQL cluster for the tests, made with Debian's own binaries
(`initdb`, `pg_ctl` from the `postgresql` package): its own data directory under /tmp, a
free loopback port, password (SCRAM) authentication, stopped and deleted at the end.

initdb refuses to run as root, so as root the cluster is made and run as the `postgres`
system user the Debian package creates (through `runuser`)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SUPERUSER = "stillroom_test"
SUPERUSER_PASSWORD = "throwaway-" + uuid.uuid4().hex  # the cluster lives for one run


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(path.parent.parent.name)
                   if path.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


def why_unavailable() -> str | None:
    if binaries() is None:
        return ("PostgreSQL's binaries are missing (/usr/lib/postgresql/*/bin/initdb: "
                "packaging/test.sh installs the Debian package postgresql)")
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        return "running as root needs runuser and the postgres system user to start PostgreSQL"
    return None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    def __init__(self) -> None:
        bin_dir = binaries()
        assert bin_dir is not None, why_unavailable()
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="stillroom-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self._as, *command], capture_output=True, text=True,
                                timeout=120, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:2])} failed: {result.stderr or result.stdout}")
        return result

    def start(self) -> None:
        password_file = self.root / "pw"
        password_file.write_text(SUPERUSER_PASSWORD)
        if self._as:
            owner = pwd.getpwnam("postgres")
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        try:
            self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                      "--auth=scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8",
                      "--no-locale", "--no-sync")
        finally:
            password_file.unlink()
        # Loopback only, the socket in our own directory; no fsync: a test cluster that
        # dies with the machine is thrown away anyway.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.root} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.root / "log"), "-o", options, "-w", "-t", "60", "start")

    def url(self, database: str = "postgres", *, password: bool = True) -> str:
        secret = f":{SUPERUSER_PASSWORD}" if password else ""
        return f"postgresql+psycopg://{SUPERUSER}{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its name."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                             password=SUPERUSER_PASSWORD, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def log(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m",
                          "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
