"""`mutual-aid`: serve the API, manage keys, run or rebuild the projections."""

from typing import Annotated

import typer
import uvicorn

from app.keys import create_key
from app.services import build_services
from app.settings import Settings
from app.store import grant_service_role
from domain.directory import UnknownAgency

cli = typer.Typer(no_args_is_help=True, help="Mutual Aid Ledger")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="API processes; >1 needs PostgreSQL")] = 1,
) -> None:
    """Serve the HTTP API (settings from MAL_* environment variables)."""
    settings = Settings()
    if workers > 1 and (settings.run_projections or not settings.uses_postgres):
        raise typer.BadParameter(
            "several workers need PostgreSQL and MAL_RUN_PROJECTIONS=false "
            "(run one `mutual-aid project` worker instead)"
        )
    uvicorn.run("app.asgi:app", host=host, port=port, workers=workers, proxy_headers=True)


@cli.command("create-key")
def create_key_command(
    agency: Annotated[str, typer.Option(help="Agency code the key acts for, e.g. KENOSHA-PD")],
    label: Annotated[str, typer.Option(help="Who holds the key, e.g. 'CAD primary'")] = "",
) -> None:
    """Create an API key for an agency; the key is shown once and stored only as a hash."""
    services = build_services(Settings())
    try:
        services.ledger.directory.agency(agency)
        typer.echo(create_key(services.read_models, agency, label))
    except UnknownAgency as error:
        raise typer.BadParameter(error.detail) from None
    finally:
        services.close()


@cli.command()
def rebuild() -> None:
    """Empty the read models and project the whole event log again."""
    services = build_services(Settings())
    try:
        typer.echo(f"rebuilt from {services.projection.rebuild()} events")
    finally:
        services.close()


@cli.command()
def project() -> None:
    """Run the projection worker (for deployments with several API processes)."""
    services = build_services(Settings())
    try:
        services.projection.run_forever()
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
def migrate() -> None:
    """Bring the read-model tables to the newest migration (serve does this too)."""
    build_services(Settings()).close()


def main() -> None:
    cli()
