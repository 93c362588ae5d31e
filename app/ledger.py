"""The use-case layer: one `eventsourcing` Application whose methods load, command, save."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from app.settings import APPLICATION_NAME
from app.transcoding import register_value_types
from domain.directory import Directory, PolicyBook
from domain.errors import (
    ConcurrentModification,
    DuplicateIncident,
    IncidentNotFound,
    VersionMismatch,
)
from domain.incident import Incident
from domain.routing import Suggestion, suggest
from domain.values import Actor, RequestDetails, ResponseDetails, Withdrawal

Command = Callable[[Incident], None]


@dataclass(frozen=True)
class Written:
    """What a writer needs: the new version (its ETag) and the log position (to read its
    own write from the projections)."""

    incident_id: UUID
    version: int
    position: int


class MutualAidLedger(Application[UUID]):
    name = APPLICATION_NAME

    def __init__(
        self,
        env: dict[str, str],
        directory: Directory,
        retries: int = 5,
    ) -> None:
        super().__init__(env)
        self.directory = directory
        self._retries = retries
        # Called with the log position after each save; the composition root points it at
        # the in-process projection runner, so a write is projected without waiting a poll.
        self.on_saved: Callable[[int], None] = lambda position: None

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_types(transcoder)

    def open_incident(
        self,
        *,
        case_number: str,
        nature: str,
        kind: str,
        location: str,
        request: RequestDetails,
        actor: Actor,
        occurred_at: datetime,
        scene_management: str | None = None,
    ) -> Written:
        incident = Incident.open(
            case_number=case_number,
            nature=nature,
            kind=kind,
            location=location,
            scene_management=scene_management,
            request=request,
            actor=actor,
            occurred_at=occurred_at,
            book=self.book(occurred_at),
        )
        return self._save_new(incident)

    def report_activity(
        self,
        *,
        case_number: str,
        nature: str,
        location: str,
        jurisdiction: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> Written:
        incident = Incident.report_activity(
            case_number=case_number,
            nature=nature,
            location=location,
            jurisdiction=jurisdiction,
            actor=actor,
            occurred_at=occurred_at,
            book=self.book(occurred_at),
        )
        return self._save_new(incident)

    def request_assistance(
        self,
        incident_id: UUID,
        request: RequestDetails,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.request_assistance(request, actor, occurred_at, self.book(occurred_at)),
        )

    def approve(
        self,
        incident_id: UUID,
        number: int,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.approve(number, actor, occurred_at, self.book(occurred_at)),
        )

    def respond(
        self,
        incident_id: UUID,
        number: int,
        response: ResponseDetails,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.respond(number, response, actor, occurred_at, self.book(occurred_at)),
        )

    def recall(
        self,
        incident_id: UUID,
        number: int,
        withdrawal: Withdrawal,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.recall(number, withdrawal, actor, occurred_at, self.book(occurred_at)),
        )

    def release(
        self,
        incident_id: UUID,
        number: int,
        withdrawal: Withdrawal,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.release(number, withdrawal, actor, occurred_at),
        )

    def cancel(
        self,
        incident_id: UUID,
        number: int,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.cancel(number, reason, actor, occurred_at),
        )

    def record_involvement(
        self,
        incident_id: UUID,
        number: int,
        badge: str,
        involvement: str,
        observations: str,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.record_involvement(
                number, badge, involvement, observations, actor, occurred_at
            ),
        )

    def fulfil(
        self,
        incident_id: UUID,
        number: int,
        recipients: tuple[str, ...],
        note: str,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.fulfil(number, recipients, note, actor, occurred_at),
        )

    def close_incident(
        self,
        incident_id: UUID,
        outcome: str,
        release_all: bool,
        actor: Actor,
        occurred_at: datetime,
        expected_version: int | None = None,
    ) -> Written:
        return self._update(
            incident_id,
            actor,
            expected_version,
            lambda i: i.close_incident(outcome, release_all, actor, occurred_at),
        )

    def book(self, occurred_at: datetime) -> PolicyBook:
        """The policies in force on the day the step happened."""
        return PolicyBook(self.directory, occurred_at.date())

    def suggest_agencies(
        self, agency: str, incident_id: UUID | None, contiguous_to: str | None, today: datetime
    ) -> list[Suggestion]:
        """Kenosha IV.D routing, from the caller's profile and what the incident asked so far."""
        asked = self._visible_incident(incident_id, agency).asked() if incident_id else {}
        return suggest(self.directory.profile_for(agency, today.date()), asked, contiguous_to)

    def history(self, incident_id: UUID, agency: str) -> Sequence[Any]:
        """Audit reads the event log itself, on purpose: it must not trust a projection."""
        self._visible_incident(incident_id, agency)
        return list(self.events.get(incident_id))

    def _update(
        self, incident_id: UUID, actor: Actor, expected_version: int | None, command: Command
    ) -> Written:
        """Run the command against the newest state. A collision with another writer re-runs
        it against the state that writer left, so every rule is checked again; with If-Match
        the caller asked for exactly one version, so a collision is its answer."""
        for _ in range(self._retries):
            incident = self._visible_incident(incident_id, actor.agency)
            if expected_version is not None and incident.version != expected_version:
                raise VersionMismatch(
                    f"incident is at version {incident.version}, not {expected_version}"
                )
            command(incident)
            try:
                return self._save(incident)
            except IntegrityError:
                if expected_version is not None:
                    raise VersionMismatch("another write reached the incident first") from None
        raise ConcurrentModification(f"gave up after {self._retries} collisions")

    def _visible_incident(self, incident_id: UUID, agency: str) -> Incident:
        try:
            incident: Incident = self.repository.get(incident_id)
        except AggregateNotFoundError:
            raise IncidentNotFound(f"no incident {incident_id}") from None
        if not incident.is_party(agency):
            raise IncidentNotFound(f"no incident {incident_id}")
        return incident

    def _save_new(self, incident: Incident) -> Written:
        try:
            return self._save(incident)
        except IntegrityError:
            raise DuplicateIncident(
                f"{incident.requesting_agency} already has case number {incident.case_number}"
            ) from None

    def _save(self, incident: Incident) -> Written:
        recordings = self.save(incident)
        position = recordings[-1].notification.id
        self.on_saved(position)
        return Written(incident.id, incident.version, position)
