"""RFC 9457 problem details: the one error envelope of the whole API, and the one table that
maps domain errors to HTTP status codes."""

import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from eventsourcing.persistence import MapperDeserialisationError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.services import STORE_UNAVAILABLE
from domain import errors
from domain.directory import UnknownAgency
from domain.policy import PolicyViolation

log = logging.getLogger(__name__)
PROBLEM_TYPE = "urn:mutual-aid-ledger:problem:"
MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.InvalidCommand: 422,
    errors.RuleViolation: 409,
    errors.NotAuthorized: 403,
    errors.NotFound: 404,
    errors.DuplicateIncident: 409,
    errors.VersionMismatch: 412,
    errors.ConcurrentModification: 409,
    errors.IdempotencyKeyReused: 422,
    PolicyViolation: 403,
    UnknownAgency: 422,
}


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    rule: dict[str, Any] | None = None


# Any request may be refused for its key, its parameters, its rate or a database outage.
ALWAYS = (400, 401, 422, 429, 503)


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The problems a router's routes may answer, documented as application/problem+json."""
    schema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        code: {"model": Problem, "content": {MEDIA_TYPE: schema}}
        for code in sorted({*codes, *ALWAYS})
    }


class ApiProblem(Exception):
    """An error of the HTTP layer itself (authentication, headers, read freshness)."""

    def __init__(
        self, status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail}
    return JSONResponse({**body, **extra}, status, headers=headers, media_type=MEDIA_TYPE)


def status_of(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    extra = {"rule": asdict(exc.rule)} if isinstance(exc, PolicyViolation) else {}
    return problem_response(status_of(exc), exc.slug, exc.title, exc.detail, **extra)


def on_api_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc.status, exc.slug, exc.title, exc.detail, exc.headers)


def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in found):
        return malformed_json(found)
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in found)
    return problem_response(
        422, "validation-failed", "The request does not match the schema", detail, errors=found
    )


def malformed_json(found: list[dict[str, Any]]) -> JSONResponse:
    return problem_response(
        400, "malformed-json", "The body is not valid JSON", "fix the JSON syntax", errors=found
    )


def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):
        # FastAPI's answer to a body its JSON parser failed on other than by syntax: bytes
        # that are not UTF-8, nesting too deep, a number too long.
        return malformed_json(
            [{"loc": ["body"], "msg": str(exc.__cause__), "type": "json_invalid"}]
        )
    slug = {404: "no-such-resource", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Routers share paths (reads and commands): Starlette names only the first's methods.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(exc.status_code, slug, str(exc.detail), str(exc.detail), headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at this path. Asked of each route as a request with
    that method: FastAPI nests the routes of an included router, out of a Route's reach."""
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


def on_store_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("event store unavailable: %r", exc)
    return problem_response(
        503,
        "store-unavailable",
        "The event store is unavailable",
        "nothing was stored; retry shortly",
        {"Retry-After": "2"},
    )


def on_undecodable_event(_: Request, exc: Exception) -> JSONResponse:
    log.error("a stored event does not decode: %s", exc)
    return problem_response(
        409,
        "undecodable-event",
        "An event of this incident cannot be read",
        "its stored form no longer decodes; verifying the log names the event",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, on_domain_error)
    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(MapperDeserialisationError, on_undecodable_event)
    for unavailable in STORE_UNAVAILABLE:
        app.add_exception_handler(unavailable, on_store_unavailable)
