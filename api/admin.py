"""Key administration for an agency's administrators: list, create, rotate and revoke the
agency's own keys. Keys are shown once, when made; only their hashes are stored. A state
auditor's key spans every agency, so only the operator's CLI makes, rotates or revokes one;
here it is no agency's key, even one made under the agency's code (app/principals.py:
AGENCY_ROLES)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, GetPydanticSchema, StrictInt
from pydantic_core import core_schema

from api.deps import KeyAdmin, ServicesDep
from api.examples import example
from api.problems import ApiProblem, problem_responses
from api.schemas.commands import Body, Name
from app.keys import KeyEnded, KeyNotFound, create_key, end_key, list_keys, rotate_key
from app.principals import AGENCY_ROLES, Role

ERRORS = problem_responses(403, 404, 422)
router = APIRouter(prefix="/v1/admin/keys", tags=["admin"], responses=ERRORS)
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12,64}$", description="From the key list.")]


class KeyOut(BaseModel):
    key_id: str
    agency: str
    role: str
    label: str
    created_at: datetime
    valid_until: datetime | None
    rotated_at: datetime | None  # replaced then by a new key; it works to valid_until


class NewKey(BaseModel):
    key: str = Field(description="Shown this once; store it in the client's secret store.")


# Literal[...] of AGENCY_ROLES' names: validated, and an explicit enum in the OpenAPI schema.
AgencyRole = Annotated[
    str,
    GetPydanticSchema(
        lambda _type, _handler: core_schema.literal_schema([r.value for r in AGENCY_ROLES])
    ),
]


class KeyIn(Body):
    role: AgencyRole
    label: Name
    valid_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None


class RotationIn(Body):
    grace_hours: Annotated[StrictInt, Field(ge=0, le=720)] = 24


KEY_FIELDS = ("agency", "role", "label", "created_at", "valid_until", "rotated_at")


@router.get("")
def agency_keys(admin: KeyAdmin, s: ServicesDep) -> list[KeyOut]:
    """The agency's keys by id, never the keys themselves."""
    return [
        KeyOut(key_id=k["key_hash"], **{f: k[f] for f in KEY_FIELDS})
        for k in list_keys(s.read_models, admin.agency)
    ]


NEW_KEY = {"role": "dashboard", "label": "Watch commander's board", "valid_days": 365}
KeyBody = Annotated[KeyIn, example("A year-long key for the watch commander's board", NEW_KEY)]
RotationBody = Annotated[
    RotationIn, example("Clients have a day to move over", {"grace_hours": 24})
]


@router.post("", status_code=201)
def new_key(body: KeyBody, admin: KeyAdmin, s: ServicesDep) -> NewKey:
    valid_for = timedelta(days=body.valid_days) if body.valid_days else None
    role = Role(body.role)
    return NewKey(key=create_key(s.read_models, admin.agency, body.label, valid_for, role))


@router.post("/{key_id}/revoke")
def revoke(key_id: KeyId, admin: KeyAdmin, s: ServicesDep, request: Request) -> dict[str, str]:
    """The key stops working now (in other API processes within seconds)."""
    with key_of(admin.agency):
        end_key(s.read_models, key_id, datetime.now(UTC), admin.agency)
    request.app.state.keys.forget()
    return {"key_id": key_id, "status": "revoked"}


@router.post("/{key_id}/rotate", status_code=201, responses=problem_responses(409))
def rotate(
    key_id: KeyId, body: RotationBody, admin: KeyAdmin, s: ServicesDep, request: Request
) -> NewKey:
    """A new key for the same role and holder; the old one works for the grace hours more."""
    with key_of(admin.agency):
        grace = timedelta(hours=body.grace_hours)
        key = rotate_key(s.read_models, key_id, grace, admin.agency)
    request.app.state.keys.forget()
    return NewKey(key=key)


@contextmanager
def key_of(agency: str) -> Iterator[None]:
    """Another agency's key answers 404 like a key that does not exist. An ended key of the
    agency's own is listed with its end, so 409 tells the admin no more than it knows."""
    try:
        yield
    except KeyNotFound:
        raise ApiProblem(
            404, "key-not-found", "No such key", f"{agency} has no key with this id"
        ) from None
    except KeyEnded as error:
        raise ApiProblem(409, "key-ended", "The key has ended", str(error)) from None
