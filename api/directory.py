"""The agency directory and routing suggestions (Kenosha 2.1 IV.D)."""

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DirectoryReader, Ledger, Writer
from api.problems import problem_responses
from api.schemas.reads import RuleOut

ERRORS = problem_responses(403, 404, 422)
router = APIRouter(prefix="/v1", tags=["directory"], responses=ERRORS)


class AgencyRead(BaseModel):
    code: str
    name: str
    jurisdiction: str
    profile_id: str
    federal: bool


class SuggestionRead(BaseModel):
    agency: str
    reason: str
    rule: RuleOut


@router.get("/agencies")
def list_agencies(_: DirectoryReader, ledger: Ledger) -> list[AgencyRead]:
    """Every agency the service knows, with the policy profile it works under."""
    return [AgencyRead.model_validate(a, from_attributes=True) for a in ledger.directory.agencies()]


@router.get("/routing/suggestions")
def suggestions(
    writer: Writer,
    ledger: Ledger,
    incident_id: UUID | None = None,
    contiguous_to: str | None = None,
) -> list[SuggestionRead]:
    """Whom to ask next under the caller's policy, for a new incident or an open one."""
    found = ledger.suggest_agencies(writer.agency, incident_id, contiguous_to, datetime.now(UTC))
    return [SuggestionRead.model_validate(s, from_attributes=True) for s in found]
