"""The performance suite (issue 8): the ceilings and the service side by side, in one run, on
this machine, written to bench/RESULTS.md. It starts what it needs: a durable PostgreSQL
(fsync on), SQLite in temp folders, uvicorn processes, and wrk as the load generator.

    .venv/bin/python -m bench.suite --results bench/RESULTS.md     # about 25 minutes
    .venv/bin/python -m bench.suite --smoke                         # seconds: it runs, that's all
"""

import argparse
import functools
import gc
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median, quantiles
from typing import IO
from uuid import UUID

import httpx
import sqlalchemy as sa

from app.keys import create_key
from app.ledger import Context, MutualAidLedger, Pending
from app.services import build_services, read_model_engine, tune_garbage_collector
from app.settings import Settings
from bench.results import write_section
from bench.verify_log import incident_of
from domain.incident import Incident
from projections.tables import projection_tracking
from tests.integration.server import CLI
from tests.integration.server import environment as service_environment
from tests.postgres import (
    Cluster,
    as_postgres,
    create_database,
    free_port,
    remove_cluster,
    start_cluster,
)
from tests.scenarios import REQUESTER, RESPONDER, T0, open_incident, partial_response

BENCH = Path(__file__).parent
UVICORN = str(Path(sys.executable).parent / "uvicorn")
STEPS_PER_INCIDENT = 7  # bench/commands.lua


@dataclass
class Run:
    """How long each measurement runs, and how big the stores get."""

    seconds: int = 10
    clients: tuple[int, ...] = (1, 8, 32)
    small_events: int = 10_000
    large_events: int = 1_000_000
    lag_seconds: int = 10


@dataclass
class Report:
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        row = tuple(str(c) for c in cells)
        self.rows.append(row)
        print(" | ".join(row), flush=True)


# -- processes -------------------------------------------------------------------------------


def environment(settings: Settings) -> dict[str, str]:
    """The service's, with no rate limit in the way of the load."""
    return {**service_environment(settings), "MAL_RATE_LIMIT_PER_MINUTE": "1000000"}


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[int]:
    """Start a server, wait for it to answer, yield its pid, stop it. Its output goes to a
    file: a pipe nobody reads would stall a chatty server."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            wait_until_up(port, process, log)
            yield process.pid
        finally:
            process.terminate()
            process.wait(30)


def wait_until_up(port: int, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            time.sleep(1)  # the other worker processes start at the same time
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


@contextmanager
def service(settings: Settings, processes: int) -> Iterator[tuple[int, int]]:
    """The service as `serve` runs it: API processes and the projection worker beside them."""
    port = free_port()
    command = [CLI, "serve", "--port", str(port), "--workers", str(processes)]
    with serving(command, environment(settings), port) as pid:
        yield port, pid


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of the process and its children (uvicorn workers)."""
    total = 0
    for task in [pid, *children(pid)]:
        status = Path(f"/proc/{task}/status").read_text()
        total += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


