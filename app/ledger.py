"""The use-case layer: one `eventsourcing` Application whose methods load, command, save."""

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Cache,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper

from app.settings import APPLICATION_NAME
from app.store import IdempotencyRecord, IdempotentRecorder
from app.transcoding import TypedEventMapper, register_value_types
from domain.corrections import Correctable
from domain.directory import Directory, PolicyBook
from domain.errors import (
    ConcurrentModification,
    DomainError,
    DuplicateIncident,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IncidentNotFound,
    VersionMismatch,
)
from domain.incident import Incident
from domain.routing import Suggestion, suggest
from domain.values import Actor, RequestDetails, ResponseDetails, Withdrawal
from domain.visibility import Audience, audience_of

log = logging.getLogger(__name__)
Command = Callable[[Incident, PolicyBook], None]


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key, scoped to the caller's agency, and the hash of its request."""

    agency: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Context:
    """Who writes, when it happened, and the caller's preconditions."""

    actor: Actor
    occurred_at: datetime
    expected_version: int | None = None
    idempotency: Idempotency | None = None


@dataclass(frozen=True)
class Written:
    """What a writer needs: the new version (its ETag) and the log position (to read its
    own write from the projections)."""

    incident_id: UUID
    version: int
    position: int


class MutualAidLedger(Application[UUID]):
    name = APPLICATION_NAME
    # Every tenth event an incident's state is snapshotted, so that a process that has not
    # cached it loads the newest snapshot and replays at most nine events after it.
    snapshotting_intervals = {Incident: 10}

    def __init__(self, env: dict[str, str], directory: Directory, retries: int = 5) -> None:
        super().__init__(env)
        self.directory = directory
        self._retries = retries
        self._in_flight: set[tuple[str, str]] = set()
        self._in_flight_lock = threading.Lock()
        # Called with the log position after each save; the composition root points it at
        # the in-process projection runner, so a write is projected without waiting a poll.
        self.on_saved: Callable[[int], None] = lambda position: None

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(self.construct_transcoder(), TypedEventMapper)

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """Taken after the events are stored, which the caller is then told: a snapshot
        only saves replaying, so failing to take one must not fail the command."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except Exception:
            log.exception("no snapshot of %s at version %s", aggregate_id, version)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_value_types(transcoder)

    # -- commands ---------------------------------------------------------------------------

    def open_incident(
        self,
        ctx: Context,
        *,
        case_number: str,
        nature: str,
        kind: str,
        location: str,
        request: RequestDetails,
        scene_management: str | None = None,
    ) -> Written:
        def create() -> Incident:
            return Incident.open(
                case_number=case_number,
                nature=nature,
                kind=kind,
                location=location,
                scene_management=scene_management,
                request=request,
                actor=ctx.actor,
                occurred_at=ctx.occurred_at,
                book=self.book(ctx.occurred_at),
            )

        return self._create(ctx, create)

    def report_activity(
        self, ctx: Context, *, case_number: str, nature: str, location: str, jurisdiction: str
    ) -> Written:
        def create() -> Incident:
            return Incident.report_activity(
                case_number=case_number,
                nature=nature,
                location=location,
                jurisdiction=jurisdiction,
                actor=ctx.actor,
                occurred_at=ctx.occurred_at,
                book=self.book(ctx.occurred_at),
            )

        return self._create(ctx, create)

    def request_assistance(
        self, incident_id: UUID, request: RequestDetails, ctx: Context
    ) -> Written:
        return self._update(
            incident_id, ctx, lambda i, book: i.request_assistance(request, *at(ctx), book)
        )

    def approve(self, incident_id: UUID, number: int, ctx: Context) -> Written:
        return self._update(incident_id, ctx, lambda i, book: i.approve(number, *at(ctx), book))

    def respond(
        self, incident_id: UUID, number: int, response: ResponseDetails, ctx: Context
    ) -> Written:
        return self._update(
            incident_id, ctx, lambda i, book: i.respond(number, response, *at(ctx), book)
        )

    def recall(
        self, incident_id: UUID, number: int, withdrawal: Withdrawal, ctx: Context
    ) -> Written:
        return self._update(
            incident_id, ctx, lambda i, book: i.recall(number, withdrawal, *at(ctx), book)
        )

    def release(
        self, incident_id: UUID, number: int, withdrawal: Withdrawal, ctx: Context
    ) -> Written:
        return self._update(incident_id, ctx, lambda i, _: i.release(number, withdrawal, *at(ctx)))

    def record_arrival(self, incident_id: UUID, number: int, ctx: Context) -> Written:
        return self._update(incident_id, ctx, lambda i, _: i.record_arrival(number, *at(ctx)))

    def cancel(self, incident_id: UUID, number: int, reason: str, ctx: Context) -> Written:
        return self._update(incident_id, ctx, lambda i, _: i.cancel(number, reason, *at(ctx)))

    def record_involvement(
        self,
        incident_id: UUID,
        number: int,
        badge: str,
        involvement: str,
        observations: str,
        ctx: Context,
    ) -> Written:
        return self._update(
            incident_id,
            ctx,
            lambda i, _: i.record_involvement(number, badge, involvement, observations, *at(ctx)),
        )

    def fulfil(
        self, incident_id: UUID, number: int, recipients: tuple[str, ...], note: str, ctx: Context
    ) -> Written:
        return self._update(
            incident_id, ctx, lambda i, _: i.fulfil(number, recipients, note, *at(ctx))
        )

    def correct(
        self,
        incident_id: UUID,
        fact: Correctable,
        number: int | None,
        value: str,
        reason: str,
        ctx: Context,
    ) -> Written:
        return self._update(
            incident_id, ctx, lambda i, _: i.correct(fact, number, value, reason, *at(ctx))
        )

    def close_incident(
        self, incident_id: UUID, outcome: str, release_all: bool, ctx: Context
    ) -> Written:
        return self._update(
            incident_id, ctx, lambda i, _: i.close_incident(outcome, release_all, *at(ctx))
        )

    # -- queries ----------------------------------------------------------------------------

    def book(self, occurred_at: datetime) -> PolicyBook:
        """The policies in force on the day the step happened."""
        return PolicyBook(self.directory, occurred_at.date())

    def suggest_agencies(
        self, agency: str, incident_id: UUID | None, contiguous_to: str | None, today: datetime
    ) -> list[Suggestion]:
        """Kenosha IV.D routing, from the caller's profile and what the incident asked so far."""
        asked = self._visible_incident(incident_id, agency).asked() if incident_id else {}
        return suggest(self.directory.profile_for(agency, today.date()), asked, contiguous_to)

    def positioned_history(
        self, incident_id: UUID, agency: str | None
    ) -> tuple[list[tuple[Any, int]], Audience]:
        """The incident's events with their log positions, and who may see which. Audit reads
        the event log itself, on purpose: it must not trust a projection. ``agency`` None
        stands for an auditor of every agency."""
        recorder = cast(IdempotentRecorder, self.recorder)
        positions = {v: p for p, v, _, _ in recorder.positioned_events(incident_id)}
        events = list(self.events.get(incident_id))
        audience = audience_of(events)
        if not events or (agency is not None and agency not in audience.parties()):
            raise IncidentNotFound(f"no incident {incident_id}")
        return [(e, positions[e.originator_version]) for e in events], audience

    def differing_snapshots(self, incident_id: UUID) -> list[int]:
        """Versions of the incident's snapshots that do not hold the state its events give.
        Every later command is checked against a snapshot, and snapshots are not sealed, so
        an auditor checks them against the (sealed) events: one replay, compared on the way."""
        assert self.snapshots is not None
        stored = cast(Iterable[Incident.Snapshot], self.snapshots.get(incident_id))
        snapshots = {s.originator_version: s.state for s in stored}
        encode = self.mapper.transcoder.encode
        differing, incident = [], None
        for event in cast(Iterable[Incident.Event], self.events.get(incident_id)):
            incident = event.mutate(incident)
            state = snapshots.pop(event.originator_version, None)
            if state and encode(state) != encode(Incident.Snapshot.take(incident).state):
                differing.append(event.originator_version)
        return sorted([*differing, *snapshots])  # left over: versions no event reached

    # -- writing ----------------------------------------------------------------------------

    def _create(self, ctx: Context, create: Callable[[], Incident]) -> Written:
        with self._once(ctx.idempotency) as replayed:
            if replayed:
                return replayed
            incident = create()
            try:
                return self._save(incident, ctx.idempotency)
            except IntegrityError:
                if twin := self._replay(ctx.idempotency):
                    return twin
                raise DuplicateIncident(
                    f"{ctx.actor.agency} already has case number {incident.case_number}"
                ) from None

    def _update(self, incident_id: UUID, ctx: Context, command: Command) -> Written:
        """Run the command against the cached state, which is the newest unless another
        process wrote since. Either way nothing wrong is stored: a save on a stale state
        collides with that process's events at their version, and the command re-runs against
        the state that writer left, so every rule is checked again; a refusal is given only
        if the store's newest state refuses too. With If-Match the caller asked for exactly
        one version, so a collision is its answer."""
        with self._once(ctx.idempotency) as replayed:
            if replayed:
                return replayed
            for attempt in range(self._retries):
                if attempt:
                    self._forget(incident_id)
                try:
                    return self._run(incident_id, ctx, command)
                except DomainError:
                    if attempt:
                        raise
                except IntegrityError:
                    if twin := self._replay(ctx.idempotency):
                        return twin
                    if ctx.expected_version is not None:
                        raise VersionMismatch("another write reached the incident first") from None
            raise ConcurrentModification(f"gave up after {self._retries} collisions")

    def _run(self, incident_id: UUID, ctx: Context, command: Command) -> Written:
        incident = self._visible_incident(incident_id, ctx.actor.agency)
        expected = ctx.expected_version
        if expected is not None and incident.version != expected:
            raise VersionMismatch(f"incident is at version {incident.version}, not {expected}")
        command(incident, self.book(ctx.occurred_at))
        return self._save(incident, ctx.idempotency)

    def _forget(self, incident_id: UUID) -> None:
        """Drop the cached state, so the next load reads the store."""
        with suppress(KeyError):
            cast(Cache[UUID, Incident], self.repository.cache).get(incident_id, evict=True)

    @contextmanager
    def _once(self, idempotency: Idempotency | None) -> Iterator[Written | None]:
        """Answer a finished key from its record; refuse a key still running in this process.
        Twins running in different processes meet at the key's unique row, written with the
        events: the loser finds the winner's record and answers with it."""
        if idempotency is None:
            yield None
            return
        if replayed := self._replay(idempotency):
            yield replayed
            return
        scope = (idempotency.agency, idempotency.key)
        with self._in_flight_lock:
            if scope in self._in_flight:
                raise IdempotencyKeyInFlight(f"key {idempotency.key} is still being processed")
            self._in_flight.add(scope)
        try:
            yield None
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(scope)

    def _replay(self, idempotency: Idempotency | None) -> Written | None:
        if idempotency is None:
            return None
        recorder = cast(IdempotentRecorder, self.recorder)
        record = recorder.find_idempotency(idempotency.agency, idempotency.key)
        if record is None:
            return None
        if record.request_hash != idempotency.request_hash:
            raise IdempotencyKeyReused(f"key {idempotency.key} was used for another request")
        position = recorder.position_of(record.incident_id, record.version)
        return Written(record.incident_id, record.version, position)

    def _visible_incident(self, incident_id: UUID, agency: str) -> Incident:
        try:
            incident: Incident = self.repository.get(incident_id)
        except AggregateNotFoundError:
            raise IncidentNotFound(f"no incident {incident_id}") from None
        if not incident.is_party(agency):
            raise IncidentNotFound(f"no incident {incident_id}")
        return incident

    def _save(self, incident: Incident, idempotency: Idempotency | None) -> Written:
        record = None
        if idempotency:
            key = (idempotency.agency, idempotency.key, idempotency.request_hash)
            record = IdempotencyRecord(*key, incident.id, incident.version)
        recordings = self.save(incident, idempotency=record)
        position = recordings[-1].notification.id
        self.on_saved(position)
        return Written(incident.id, incident.version, position)


def at(ctx: Context) -> tuple[Actor, datetime]:
    return ctx.actor, ctx.occurred_at
