"""The use-case layer: one `eventsourcing` Application; its command methods queue to one
writer thread that loads, commands and stores in batches (see MutualAidLedger)."""

import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from queue import SimpleQueue
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application, LRUCache
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
    StoredEvent,
)

from app.settings import APPLICATION_NAME
from app.store import IdempotencyRecord, IdempotentRecorder
from app.transcoding import TypedEventMapper, register_value_types
from domain.corrections import Correctable
from domain.directory import Directory, PolicyBook
from domain.errors import (
    ConcurrentModification,
    DuplicateIncident,
    IdempotencyKeyReused,
    IncidentNotFound,
    VersionMismatch,
)
from domain.incident import Incident, OutdatedSnapshot
from domain.routing import Suggestion, suggest
from domain.values import Actor, Officer, RequestDetails, ResponseDetails, Withdrawal
from domain.visibility import Audience, audience_of

log = logging.getLogger(__name__)
Command = Callable[[Incident, PolicyBook], None]
BATCH = 200  # commands stored in one transaction at most
SNAPSHOT_EVERY = 10  # events


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


# The records of Idempotency-Keys used before, by (agency, key).
Answered = dict[tuple[str, str], IdempotencyRecord]
Pending = Future[Written]  # resolved once the command's events are stored, or refused


@dataclass(frozen=True)
class Job:
    """A command waiting for the writer. ``create`` makes a new incident; otherwise
    ``command`` changes the incident's newest state."""

    incident_id: UUID
    ctx: Context
    command: Command | None = None
    create: Callable[[], Incident] | None = None
    done: Pending = field(default_factory=Future)

    def scopes(self) -> set[object]:
        """Two jobs that share a scope (an incident, a key) are never stored together: the
        second must see what the first stored (its state, or its key's record)."""
        key = self.ctx.idempotency
        return {self.incident_id, *([(key.agency, key.key)] if key else [])}


@dataclass(frozen=True)
class Prepared:
    job: Job
    incident: Incident  # with the command's events pending


