"""The agencies the service knows, each with the policy profile it works under."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from domain.errors import DomainError
from domain.policy import PolicyProfile


class UnknownAgency(DomainError):
    slug = "unknown-agency"
    title = "The agency is not in the directory"


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    jurisdiction: str
    profile_id: str
    federal: bool = False


class Directory:
    def __init__(self, agencies: Iterable[Agency], profiles: Iterable[PolicyProfile]) -> None:
        self._agencies = {agency.code: agency for agency in agencies}
        self._names = MappingProxyType({a.code: a.name for a in self._agencies.values()})
        self._versions: dict[str, list[PolicyProfile]] = {}
        for profile in sorted(profiles, key=lambda p: p.version):
            known = self._versions.setdefault(profile.policy_id, [])
            if known and known[-1].version == profile.version:
                raise ValueError(f"profile {profile.policy_id} v{profile.version} is given twice")
            known.append(profile)
        missing = {a.profile_id for a in self._agencies.values()} - set(self._versions)
        if missing:
            raise ValueError(f"agencies name unknown profiles: {', '.join(sorted(missing))}")

    def agency(self, code: str) -> Agency:
        try:
            return self._agencies[code]
        except KeyError:
            raise UnknownAgency(f"{code} is not a registered agency") from None

    def agencies(self) -> list[Agency]:
        return sorted(self._agencies.values(), key=lambda a: a.code)

    def names(self) -> Mapping[str, str]:
        """Each agency's name by its code."""
        return self._names

    def profile_for(self, code: str, on: date) -> PolicyProfile:
        """The newest version of the agency's profile in effect on the given day."""
        versions = self._versions[self.agency(code).profile_id]
        in_effect = [p for p in versions if p.effective <= on]
        return in_effect[-1] if in_effect else versions[0]


class PolicyBook:
    """The directory as it stood on one day: what the aggregate consults for one command, so a
    late entry is judged by the policy in force when it happened."""

    def __init__(self, directory: Directory, day: date) -> None:
        self._directory = directory
        self._day = day

    def agency(self, code: str) -> Agency:
        return self._directory.agency(code)

    def profile(self, code: str) -> PolicyProfile:
        return self._directory.profile_for(code, self._day)
