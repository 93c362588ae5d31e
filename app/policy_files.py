"""Loads the agency directory and the policy profiles from TOML files, validated at start.

Built-in files live in app/policies; MAL_POLICY_DIR adds a directory of the same layout
(agencies.toml and profiles/*.toml), so an agency can be added without a code change.
"""

import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.directory import Agency, Directory
from domain.policy import (
    Action,
    Authority,
    ExceptionRule,
    ObligationKind,
    ObligationRule,
    PolicyProfile,
    PriorApproval,
    Routing,
    Trigger,
    normalize,
)

BUILT_IN = Path(__file__).parent / "policies"
Word = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthorityFile(Strict):
    section: Word
    min_rank: str | None = None
    ranks: list[str] = []
    roles: list[str] = []


class ObligationFile(Strict):
    trigger: Trigger
    kind: ObligationKind
    recipients: list[Word] = Field(min_length=1)
    section: Word
    recipient_roles: dict[Word, Word] = {}  # a recipient: the role that makes them one

    @model_validator(mode="after")
    def roles_name_recipients(self) -> "ObligationFile":
        unknown = set(self.recipient_roles) - set(self.recipients)
        if unknown:
            raise ValueError(f"recipient_roles names no recipient: {', '.join(sorted(unknown))}")
        return self


class ExceptionFile(Strict):
    section: Word
    owes: list[ObligationFile] = []


class PriorApprovalFile(Strict):
    section: Word
    made_by_approver: Word


class RoutingFile(Strict):
    primary: str
    fallback: list[str] = []
    section: Word


class ProfileFile(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    version: int = Field(ge=1)
    effective: date
    title: Word
    default_section: Word
    ranks: list[str] = Field(min_length=1)
    authorities: dict[Action, AuthorityFile] = {}
    obligations: list[ObligationFile] = []
    prior_approval: PriorApprovalFile | None = None
    emergency_request: ExceptionFile | None = None
    emergency_response: ExceptionFile | None = None
    mou_partners: list[str] = []
    mou_section: str = ""
    routing: RoutingFile | None = None
    not_mutual_aid: list[str] = []
    not_mutual_aid_section: str = ""
    officer_in_charge_section: str | None = None
    visitors_in_charge_section: str | None = None
    federal_investigation_section: str | None = None
    critical_incident_section: str | None = None


class AgencyFile(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
    name: Word
    jurisdiction: Word
    profile: str
    federal: bool = False


class AgenciesFile(Strict):
    agencies: list[AgencyFile]


def load_directory(extra: Path | None = None) -> Directory:
    folders = [BUILT_IN] + ([extra] if extra else [])
    profiles = [load_profile(p) for f in folders for p in sorted(f.glob("profiles/*.toml"))]
    agencies = [
        Agency(a.code, a.name, a.jurisdiction, a.profile, a.federal)
        for folder in folders
        if (folder / "agencies.toml").exists()
        for a in AgenciesFile.model_validate(read(folder / "agencies.toml")).agencies
    ]
    return Directory(agencies, profiles)


def load_profile(path: Path) -> PolicyProfile:
    try:
        data = ProfileFile.model_validate(read(path))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    return to_profile(data)


def read(path: Path) -> dict[str, object]:
    with path.open("rb") as file:
        return tomllib.load(file)


def to_profile(f: ProfileFile) -> PolicyProfile:
    ranks = tuple(map(normalize, f.ranks))
    for action, authority in f.authorities.items():
        if authority.min_rank and normalize(authority.min_rank) not in ranks:
            raise ValueError(f"{f.id}: {action}.min_rank {authority.min_rank} is not a rank")
    return PolicyProfile(
        policy_id=f.id,
        version=f.version,
        effective=f.effective,
        title=f.title,
        ranks=ranks,
        authorities={a: to_authority(x) for a, x in f.authorities.items()},
        default_section=f.default_section,
        obligations=tuple(map(to_obligation, f.obligations)),
        prior_approval=PriorApproval(f.prior_approval.section, f.prior_approval.made_by_approver)
        if f.prior_approval
        else None,
        emergency_request=to_exception(f.emergency_request),
        emergency_response=to_exception(f.emergency_response),
        mou_partners=tuple(f.mou_partners),
        mou_section=f.mou_section,
        routing=Routing(f.routing.primary, tuple(f.routing.fallback), f.routing.section)
        if f.routing
        else None,
        not_mutual_aid=tuple(map(normalize, f.not_mutual_aid)),
        not_mutual_aid_section=f.not_mutual_aid_section,
        officer_in_charge_section=f.officer_in_charge_section,
        visitors_in_charge_section=f.visitors_in_charge_section,
        federal_investigation_section=f.federal_investigation_section,
        critical_incident_section=f.critical_incident_section,
    )


def to_authority(f: AuthorityFile) -> Authority:
    return Authority(
        section=f.section,
        min_rank=normalize(f.min_rank) if f.min_rank else None,
        ranks=tuple(map(normalize, f.ranks)),
        roles=tuple(map(normalize, f.roles)),
    )


def to_obligation(f: ObligationFile) -> ObligationRule:
    roles = {recipient: normalize(role) for recipient, role in f.recipient_roles.items()}
    return ObligationRule(f.trigger, f.kind, tuple(f.recipients), f.section, roles)


def to_exception(f: ExceptionFile | None) -> ExceptionRule | None:
    return ExceptionRule(f.section, tuple(map(to_obligation, f.owes))) if f else None
