"""Dependencies shared by the routes, as `Annotated` aliases."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import StringConstraints, TypeAdapter, ValidationError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.guard import AuthGuard
from api.problems import ApiProblem
from app.keys import IssuedKey, RecentKeys
from app.ledger import Context, Idempotency, MutualAidLedger
from app.principals import Principal, Scope
from app.services import Services
from domain.errors import IncidentNotFound
from domain.values import Actor
from projections.queries import IncidentRows, incident_rows, snapshot

# Log positions and versions are 64-bit integers in both stores; a larger one names nothing.
MAX_POSITION = 2**63 - 1

bearer = HTTPBearer(
    auto_error=False, description="An API key created with `mutual-aid create-key`."
)


# Dependencies that only read memory are `async def`: FastAPI runs a plain `def` in a worker
# thread, and those hand-offs cost more than the work itself.


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


async def ledger(s: ServicesDep) -> MutualAidLedger:
    return s.ledger


Ledger = Annotated[MutualAidLedger, Depends(ledger)]


def department_names(ledger: Ledger) -> Mapping[str, str]:
    return ledger.directory.names()


# The directory's agency names by code, which the Kenosha reports give beside each code.
DepartmentNames = Annotated[Mapping[str, str], Depends(department_names)]


async def authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    guard: AuthGuard = request.app.state.guard
    source = request.client.host if request.client else "unknown"
    guard.check_source(source)
    keys: RecentKeys = request.app.state.keys
    found = await lookup_key(keys, credentials.credentials) if credentials else None
    principal = found.principal if found else None
    request.state.principal = principal  # for the access log
    if principal is None:
        # A wrong key is a guess. No key at all is not, nor a key of ours that has ended (a
        # client not yet moved to its new key): counting it would lock out its whole address.
        # Both get the same answer, so it tells no more than that the key does not work now.
        # An ended key sent again costs no lookup for a while (RecentKeys keeps it too).
        if credentials and found is None:
            guard.failed(source)
        raise ApiProblem(
            401,
            "unauthenticated",
            "A valid API key is required",
            "send 'Authorization: Bearer <key>'",
            {"WWW-Authenticate": "Bearer"},
        )
    guard.spend(principal.key_id)
    return principal


async def lookup_key(keys: RecentKeys, key: str) -> IssuedKey | None:
    """The key if it was made here, working or ended; from memory if seen moments ago."""
    return keys.recent(key) or await run_in_threadpool(keys.issued, key)


async def current_principal(keys: RecentKeys, key: str) -> Principal | None:
    """The key's holder while the key works."""
    found = await lookup_key(keys, key)
    return found.principal if found else None


async def permitted(
    request: Request, credentials: HTTPAuthorizationCredentials | None, scope: Scope
) -> Principal:
    """The caller, if its key's role grants ``scope`` (403 otherwise: what a role may do is
    no secret, unlike which incidents exist)."""
    principal = await authenticated(request, credentials)
    if scope not in principal.scopes:
        raise ApiProblem(
            403,
            "insufficient-scope",
            "This key's role may not do this",
            f"needs {scope.value}; a {principal.role.value} key does not have it",
        )
    return principal