# -- load ------------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(url: str, script: str, clients: int, seconds: int, env: dict[str, str]) -> Load:
    threads = min(clients, 2)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(BENCH / script), url]
    done = subprocess.run(
        command,
        env={**os.environ, **env, "BENCH_THREADS": str(threads)},
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    if "Latency Distribution" not in out or "nan" in out:
        raise RuntimeError(f"wrk could not measure: {out}{done.stderr}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=millis(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        p99_ms=millis(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    )


def millis(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def pool(settings: Settings, incidents: int, prefix: str) -> Path:
    """Incidents opened beforehand for the command mix, one id a line."""
    services = build_services(settings)
    try:
        ids = [str(open_incident(services.ledger, f"{prefix}-{n}")) for n in range(incidents)]
    finally:
        services.close()
    path = settings.data_dir / f"{prefix}.pool"
    path.write_text("\n".join(ids) + "\n")
    return path


def keys(settings: Settings) -> dict[str, str]:
    services = build_services(settings)
    try:
        return {a: create_key(services.read_models, a, "bench") for a in ("KPD", "KCSD")}
    finally:
        services.close()


# -- measurements ----------------------------------------------------------------------------


def noop_ceiling(report: Report, run: Run) -> dict[tuple[int, int], float]:
    found = {}
    for processes in (1, 2):
        port = free_port()
        command = [UVICORN, "bench.noop_app:app", "--port", str(port), "--workers", str(processes)]
        command += ["--log-level", "warning"]
        with serving(command, dict(os.environ), port):
            for clients in run.clients:
                load = wrk(f"http://127.0.0.1:{port}/noop", "noop.lua", clients, run.seconds, {})
                found[processes, clients] = load.rps
                report.add("no-op FastAPI POST", f"{processes} proc", clients, *figures(load))
    return found


def figures(load: Load, ceiling: float | None = None) -> tuple[str, ...]:
    share = f"{load.rps / ceiling:.0%}" if ceiling else "-"
    return (f"{load.rps:,.0f}", f"{load.p50_ms:.1f}", f"{load.p99_ms:.1f}", str(load.errors), share)


def sqlite_insert_ceiling(report: Report, run: Run, folder: Path) -> None:
    """Single-row INSERT transactions, durable as the service's SQLite store is."""
    db = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    done, end = 0, time.perf_counter() + run.seconds
    while time.perf_counter() < end:
        db.execute("BEGIN")
        db.execute("INSERT INTO t (body) VALUES (?)", ("x" * 200,))
        db.execute("COMMIT")
        done += 1
    db.close()
    report.add(
        "raw single-row INSERT, SQLite",
        "1 client",
        "-",
        f"{done / run.seconds:,.0f}",
        "-",
        "-",
        "-",
        "-",
    )


def postgres_insert_ceiling(report: Report, run: Run, cluster: Cluster) -> None:
    url = create_database(cluster.url)
    script = cluster.base / "insert.sql"
    script.write_text("INSERT INTO t (body) VALUES (repeat('x', 200));\n")
    if os.geteuid() == 0:
        shutil.chown(script, "postgres", "postgres")
    subprocess.run(
        ["psql", url, "-qc", "CREATE TABLE t (id bigserial PRIMARY KEY, body text)"], check=True
    )
    for clients in (1, 16):
        command = [str(cluster.bindir / "pgbench"), "-n", "-f", str(script), "-c", str(clients)]
        command += ["-j", str(min(clients, 2)), "-T", str(run.seconds), url]
        done = subprocess.run(as_postgres(command), capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr)
        out = done.stdout
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
        report.add(
            "raw single-row INSERT, PostgreSQL (pgbench)",
            f"{clients} clients",
            "-",
            f"{tps:,.0f}",
            "-",
            "-",
            "-",
            "-",
        )


def commands(
    report: Report,
    run: Run,
    settings: Settings,
    store: str,
    processes: int,
    noop: dict[tuple[int, int], float],
) -> Load:
    key = keys(settings)
    last = best = Load(0, 0, 0, 0)
    for clients in run.clients:
        # Enough incidents for three times the rate seen so far (more clients go faster),
        # and never fewer than 200: a pool used up shows as errors (steps sent twice).
        size = max(200, int(max(last.rps * 3, 1000) * run.seconds / STEPS_PER_INCIDENT))
        path = pool(settings, size, f"{store}-{processes}-{clients}")
        env = {"BENCH_POOL": str(path), "BENCH_KPD": key["KPD"], "BENCH_KCSD": key["KCSD"]}
        with service(settings, processes) as (port, pid):
            last = wrk(f"http://127.0.0.1:{port}", "commands.lua", clients, run.seconds, env)
            rss = peak_rss_mb(pid)
        ceiling = noop.get((processes, clients))
        report.add(
            f"commands over HTTP, {store}", f"{processes} proc", clients, *figures(last, ceiling)
        )
        report.notes.append(
            f"API peak RSS, {store}, {processes} proc, {clients} clients: {rss:.0f} MB"
        )
        best = max(best, last, key=lambda load: load.rps)
    return best


def rebuild_against_raw(report: Report, settings: Settings, store: str) -> None:
    """Rebuild the read models from scratch, against only reading and decoding the events,
    both with the collector settings the service's processes use."""
    services = build_services(settings)
    defaults = gc.get_threshold()
    tune_garbage_collector()
    try:
        started = time.perf_counter()
        count = 0
        position = 0
        recorder, mapper = services.ledger.recorder, services.ledger.mapper
        while batch := recorder.select_notifications(position, 1000, inclusive_of_start=False):
            for notification in batch:
                mapper.to_domain_event(notification)
            count += len(batch)
            position = batch[-1].id
        raw = count / (time.perf_counter() - started)
    finally:
        gc.unfreeze()
        gc.set_threshold(*defaults)
        services.close()
    rss, said = run_measured([CLI, "rebuild"], environment(settings))
    rebuilt = float(re.search(r"\((\d+) events/s\)", said).group(1))  # type: ignore[union-attr]
    report.add(
        f"read and decode every event, {store}", "-", "-", f"{raw:,.0f} ev/s", "-", "-", "-", "-"
    )
    report.add(
        f"projection rebuild (CLI), {store}",
        "-",
        "-",
        f"{rebuilt:,.0f} ev/s",
        "-",
        "-",
        "-",
        f"{rebuilt / raw:.0%}",
    )
    report.notes.append(f"rebuild of {count:,} events, {store}: peak RSS {rss:.0f} MB")


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run to the end; the child's peak RSS in MB and what it printed."""
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise RuntimeError(f"{command} failed")
        out.seek(0)
        return usage.ru_maxrss / 1024, out.read().decode()


def projection_lag(report: Report, run: Run, settings: Settings, store: str, rate: float) -> None:
    """Writes at a steady rate; for each, the time from its answer until it is projected."""
    key = keys(settings)
    count = max(10, int(rate * run.lag_seconds))
    path = pool(settings, count // STEPS_PER_INCIDENT + 1, f"lag-{store}")
    incidents = path.read_text().split()
    answered: list[tuple[int, float]] = []
    projected: dict[int, float] = {}
    with service(settings, 1) as (port, _):
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(settings, projected, stop))
        watcher.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            started = time.perf_counter()
            for n in range(count):
                time.sleep(max(0.0, started + n / rate - time.perf_counter()))
                incident = incidents[n % len(incidents)]
                answer = client.post(
                    f"/v1/incidents/{incident}/corrections",
                    json={
                        "actor": {"name": "Sgt. Dana Ruiz", "rank": "sergeant"},
                        "occurred_at": "2026-11-01T02:10:00Z",
                        "fact": "incident.nature",
                        "value": f"Civil disturbance {n}",
                        "reason": "more is known",
                    },
                    headers={"Authorization": f"Bearer {key['KPD']}"},
                )
                answered.append((answer.json()["position"], time.perf_counter()))
        time.sleep(1)
        stop.set()
        watcher.join()
    lags = sorted(1000 * max(0.0, projected.get(p, time.perf_counter()) - at) for p, at in answered)
    cuts = quantiles(lags, n=100)
    report.add(
        f"projection lag at {rate:,.0f} writes/s, {store}",
        "1 proc",
        1,
        "-",
        f"{cuts[49]:.1f}",
        f"{cuts[98]:.1f}",
        "-",
        "-",
    )


def watch(settings: Settings, projected: dict[int, float], stop: threading.Event) -> None:
    engine = read_model_engine(settings)
    seen = 0
    query = sa.select(projection_tracking.c.position).where(
        projection_tracking.c.name == "incidents"
    )
    with engine.connect() as conn:
        while not stop.is_set():
            position = conn.execute(query).scalar() or 0
            now = time.perf_counter()
            for p in range(seen + 1, position + 1):
                projected[p] = now
            seen = max(seen, position)
            conn.rollback()
            time.sleep(0.002)
    engine.dispose()


def reads(report: Report, run: Run, settings: Settings, events: int) -> None:
    """Report and list latency with ``events`` stored, through the same service: with one
    client (what a read costs) and with eight (what they cost queued on the cores)."""
    key = keys(settings)
    with service(settings, 1) as (port, _):
        wait_projected(port)
        some = httpx.get(
            f"http://127.0.0.1:{port}/v1/incidents",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {key['KPD']}"},
        ).json()["items"][0]
        for name, path in (
            ("full report", f"/v1/incidents/{some['incident_id']}/reports/full"),
            ("list, first page", "/v1/incidents?limit=50"),
        ):
            env = {"BENCH_PATH": path, "BENCH_KEY": key["KPD"]}
            for clients in (1, 8):
                load = wrk(f"http://127.0.0.1:{port}", "get.lua", clients, run.seconds, env)
                report.add(f"{name} with {events:,} events", "1 proc", clients, *figures(load))


def wait_projected(port: int) -> None:
    """Until the projections and the seals are done with what the log held at the start:
    the reads measured must not share the worker's core with catching up."""
    while True:
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
        if health["projection_lag"] == health["seal_lag"] == 0:
            return
        time.sleep(0.5)


def fill(settings: Settings, events: int, per_incident: int) -> None:
    """Whole incidents of ``per_incident`` events each, saved one incident per transaction."""
    services = build_services(settings)
    try:
        ledger = services.ledger
        for n in range(events // per_incident):
            ledger.save(incident_of(ledger, f"F-{n}", per_incident))
    finally:
        services.close()


def load_cost(report: Report, settings: Settings) -> None:
    """Loading an incident of 10 events against one of 10,000 (just snapshotted) and one of
    10,009 (nine events past its snapshot, the worst case), from the store: cold (the first
    load in a fresh process; the median of five) and warm (loaded before, so its pages are
    in memory; the best of twenty). An incident the writer holds in memory is not loaded."""
    sizes = (10, 10_000, 10_009)
    services = build_services(settings)
    try:
        for size in sizes:
            services.ledger.save(incident_of(services.ledger, f"L-{size}", size))
    finally:
        services.close()
    for size in sizes:
        incident_id = Incident.create_id("KPD", f"L-{size}")
        colds = []
        for _ in range(5):
            services = build_services(settings)
            try:
                load = functools.partial(services.ledger.load, incident_id)
                colds.append(timed(load))
                warm = min(timed(load) for _ in range(20))
            finally:
                services.close()
        report.add(
            f"load an incident of {size:,} events",
            "-",
            "-",
            f"cold {median(colds):.2f} ms",
            f"warm {warm:.2f} ms",
            "-",
            "-",
            "-",
        )


def stale_copies(report: Report, settings: Settings, store: str) -> None:
    """Two ledgers on one store, as two API processes: a command's CPU when every step of an
    incident goes to the other ledger than the step before (so its copy in memory is behind
    and is brought up to date first; the first step finds none and loads the incident),
    against every step going to the ledger that opened it."""
    incidents = 300
    cpu = {}
    for alternating in (False, True):
        first, second = build_services(settings), build_services(settings)
        try:
            ids = [open_incident(first.ledger, f"S-{alternating}-{n}") for n in range(incidents)]
            started = time.process_time()
            for number, step in enumerate(ALTERNATED_STEPS):
                ledger = second.ledger if alternating and number % 2 == 0 else first.ledger
                for pending in [step(ledger, incident) for incident in ids]:
                    pending.result()
            cpu[alternating] = (time.process_time() - started) / (incidents * len(ALTERNATED_STEPS))
        finally:
            first.close()
            second.close()
    for alternating, seconds in cpu.items():
        where = "the other process wrote last" if alternating else "this process wrote last"
        ratio = f"{seconds / cpu[False]:.0%}"
        report.add(
            f"command CPU, {where}, {store}",
            "2 ledgers",
            "-",
            f"{seconds * 1000:.2f} ms",
            "-",
            "-",
            "-",
            ratio,
        )


Step = Callable[[MutualAidLedger, UUID], Pending]
ALTERNATED_STEPS: list[Step] = [
    lambda ledger, i: ledger.approve(i, 1, Context(REQUESTER, T0)),
    lambda ledger, i: ledger.respond(i, 1, partial_response(), Context(RESPONDER, T0)),
    lambda ledger, i: ledger.record_arrival(i, 1, Context(RESPONDER, T0)),
    lambda ledger, i: ledger.record_involvement(i, 1, "D-0", "held", "", Context(RESPONDER, T0)),
    lambda ledger, i: ledger.close_incident(i, "done", True, Context(REQUESTER, T0)),
]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


# -- the run ---------------------------------------------------------------------------------


def sqlite_settings(folder: Path, name: str) -> Settings:
    path = folder / name
    path.mkdir()
    return Settings(data_dir=path)


def postgres_settings(cluster: Cluster, folder: Path, name: str) -> Settings:
    path = folder / name
    path.mkdir()
    return Settings(data_dir=path, database_url=create_database(cluster.url))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="a few seconds: only that it runs")
    parser.add_argument("--results", type=Path)
    parser.add_argument("--large-events", type=int, default=1_000_000)
    args = parser.parse_args()
    run = (
        Run(seconds=1, clients=(8,), small_events=200, large_events=400, lag_seconds=1)
        if args.smoke
        else Run(large_events=args.large_events)
    )
    report = Report()
    folder = Path(tempfile.mkdtemp(prefix="mal-bench-"))
    cluster = start_cluster(durable=True)
    try:
        noop = noop_ceiling(report, run)
        sqlite_insert_ceiling(report, run, folder)
        postgres_insert_ceiling(report, run, cluster)
        sqlite = sqlite_settings(folder, "sqlite")
        fastest = commands(report, run, sqlite, "SQLite", 1, noop)  # the most writes/s seen
        projection_lag(report, run, sqlite, "SQLite", max(5.0, fastest.rps / 2))
        for processes in (1, 2):
            pg = postgres_settings(cluster, folder, f"pg{processes}")
            last = commands(report, run, pg, "PostgreSQL", processes, noop)  # with 2 at the end
        rebuild_against_raw(report, pg, "PostgreSQL")
        stale_copies(report, postgres_settings(cluster, folder, "stale"), "PostgreSQL")
        projection_lag(
            report,
            run,
            postgres_settings(cluster, folder, "pglag"),
            "PostgreSQL",
            max(5.0, last.rps / 2),
        )
        for events in (run.small_events, run.large_events):
            store = sqlite_settings(folder, f"reads{events}")
            fill(store, events, 10)
            rebuild_against_raw(report, store, f"SQLite, {events:,} events")
            reads(report, run, store, events)
        load_cost(report, sqlite_settings(folder, "load"))
    finally:
        remove_cluster(cluster)
        shutil.rmtree(folder, ignore_errors=True)
    if args.results:
        write(args.results, report, run)


def write(path: Path, report: Report, run: Run) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    head = "| measurement | processes | clients | rate | p50 ms | p99 ms | errors | of ceiling |"
    lines = [
        f"## Performance suite ({datetime.now(UTC):%Y-%m-%d}, {machine})",
        "",
        f"`python -m bench.suite`: {run.seconds} s per load, wrk as the load generator on the",
        'same machine. "of ceiling": the share of the no-op endpoint\'s rate at the same',
        "processes and clients (for the rebuild: of the raw read-and-decode rate).",
        "",
        head,
        "|---|---|---|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in report.rows),
        "",
        *(f"- {note}" for note in report.notes),
    ]
    write_section(path, "bench.suite", "\n".join(lines))


if __name__ == "__main__":
    main()
