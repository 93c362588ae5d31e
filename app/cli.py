"""`mutual-aid`: serve the API, manage keys, run or rebuild the projections."""

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit import Checkpoint, Verdict, public_key_of
from app.audit_store import make_checkpoint, verify_store
from app.bundle import CHECKPOINT, BadBundle, verify_bundle, write_bundle
from app.keys import create_key, end_key, list_keys, rotate_key
from app.migrations import NotMigrated, check_at_head
from app.principals import AGENCY_ROLES, Role
from app.services import (
    STORE_UNAVAILABLE,
    Services,
    build_services,
    read_model_engine,
    tune_garbage_collector,
)
from app.settings import Settings
from app.store import grant_service_role, snapshotted_incidents
from domain.directory import Directory, UnknownAgency
from projections.seals import StoredEvent

cli = typer.Typer(no_args_is_help=True, help="Mutual Aid Ledger")


class Projector(StrEnum):
    PROCESS = "process"  # a worker process beside the API: a core of its own
    THREAD = "thread"  # inside the API process, woken by each write


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="API processes; >1 needs PostgreSQL")] = 1,
    projector: Annotated[Projector, typer.Option(help="Where the projections run")] = (
        Projector.PROCESS
    ),
    request_lines: Annotated[
        bool, typer.Option(help="Also print a line per request (the access log has them all)")
    ] = False,
) -> None:
    """Serve the HTTP API (settings from MAL_* environment variables). With projections on
    (MAL_RUN_PROJECTIONS), a projection worker runs beside the API and stops with it."""
    settings = Settings()
    in_thread = settings.run_projections and projector == Projector.THREAD
    if workers > 1 and (in_thread or not settings.uses_postgres):
        raise typer.BadParameter("several workers need PostgreSQL and --projector process")
    if not settings.create_tables:
        check_migrated(settings)
    worker, stopping = None, threading.Event()
    if settings.run_projections and projector == Projector.PROCESS:
        this_cli = str(Path(sys.argv[0]).resolve())
        worker = subprocess.Popen([this_cli, "project"], preexec_fn=die_with_parent)
        threading.Thread(target=stop_if_gone, args=(worker, stopping), daemon=True).start()
        os.environ["MAL_RUN_PROJECTIONS"] = "false"  # for the API processes uvicorn starts
    try:
        uvicorn.run(
            "app.asgi:app",
            host=host,
            port=port,
            workers=workers,
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies,
            access_log=request_lines,
        )
    finally:
        stopping.set()
        if worker:
            worker.terminate()
            worker.wait()


def check_migrated(settings: Settings) -> None:
    """A process that may not migrate refuses tables behind the code here, in a line (see
    main): from uvicorn's lifespan the same refusal is a page of traceback."""
    engine = read_model_engine(settings)
    try:
        check_at_head(engine, settings.migrations_dir)
    finally:
        engine.dispose()