def authorized(scope: Scope) -> Any:
    """A dependency that lets through only keys whose role grants ``scope``. One dependency,
    not a chain: FastAPI's cost per dependency is more than a check's."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        return await permitted(request, credentials, scope)

    return Depends(check)


Reader = Annotated[Principal, authorized(Scope.READ)]
Writer = Annotated[Principal, authorized(Scope.WRITE)]
DashboardReader = Annotated[Principal, authorized(Scope.DASHBOARD)]
Auditor = Annotated[Principal, authorized(Scope.AUDIT)]
StateAuditor = Annotated[Principal, authorized(Scope.ALL_AGENCIES)]
DirectoryReader = Annotated[Principal, authorized(Scope.DIRECTORY)]
KeyAdmin = Annotated[Principal, authorized(Scope.KEYS)]


class Stamped(Protocol):
    def stamp(self, agency: str) -> tuple[Actor, datetime]: ...


@dataclass(frozen=True)
class Preconditions:
    """Everything about a write that is not its body: the ledger it goes to, the caller's
    agency (from its key), If-Match and Idempotency-Key."""

    ledger: MutualAidLedger
    agency: str
    expected_version: int | None
    idempotency: Idempotency | None

    def context(self, body: Stamped) -> Context:
        actor, occurred_at = body.stamp(self.agency)
        return Context(actor, occurred_at, self.expected_version, self.idempotency)


IF_MATCH = TypeAdapter(Annotated[str, StringConstraints(pattern=r'^(W/)?"?[0-9]{1,18}"?$')])
IDEMPOTENCY_KEY = TypeAdapter(Annotated[str, StringConstraints(max_length=200)])
WRITE_HEADERS = (
    ("If-Match", IF_MATCH, 'The ETag last seen, e.g. "3".'),
    (
        "Idempotency-Key",
        IDEMPOTENCY_KEY,
        "Retries with the same key and body get the first answer; "
        "kept per agency for at least 24 hours.",
    ),
)
# What `preconditions` reads from the request itself, for the commands' OpenAPI operations.
WRITE_DOCS: dict[str, Any] = {
    "security": [{bearer.scheme_name: []}],
    "parameters": [
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": description,
            "schema": adapter.json_schema(),
        }
        for name, adapter, description in WRITE_HEADERS
    ],
}


async def preconditions(request: Request) -> Preconditions:
    """Reads the key and the headers itself: FastAPI solving them as declared parameters and
    nested dependencies cost a command about a tenth of the API process's CPU (measured in
    bench/RESULTS.md); WRITE_DOCS documents them. If-Match's pattern refuses anything but a
    version (422)."""
    writer = await permitted(request, await bearer(request), Scope.WRITE)
    if_match = header(request, "If-Match", IF_MATCH)
    key = header(request, "Idempotency-Key", IDEMPOTENCY_KEY)
    version = None if if_match is None else int(if_match.removeprefix("W/").strip('"'))
    idempotency = None
    if key is not None:
        fingerprint = request_hash(request.method, request.url.path, await request.body())
        idempotency = Idempotency(writer.agency, key, fingerprint)
    services: Services = request.app.state.services
    return Preconditions(services.ledger, writer.agency, version, idempotency)


def header(request: Request, name: str, adapter: TypeAdapter[str]) -> str | None:
    """The header's value, checked as FastAPI checks a declared header (the same 422)."""
    value = request.headers.get(name)
    if value is None:
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        located = [{**e, "loc": ("header", name, *e["loc"])} for e in error.errors()]
        raise RequestValidationError(located) from None


def request_hash(method: str, path: str, body: bytes) -> str:
    """Same request, same hash, whatever the JSON's spacing or key order."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
        canonical = body
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


Pre = Annotated[Preconditions, Depends(preconditions)]


async def read_models(
    s: ServicesDep,
    min_position: Annotated[
        int | None,
        Query(ge=0, le=MAX_POSITION, description="Wait until the projections reach this position."),
    ] = None,
) -> Engine:
    """The read-model database, once it holds ``min_position`` (waited for in a thread)."""
    if min_position:
        await run_in_threadpool(wait_until_projected, s, min_position)
    return s.read_models


def wait_until_projected(s: Services, position: int) -> None:
    if not s.projection.wait_for(position, 0):
        check_written(s, position)
    if not s.projection.wait_for(position, s.settings.read_wait_seconds):
        raise ApiProblem(
            503,
            "projection-behind",
            "The read model has not caught up yet",
            f"position {position} is not projected yet; retry shortly",
            {"Retry-After": "1"},
        )


def check_written(s: Services, position: int) -> None:
    """Only a position some write returned is worth waiting for."""
    if position > (s.ledger.recorder.max_notification_id() or 0):
        raise ApiProblem(
            400,
            "unknown-position",
            "No event has been written at that position",
            f"the log ends before position {position}; send a position a write returned",
        )


async def clock() -> datetime:
    """Now, as a dependency: a test sets the moment its board or statistics are read at."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(clock)]


# Reads open their own connection in the one worker thread FastAPI runs them in.
ReadModels = Annotated[Engine, Depends(read_models)]


def visible_incident(incident_id: UUID, reader: Reader, engine: ReadModels) -> IncidentRows:
    with snapshot(engine) as conn:
        rows = incident_rows(conn, incident_id, reader.sees)
    if rows is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return rows


VisibleIncident = Annotated[IncidentRows, Depends(visible_incident)]