class MutualAidLedger(Application[UUID]):
    """Commands are queued to one writer thread, which runs those waiting against the
    incidents it keeps in memory and stores their events in one transaction (group commit):
    each command is still checked, stored and answered on its own, but many share one commit
    and one turn on the store's write lock."""

    name = APPLICATION_NAME
    is_snapshotting_enabled = True  # taken by the writer (see _snapshot)

    def __init__(
        self, env: dict[str, str], directory: Directory, retries: int = 5, cache_size: int = 1000
    ) -> None:
        super().__init__(env)
        self.directory = directory
        self._retries = retries
        # Only the writer thread touches these incidents, so a command changes them in place.
        self._recent: LRUCache[UUID, Incident] = LRUCache(cache_size)
        self._jobs: SimpleQueue[Job | None] = SimpleQueue()
        self._open = True
        self._open_lock = threading.Lock()  # no job is queued after the stop
        self._writer = threading.Thread(target=self._write, name="ledger-writer", daemon=True)
        self._writer.start()
        # Called with the log position after each save; the composition root points it at
        # the in-process projection runner, so a write is projected without waiting a poll.
        self.on_saved: Callable[[int], None] = lambda position: None

    def close(self) -> None:
        """Stores the jobs queued, then stops the writer."""
        with self._open_lock:
            if self._open:
                self._open = False
                self._jobs.put(None)
        self._writer.join()
        super().close()

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(self.construct_transcoder(), TypedEventMapper)

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
    ) -> Pending:
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

        return self._create(Incident.create_id(ctx.actor.agency, case_number), ctx, create)

    def report_activity(
        self, ctx: Context, *, case_number: str, nature: str, location: str, jurisdiction: str
    ) -> Pending:
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

        return self._create(Incident.create_id(ctx.actor.agency, case_number), ctx, create)

    def request_assistance(
        self, incident_id: UUID, request: RequestDetails, ctx: Context
    ) -> Pending:
        return self._update(
            incident_id, ctx, lambda i, book: i.request_assistance(request, *at(ctx), book)
        )

    def approve(self, incident_id: UUID, number: int, ctx: Context) -> Pending:
        return self._update(incident_id, ctx, lambda i, book: i.approve(number, *at(ctx), book))

    def respond(
        self, incident_id: UUID, number: int, response: ResponseDetails, ctx: Context
    ) -> Pending:
        return self._update(
            incident_id, ctx, lambda i, book: i.respond(number, response, *at(ctx), book)
        )

    def recall(
        self, incident_id: UUID, number: int, withdrawal: Withdrawal, ctx: Context
    ) -> Pending:
        return self._update(
            incident_id, ctx, lambda i, book: i.recall(number, withdrawal, *at(ctx), book)
        )

    def release(
        self, incident_id: UUID, number: int, withdrawal: Withdrawal, ctx: Context
    ) -> Pending:
        return self._update(incident_id, ctx, lambda i, _: i.release(number, withdrawal, *at(ctx)))

    def record_arrival(self, incident_id: UUID, number: int, ctx: Context) -> Pending:
        return self._update(incident_id, ctx, lambda i, _: i.record_arrival(number, *at(ctx)))

    def cancel(self, incident_id: UUID, number: int, reason: str, ctx: Context) -> Pending:
        return self._update(incident_id, ctx, lambda i, _: i.cancel(number, reason, *at(ctx)))

    def name_officers(
        self, incident_id: UUID, number: int, officers: tuple[Officer, ...], ctx: Context
    ) -> Pending:
        return self._update(
            incident_id, ctx, lambda i, _: i.name_officers(number, officers, *at(ctx))
        )

    def record_involvement(
        self,
        incident_id: UUID,
        number: int,
        badge: str,
        involvement: str,
        observations: str,
        ctx: Context,
    ) -> Pending:
        return self._update(
            incident_id,
            ctx,
            lambda i, _: i.record_involvement(number, badge, involvement, observations, *at(ctx)),
        )

    def fulfil(
        self, incident_id: UUID, number: int, recipients: tuple[str, ...], note: str, ctx: Context
    ) -> Pending:
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
    ) -> Pending:
        return self._update(
            incident_id, ctx, lambda i, _: i.correct(fact, number, value, reason, *at(ctx))
        )

    def close_incident(
        self, incident_id: UUID, outcome: str, release_all: bool, ctx: Context
    ) -> Pending:
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
        positioned = self._positioned_events(incident_id)
        audience = audience_of([e for e, _ in positioned])
        if not positioned or (agency is not None and agency not in audience.parties()):
            raise IncidentNotFound(f"no incident {incident_id}")
        return positioned, audience

    def _positioned_events(self, incident_id: UUID) -> list[tuple[Any, int]]:
        """Each event with its log position, from one read: an event written meanwhile is
        either in it with its position or not in it at all."""
        rows = cast(IdempotentRecorder, self.recorder).positioned_events(incident_id)
        return [
            (self.mapper.to_domain_event(StoredEvent(incident_id, v, topic, state)), position)
            for position, v, topic, state in rows
        ]

    def differing_snapshots(self, incident_id: UUID) -> list[int]:
        """Versions of the incident's snapshots that do not hold the state its events give.
        Every later command is checked against a snapshot, and snapshots are not sealed, so
        an auditor checks them against the (sealed) events: one replay, compared on the way."""
        assert self.snapshots is not None
        stored = self.snapshots.recorder.select_events(incident_id)
        snapshots = {s.originator_version: s for s in stored}
        differing, incident = [], None
        for event, _ in self._positioned_events(incident_id):
            incident = event.mutate(incident)
            snapshot = snapshots.pop(event.originator_version, None)
            if snapshot and not self._holds(snapshot, Incident.Snapshot.take(incident)):
                differing.append(event.originator_version)
        return sorted([*differing, *snapshots])  # left over: versions no event reached

    def _holds(self, snapshot: StoredEvent, taken: Incident.Snapshot) -> bool:
        """Whether the stored snapshot loads into the state just taken, upcast from an older
        class_version as a load does. One too old to upcast misleads no command (loads pass
        over it, as after every upgrade); one that does not load otherwise was changed.
        Compared encoded, as JSON values: an upcast may add keys in another order."""
        try:
            loaded = cast(Incident.Snapshot, self.mapper.to_domain_event(snapshot)).mutate(None)
        except OutdatedSnapshot:
            return True
        except Exception:  # any other failure to load is a finding, not an error
            return False
        return self._encoded(Incident.Snapshot.take(loaded).state) == self._encoded(taken.state)

    def _encoded(self, state: dict[str, Any]) -> object:
        return json.loads(self.mapper.transcoder.encode(state))

    def load(self, incident_id: UUID) -> Incident:
        """The incident as stored: from its newest snapshot and the events after it, or from
        every event when that snapshot is unusable. A snapshot only saves replaying, so one
        corrupted, or taken by an older ``Incident.class_version`` that its upcaster cannot
        bring up to date, must not make its incident unloadable."""
        snapshotted = self._from_snapshot(incident_id)
        after = snapshotted.version if snapshotted else None
        incident = replayed(snapshotted, self.events.get(incident_id, gt=after))
        if incident is None:
            raise IncidentNotFound(f"no incident {incident_id}")
        return incident

    def _from_snapshot(self, incident_id: UUID) -> Incident | None:
        assert self.snapshots is not None
        newest = self.snapshots.recorder.select_events(incident_id, desc=True, limit=1)
        return restored(self.mapper, newest[0]) if newest else None

    # -- writing ----------------------------------------------------------------------------

    def _create(self, incident_id: UUID, ctx: Context, create: Callable[[], Incident]) -> Pending:
        return self._submit(Job(incident_id, ctx, create=create))

    def _update(self, incident_id: UUID, ctx: Context, command: Command) -> Pending:
        return self._submit(Job(incident_id, ctx, command=command))

    def _submit(self, job: Job) -> Pending:
        with self._open_lock:
            if not self._open:
                raise RuntimeError("the ledger is closed")
            self._jobs.put(job)
        return job.done

    def _write(self) -> None:
        """The writer thread: takes every job waiting (up to a batch) and writes them."""
        while (first := self._jobs.get()) is not None:
            jobs = [first]
            while len(jobs) < BATCH and not self._jobs.empty():
                if (job := self._jobs.get()) is None:
                    self._jobs.put(None)  # write these, then stop
                    break
                jobs.append(job)
            try:
                self._write_batch(jobs)
            except Exception as error:  # a fault here must not leave any caller waiting
                log.exception("the writer failed a batch")
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(error)

    def _write_batch(self, jobs: list[Job]) -> None:
        self._catch_up({job.incident_id for job in jobs if job.command})
        answered = self._answered(jobs)  # after the states were read: see _catch_up
        batch: list[Prepared] = []
        taken: set[object] = set()
        for number, job in enumerate(jobs):
            if not job.done.set_running_or_notify_cancel():
                continue  # its caller went away before it started: it is not run
            if not taken.isdisjoint(job.scopes()):
                self._store(batch)
                batch, taken = [], set()
                answered = self._answered(jobs[number:])  # a twin's key may be stored now
            taken |= job.scopes()
            if prepared := self._prepare(job, answered):
                batch.append(prepared)
        self._store(batch)

    def _catch_up(self, incident_ids: set[UUID]) -> None:
        """Put the batch's incidents in memory at the newest state, before its keys are
        looked up: commands, refusals and If-Match checks are judged on the newest state, a
        stale save does not send the whole batch back to be stored one by one, and a retry
        whose original another process stored (events and key in one transaction) is found
        by its key rather than refused by the state the original made. Those held are
        brought up to date with one query for the batch; the others are loaded."""
        self._apply_newer_events(self._held_versions(incident_ids))
        for incident_id in incident_ids - self._held_versions(incident_ids).keys():
            with suppress(Exception):  # not found, or unreadable: its job's own load says so
                self._recent.put(incident_id, self.load(incident_id))

    def _held_versions(self, incident_ids: set[UUID]) -> dict[UUID, int]:
        held = {}
        for incident_id in incident_ids:
            with suppress(KeyError):
                held[incident_id] = self._recent.get(incident_id).version
        return held

    def _apply_newer_events(self, held: dict[UUID, int]) -> None:
        """What other processes stored since, applied to the copies held. One that cannot be
        brought up to date is dropped (and loaded)."""
        if not held:
            return
        newer = cast(IdempotentRecorder, self.recorder).events_after(held)
        for incident_id, events in groupby(newer, key=lambda stored: stored.originator_id):
            behind = self._recent.get(incident_id, evict=True)
            try:
                current = replayed(behind, map(self.mapper.to_domain_event, events))
            except Exception:  # the load that follows meets the same fault, for one command
                log.exception("could not bring %s up to date in memory", incident_id)
                continue
            self._recent.put(incident_id, current)

    def _answered(self, jobs: list[Job]) -> Answered:
        """The records of the jobs' Idempotency-Keys that were used before: one query."""
        keys = [(i.agency, i.key) for job in jobs if (i := job.ctx.idempotency)]
        if not keys:
            return {}
        found = cast(IdempotentRecorder, self.recorder).find_idempotencies(keys)
        return {(record.agency, record.key): record for record in found}

    def _prepare(self, job: Job, answered: Answered | None = None) -> Prepared | None:
        """Run the job's command, or settle the job if it needs no store: answered before
        (its key's record) or refused. ``answered``: the batch's keys; None for a job run
        alone, whose incident and then key are read now (in that order: see _catch_up)."""
        try:
            if answered is None:
                self._catch_up({job.incident_id} if job.command else set())
                answered = self._answered([job])
            if earlier := self._replay(job.ctx.idempotency, answered):
                job.done.set_result(earlier)
                return None
            return Prepared(job, self._created(job) if job.create else self._commanded(job))
        except Exception as error:
            job.done.set_exception(error)
            return None

    def _created(self, job: Job) -> Incident:
        assert job.create
        if job.ctx.expected_version is not None:
            # If-Match names a version of the incident to change: a new one matches none.
            raise VersionMismatch("a new incident has no version to match; drop If-Match")
        return job.create()

    def _commanded(self, job: Job) -> Incident:
        assert job.command
        incident = self._incident(job.incident_id, job.ctx.actor.agency)
        expected = job.ctx.expected_version
        if expected is not None and incident.version != expected:
            raise VersionMismatch(f"incident is at version {incident.version}, not {expected}")
        job.command(incident, self.book(job.ctx.occurred_at))
        return incident

    def _incident(self, incident_id: UUID, agency: str) -> Incident:
        """Taken out of memory (the command changes it; it goes back only once stored, so
        after a collision it is loaded from the store), or loaded."""
        try:
            return check_party(self._recent.get(incident_id, evict=True), agency)
        except KeyError:
            return self._visible_incident(incident_id, agency)

    def _store(self, batch: list[Prepared]) -> None:
        """One transaction for the batch. A collision stores none of it (another process
        wrote one of its incidents, or an incident or key already exists): then each job is
        run and stored on its own."""
        if not batch:
            return
        try:
            written = self._save(batch)
        except IntegrityError:
            for prepared in batch:
                self._store_alone(prepared.job)
            return
        except Exception as error:
            for prepared in batch:
                prepared.job.done.set_exception(error)
            return
        for prepared, answer in zip(batch, written, strict=True):
            prepared.job.done.set_result(answer)

    def _store_alone(self, job: Job) -> None:
        """Against the store's newest state, so every rule is checked again; with If-Match
        the caller asked for exactly one version, so a collision is its answer."""
        for _ in range(self._retries):
            if not (prepared := self._prepare(job)):
                return
            try:
                [answer] = self._save([prepared])
            except IntegrityError:
                if not self._settle_collision(job):
                    continue
            except Exception as error:
                job.done.set_exception(error)
            else:
                job.done.set_result(answer)
            return
        job.done.set_exception(ConcurrentModification(f"gave up after {self._retries} collisions"))

    def _settle_collision(self, job: Job) -> bool:
        """Answer a job whose own save collided, unless running it again could succeed.
        Twins in different processes meet at their key's unique row: the loser answers with
        the winner's record."""
        try:
            if twin := self._replay(job.ctx.idempotency, self._answered([job])):
                job.done.set_result(twin)
            elif job.create:
                agency = job.ctx.actor.agency
                job.done.set_exception(DuplicateIncident(f"{agency} already has this case number"))
            elif job.ctx.expected_version is not None:
                job.done.set_exception(VersionMismatch("another write reached the incident first"))
            else:
                return False
        except Exception as error:
            job.done.set_exception(error)
        return True

    def _replay(self, idempotency: Idempotency | None, answered: Answered) -> Written | None:
        """The first answer to this key; a key used for another request is refused."""
        if idempotency is None:
            return None
        record = answered.get((idempotency.agency, idempotency.key))
        if record is None:
            return None
        if record.request_hash != idempotency.request_hash:
            raise IdempotencyKeyReused(f"key {idempotency.key} was used for another request")
        position = cast(IdempotentRecorder, self.recorder).position_of(
            record.incident_id, record.version
        )
        return Written(record.incident_id, record.version, position)

    def _visible_incident(self, incident_id: UUID, agency: str) -> Incident:
        return check_party(self.load(incident_id), agency)

    def _save(self, batch: list[Prepared]) -> list[Written]:
        records = [record_of(p) for p in batch if p.job.ctx.idempotency]
        recordings = self.save(*(p.incident for p in batch), idempotency=records)
        positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
        for prepared in batch:
            self._recent.put(prepared.incident.id, prepared.incident)
        self.on_saved(max(positions.values()))
        return [Written(p.incident.id, p.incident.version, positions[p.incident.id]) for p in batch]

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save (one transaction), then the snapshots due."""
        recordings = super().save(*objs, **kwargs)
        self._snapshot([o for o in objs if isinstance(o, Incident)], recordings)
        return recordings

    def _snapshot(self, stored: list[Incident], recordings: list[Recording[UUID]]) -> None:
        """Every tenth event an incident's state is snapshotted, from the state just stored,
        so that a process without it in memory loads the newest snapshot and replays at most
        nine events after it. A snapshot only saves replaying: failing to store one must not
        fail the commands, whose events are stored."""
        assert self.snapshots is not None
        first = {
            r.domain_event.originator_id: r.domain_event.originator_version
            for r in recordings[::-1]
        }
        due = [
            Incident.Snapshot.take(incident)
            for incident in stored
            if incident.id in first
            and (first[incident.id] - 1) // SNAPSHOT_EVERY < incident.version // SNAPSHOT_EVERY
        ]
        try:
            if due:
                self.snapshots.put(due)
        except Exception:
            log.exception("no snapshots of %s", [s.originator_id for s in due])


def replayed(incident: Incident | None, events: Iterable[object]) -> Incident | None:
    for event in cast(Iterable[Incident.Event], events):
        incident = event.mutate(incident)
    return incident


def restored(mapper: Mapper[UUID], stored: StoredEvent) -> Incident | None:
    try:
        return cast(Incident.Snapshot, mapper.to_domain_event(stored)).mutate(None)
    except OutdatedSnapshot as outdated:  # an upgrade's expected case, not a fault
        log.info(
            "snapshot of %s at version %s not used (%s); replaying the events instead",
            stored.originator_id,
            stored.originator_version,
            outdated,
        )
        return None
    except Exception:  # whatever is wrong with a snapshot, the events still hold the truth
        log.exception(
            "snapshot of %s at version %s unusable; replaying the events instead",
            stored.originator_id,
            stored.originator_version,
        )
        return None


def record_of(prepared: Prepared) -> IdempotencyRecord:
    idempotency, incident = prepared.job.ctx.idempotency, prepared.incident
    assert idempotency
    key = (idempotency.agency, idempotency.key, idempotency.request_hash)
    return IdempotencyRecord(*key, incident.id, incident.version)


def check_party(incident: Incident, agency: str) -> Incident:
    """Not a party: not found, so that whether the incident exists does not leak."""
    if not incident.is_party(agency):
        raise IncidentNotFound(f"no incident {incident.id}")
    return incident


def at(ctx: Context) -> tuple[Actor, datetime]:
    return ctx.actor, ctx.occurred_at