def stop_if_gone(worker: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    """A server whose projection worker is gone would take writes that no read shows: stop
    the server too (gracefully; it then ends by that SIGTERM), so that its service manager
    restarts both."""
    code = worker.wait()
    if not stopping.is_set():
        typer.echo(f"the projection worker exited ({code}); stopping the server", err=True)
        os.kill(os.getpid(), signal.SIGTERM)


def die_with_parent() -> None:
    """In the child, before it runs: the kernel sends it SIGTERM when the parent dies, even
    by SIGKILL, so a crashed server never leaves a projection worker behind."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


@cli.command("create-key")
def create_key_command(
    agency: Annotated[str, typer.Option(help="Agency code the key acts for, e.g. KENOSHA-PD")],
    label: Annotated[str, typer.Option(help="Who holds the key, e.g. 'CAD primary'")] = "",
    valid_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Expire after this many days")
    ] = None,
    role: Annotated[Role, typer.Option(help="What the key may do")] = Role.CAD,
) -> None:
    """Create an API key for an agency; the key is shown once and stored only as a hash.
    A state auditor's agency names the state body, never an agency of the directory."""
    services = existing_services()
    try:
        check_agency(services.ledger.directory, agency, role)
        valid_for = None if valid_days is None else timedelta(days=valid_days)
        typer.echo(create_key(services.read_models, agency, label, valid_for, role))
    except UnknownAgency as error:
        raise typer.BadParameter(error.detail) from None
    finally:
        services.close()


def check_agency(directory: Directory, agency: str, role: Role) -> None:
    """A key acts for an agency of the directory, a state auditor's for the state body: under
    a department's code it would act with every agency's reach in that department's name,
    and the department's admin could neither see nor revoke it."""
    if role in AGENCY_ROLES:
        directory.agency(agency)
    elif agency in directory.names():
        raise typer.BadParameter(
            f"{agency} is an agency of the directory; a {role} key names the state body "
            "(e.g. WI-DOJ)"
        )


@cli.command()
def rebuild() -> None:
    """Empty the read models and project the whole event log again."""
    services = existing_services()
    tune_garbage_collector()
    try:
        started = time.perf_counter()
        count = services.projection.rebuild()
        seconds = time.perf_counter() - started
        # A projection worker running meanwhile applies some of the events itself.
        typer.echo(
            f"rebuilt up to position {services.projection.position()}: {count} events applied"
            f" here in {seconds:.1f} s ({count / seconds:.0f} events/s)"
        )
    finally:
        services.close()


@cli.command()
def project() -> None:
    """Run the projection worker (for deployments with several API processes)."""
    services = services_once_reachable(Settings())
    tune_garbage_collector()
    try:
        services.start_sealing()
        services.watch_the_log()
        services.projection.run_forever()
    finally:
        services.close()


def services_once_reachable(settings: Settings) -> Services:
    """The worker waits for its database rather than exit: started during an outage, it
    would stop the server with it (see stop_if_gone). Once running, its runners retry."""
    while True:
        try:
            return build_services(settings)
        except STORE_UNAVAILABLE as error:
            typer.echo(f"store unavailable, retrying in 1 s: {error}", err=True)
            time.sleep(1)


def existing_services() -> Services:
    """For the commands that read or change what the service stored: a mistyped
    MAL_DATA_DIR would otherwise give them a new empty store, and they would report
    success on it (no events to verify, a key the service never sees)."""
    settings = Settings()
    if not (settings.uses_postgres or settings.sqlite_files.events.exists()):
        raise typer.BadParameter(
            f"no event store at {settings.sqlite_files.events}: check MAL_DATA_DIR"
            " (`mutual-aid migrate` makes a new one)"
        )
    return build_services(settings)


keys = typer.Typer(help="List, revoke and rotate API keys.")
cli.add_typer(keys, name="keys")


@keys.command("list")
def list_keys_command() -> None:
    """Every key by id (the start of its hash), agency, role, created, valid until, label."""
    services = existing_services()
    try:
        for key in list_keys(services.read_models):
            until = key["valid_until"].isoformat() if key["valid_until"] else "-"
            created = f"{key['created_at']:%Y-%m-%d}"
            typer.echo(
                f"{key['key_hash']}  {key['agency']}  {key['role']}  {created}  {until}  "
                f"{key['label']}"
            )
    finally:
        services.close()


@keys.command("revoke")
def revoke_command(key_id: str) -> None:
    """Stop a key now."""
    services = existing_services()
    try:
        end_key(services.read_models, key_id, datetime.now(UTC))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    finally:
        services.close()


@keys.command("rotate")
def rotate_command(
    key_id: str,
    grace_hours: Annotated[
        int, typer.Option(min=0, max=720, help="How long the old key keeps working")
    ] = 24,
) -> None:
    """Issue a new key for the same agency and holder; the old one expires after the grace."""
    services = existing_services()
    try:
        typer.echo(rotate_key(services.read_models, key_id, timedelta(hours=grace_hours)))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    finally:
        services.close()


@cli.command("grant-service-role")
def grant_service_role_command(
    role: Annotated[str, typer.Argument(help="An existing PostgreSQL role to run the service")],
) -> None:
    """As the tables' owner: let ROLE read and append events but never change or delete them.
    Run the service as ROLE with MAL_CREATE_TABLES=false."""
    services = build_services(Settings())
    try:
        grant_service_role(services.ledger.recorder, role)
    finally:
        services.close()


@cli.command()
def keygen() -> None:
    """Print a new Ed25519 signing key (for MAL_SIGNING_KEY) and its public key."""
    private = Ed25519PrivateKey.generate()
    typer.echo(f"MAL_SIGNING_KEY={private.private_bytes_raw().hex()}")
    typer.echo(f"public key: {public_key_of(private)}")


@cli.command()
def checkpoint() -> None:
    """Sign a checkpoint of the log digest at the newest sealed event; print it as JSON."""
    services = existing_services()
    try:
        services.catch_up_seals()
        private = services.signing_key()
        if private is None:
            raise typer.BadParameter("set MAL_SIGNING_KEY (see `mutual-aid keygen`)")
        typer.echo(json.dumps(asdict(make_checkpoint(services.read_models, private))))
    finally:
        services.close()


def ed25519_public_keys(values: list[str]) -> list[str]:
    """A key that could verify nothing would let a log with no checkpoint pass as checked."""
    for value in values:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))
        except ValueError:
            message = f"not an Ed25519 public key in hex (64 digits): {value}"
            raise typer.BadParameter(message) from None
    return values


