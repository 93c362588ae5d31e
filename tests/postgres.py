"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, start on a free port.

As root the server runs as the `postgres` account (PostgreSQL refuses to run as root).
Set MAL_TEST_POSTGRES_URL to use an existing server instead.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import psycopg


@dataclass
class Cluster:
    base: Path
    bindir: Path
    url: str

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args]
        subprocess.run(as_postgres(command), check=True, capture_output=True)

    def start(self) -> None:
        self.pg_ctl("-w", "-l", str(self.base / "log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-w", "-m", "immediate", "stop")


def find_bindir() -> Path:
    initdb = shutil.which("initdb") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)), None
    )
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    return Path(initdb).resolve().parent  # the real folder, where pgbench lives too


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_cluster(durable: bool = False) -> Cluster:
    """``durable``: fsync on, as in production (the benchmarks); the tests run without."""
    bindir = find_bindir()
    base = Path(tempfile.mkdtemp(prefix="mal-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    cluster = Cluster(base, bindir, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    initdb = [str(bindir / "initdb"), "-D", str(cluster.datadir), "-U", "postgres"]
    subprocess.run(
        as_postgres([*initdb, "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    settings = f"port={port}\nlisten_addresses='127.0.0.1'\nunix_socket_directories='{base}'\n"
    settings += "max_connections=300\n" + ("" if durable else "fsync=off\n")
    with open(cluster.datadir / "postgresql.conf", "a") as conf:
        conf.write(settings)
    cluster.start()
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.base, ignore_errors=True)


def create_database(server_url: str) -> str:
    name = f"t_{uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
