"""Who calls: a key's agency and role, and the scopes the role grants (CJIS least privilege).

Each role gets only what its holder needs. A CAD system writes and reads for its agency; a
dashboard reads its agency's projections; an auditor reads history, the past and verification
for its agency; a state auditor does so for every agency and the whole log; an administrator
manages its agency's keys and reads the directory, and touches no incident.
"""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CAD = "cad"
    DASHBOARD = "dashboard"
    AUDITOR = "auditor"
    STATE_AUDITOR = "state-auditor"
    ADMIN = "admin"


class Scope(StrEnum):
    DIRECTORY = "directory:read"  # the agencies and their policy profiles
    WRITE = "incidents:write"  # every command, and whom to ask next
    READ = "incidents:read"  # incidents, reports and the live stream
    DASHBOARD = "dashboard:read"  # the board and statistics of one's own agency
    AUDIT = "audit:read"  # history, the incident as of a moment, verification, access log
    ALL_AGENCIES = "audit:all-agencies"  # every incident, the whole log, checkpoints, bundles
    KEYS = "keys:admin"  # create, list, rotate and revoke the agency's keys


SCOPES: dict[Role, frozenset[Scope]] = {
    Role.CAD: frozenset({Scope.DIRECTORY, Scope.WRITE, Scope.READ, Scope.DASHBOARD}),
    Role.DASHBOARD: frozenset({Scope.DIRECTORY, Scope.READ, Scope.DASHBOARD}),
    Role.AUDITOR: frozenset({Scope.DIRECTORY, Scope.READ, Scope.DASHBOARD, Scope.AUDIT}),
    Role.STATE_AUDITOR: frozenset({Scope.DIRECTORY, Scope.READ, Scope.AUDIT, Scope.ALL_AGENCIES}),
    Role.ADMIN: frozenset({Scope.DIRECTORY, Scope.KEYS}),
}

# The roles an agency's admin may create, list, rotate and revoke: those confined to one
# agency. A key whose role reaches every agency (a state auditor's) is no agency's own, even
# one made under an agency's code: only the operator (the CLI) manages it.
AGENCY_ROLES = tuple(role for role in Role if Scope.ALL_AGENCIES not in SCOPES[role])


@dataclass(frozen=True)
class Principal:
    key_id: str
    agency: str
    role: Role

    @property
    def scopes(self) -> frozenset[Scope]:
        return SCOPES[self.role]

    @property
    def sees(self) -> str | None:
        """The agency whose incidents this caller may see; None for every agency."""
        return None if Scope.ALL_AGENCIES in self.scopes else self.agency