def kept_checkpoints(paths: list[Path]) -> list[Checkpoint]:
    try:
        return [CHECKPOINT.validate_json(path.read_bytes()) for path in paths]
    except ValueError:
        message = "not a checkpoint as `mutual-aid checkpoint` prints it"
        raise typer.BadParameter(message) from None


TrustedKeys = Annotated[
    list[str],
    typer.Option(
        "--public-key",
        callback=ed25519_public_keys,
        help="A trusted public key (hex); repeat it for keys used before a rotation",
    ),
]
KeptCheckpoints = Annotated[
    list[Path],
    typer.Option(
        "--checkpoint",
        exists=True,
        dir_okay=False,
        help="A checkpoint kept apart from the store (JSON); the log must still reach it",
    ),
]


@cli.command()
def verify(public_key: TrustedKeys, checkpoint: KeptCheckpoints = []) -> None:  # noqa: B006
    """Verify the whole log against its seals and the signed checkpoints: those stored and
    those kept elsewhere."""
    kept = kept_checkpoints(checkpoint)
    services = existing_services()
    try:
        services.catch_up_seals()
        verdict = verify_store(
            services.ledger.recorder,
            services.read_models,
            frozenset(public_key),
            kept,
            lambda events: with_progress(events, services),
        )
    finally:
        services.close()
    report(verdict)


@cli.command("verify-snapshots")
def verify_snapshots() -> None:
    """Check every snapshot against the events it stands for (one replay per incident)."""
    services = existing_services()
    try:
        ledger = services.ledger
        assert ledger.snapshots is not None
        incidents = snapshotted_incidents(ledger.snapshots.recorder)
        differing = {i: v for i in incidents if (v := ledger.differing_snapshots(i))}
    finally:
        services.close()
    for incident_id, versions in differing.items():
        typer.echo(f"DIFFERS: incident {incident_id}, snapshots at versions {versions}", err=True)
    if differing:
        raise typer.Exit(1)
    typer.echo(f"ok: the snapshots of {len(incidents)} incidents hold what their events give")


@cli.command()
def export(path: Path) -> None:
    """Write an audit bundle (JSON Lines: events, seals and signed checkpoints)."""
    services = existing_services()
    try:
        services.catch_up_seals()
        with path.open("w") as out:
            write_bundle(out, services.ledger.recorder, services.read_models)
    finally:
        services.close()


@cli.command("verify-bundle")
def verify_bundle_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    public_key: TrustedKeys,
    checkpoint: KeptCheckpoints = [],  # noqa: B006
) -> None:
    """Verify an exported bundle offline: no service, no database, only the public key."""
    with path.open() as bundle:
        try:
            verdict = verify_bundle(bundle, frozenset(public_key), kept_checkpoints(checkpoint))
        except BadBundle as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
    report(verdict)


def with_progress(events: Iterator[StoredEvent], services: Services) -> Iterator[StoredEvent]:
    total = services.ledger.recorder.max_notification_id() or 0
    with typer.progressbar(events, length=total, label="verifying") as bar:
        yield from bar


def report(verdict: Verdict) -> None:
    found = verdict.first_break
    if found is not None:
        typer.echo(f"BROKEN at position {found.position}: {found.reason}", err=True)
        raise typer.Exit(1)
    if verdict.signed_up_to is None:
        # The seals are a plain hash chain: whoever can write the store can recompute them.
        typer.echo(
            f"NOT VOUCHED FOR: {verdict.checked} events match their seals, but no checkpoint"
            " signed by a trusted key covers them",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"ok: {verdict.checked} events verified, signed up to position {verdict.signed_up_to}"
    )


@cli.command()
def migrate() -> None:
    """Bring the read-model tables to the newest migration (serve does this too)."""
    build_services(Settings()).close()


def main() -> None:
    try:
        cli()
    except (*STORE_UNAVAILABLE, NotMigrated) as error:
        # What an operator can act on, in a line, rather than a page of traceback.
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
