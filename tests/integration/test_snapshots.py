"""Loading an incident: a long one loads from its latest snapshot and the events after it, into
exactly the state that replaying every event gives, at every version; auditors find a changed
snapshot."""

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import is_dataclass, replace
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.application import project_aggregate
from typer.testing import CliRunner

from app.cli import cli
from app.ledger import Context, MutualAidLedger
from app.services import Services, build_services
from app.settings import Settings
from domain.corrections import Correctable
from domain.errors import InvalidCommand
from domain.incident import Incident
from domain.policy import PolicyViolation
from domain.values import Actor
from tests.scenarios import (
    REQUESTER,
    RESPONDER,
    T0,
    ask,
    every_kind_of_event,
    open_incident,
    partial_response,
    snapshot_versions,
)


def state(incident: Any) -> Any:
    return typed({k: v for k, v in vars(incident).items() if k != "_pending_events"})


def typed(value: Any) -> Any:
    """``value`` with the type of every part beside it: an enum must not come back as its
    string, a Counter as a dict, nor an integer key as text, though each compares equal."""
    if is_dataclass(value):
        return type(value).__name__, typed(vars(value))
    if isinstance(value, dict):
        parts = {(type(k).__name__, k): typed(v) for k, v in value.items()}
        return type(value).__name__, parts
    if isinstance(value, list | tuple | set):
        items = [typed(v) for v in value]
        return type(value).__name__, sorted(items, key=repr) if isinstance(value, set) else items
    return type(value).__name__, value


def replayed(ledger: MutualAidLedger, incident: Any, version: int) -> Any:
    return project_aggregate(None, ledger.events.get(incident, lte=version))


def test_a_snapshotted_incident_loads_into_the_state_replay_gives(services: Services) -> None:
    ledger = services.ledger
    every_kind_of_event(ledger, "S-1")
    incident = Incident.create_id("KPD", "S-1")
    last: int = ledger.repository.get(incident).version

    # one for every ten events, taken when a command's events reach a multiple of ten
    assert [v // 10 for v in snapshot_versions(ledger, incident)] == list(range(1, last // 10 + 1))
    for version in range(1, last + 1):
        loaded: Incident = ledger.repository.get(incident, version=version)
        assert state(loaded) == state(replayed(ledger, incident, version)), version


def test_a_process_that_never_saw_the_incident_loads_it_from_the_snapshot(
    settings: Settings, services: Services
) -> None:
    every_kind_of_event(services.ledger, "S-2")
    incident = Incident.create_id("KPD", "S-2")
    expected = state(replayed(services.ledger, incident, 10_000))

    fresh = build_services(settings)
    try:
        events_read: list[int] = []
        read = fresh.ledger.events.get

        def counting(*args: Any, **kwargs: Any) -> Any:
            events = list(read(*args, **kwargs))
            events_read.extend(e.originator_version for e in events)
            return events

        fresh.ledger.events.get = counting  # type: ignore[method-assign]
        loaded: Incident = fresh.ledger.repository.get(incident)
    finally:
        fresh.close()

    assert state(loaded) == expected
    assert events_read
    assert min(events_read) > max(snapshot_versions(services.ledger, incident))


def test_a_snapshot_that_cannot_be_stored_does_not_fail_the_command(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = services.ledger
    assert ledger.snapshots is not None

    def refuse(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ledger.snapshots, "put", refuse)
    every_kind_of_event(ledger, "S-3")
    incident = Incident.create_id("KPD", "S-3")

    assert snapshot_versions(ledger, incident) == []
    assert ledger.repository.get(incident).version > 10


@pytest.mark.usefixtures("cli_environment")
def test_a_changed_or_forged_snapshot_is_found_against_the_events(
    settings: Settings, services: Services
) -> None:
    ledger = services.ledger
    assert ledger.snapshots is not None
    every_kind_of_event(ledger, "S-4")
    incident = Incident.create_id("KPD", "S-4")
    assert ledger.differing_snapshots(incident) == []
    first = snapshot_versions(ledger, incident)[0]
    change_stored_snapshot(settings, first, b'"status":"open"', b'"status":"closed"')
    forged = Incident.Snapshot.take(ledger.repository.get(incident))
    ledger.snapshots.put([replace(forged, originator_version=999)])

    assert ledger.differing_snapshots(incident) == [first, 999]
    run = CliRunner().invoke(cli, ["verify-snapshots"])
    assert run.exit_code == 1
    assert f"incident {incident}, snapshots at versions [{first}, 999]" in run.output


@pytest.mark.parametrize("unusable", ["garbled", "from an older class version"])
def test_an_unusable_snapshot_is_passed_over_and_every_event_replayed(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch, unusable: str
) -> None:
    every_kind_of_event(services.ledger, "S-5")
    incident = Incident.create_id("KPD", "S-5")
    newest = snapshot_versions(services.ledger, incident)[-1]
    if unusable == "garbled":
        change_stored_snapshot(settings, newest, b'"status":', b'"status"')
    else:  # the class changed, and no upcaster was written for the old snapshots
        monkeypatch.setattr(Incident, "class_version", Incident.class_version + 1)
    expected = state(replayed(services.ledger, incident, 10_000))

    fresh = build_services(settings)
    try:
        loaded = fresh.ledger.load(incident)
        when = Context(REQUESTER, T0 + timedelta(hours=2))
        fact, reason = Correctable.NATURE, "recount"
        corrected = fresh.ledger.correct(incident, fact, None, "Riots", reason, when).result()
        differing = fresh.ledger.differing_snapshots(incident)
    finally:
        fresh.close()

    assert state(loaded) == expected
    assert corrected.version == loaded.version + 1
    assert newest in differing


@pytest.mark.parametrize("older", [1, 2])
def test_a_snapshot_before_version_3_is_passed_over_for_the_events(
    settings: Settings,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    older: int,
) -> None:
    """Neither keeps the time of the incident's latest step, and corrections leave no other
    trace of theirs: only the events say it, so the load replays them, and a close dated
    before the latest correction is refused as it is without the snapshot. That is what an
    upgrade leaves, not tampering: said at INFO, not listed for auditors. The Sheriff's policy
    (generic) owes nothing for a request, so a version 1 snapshot was upcast before."""
    caplog.set_level("INFO", logger="app.ledger")
    ledger, when = services.ledger, Context(RESPONDER, T0 + timedelta(hours=1))
    incident = open_incident(ledger, "S-6", RESPONDER, asked="PPPD")
    for n in range(9):  # the tenth event is snapshotted
        ledger.correct(incident, Correctable.NATURE, None, f"Riot {n}", "recount", when).result()
    [version] = snapshot_versions(ledger, incident)
    rewrite_stored_snapshot(settings, version, {1: as_version_1, 2: as_version_2}[older])
    early = Context(RESPONDER, T0 + timedelta(minutes=30))

    with closing(build_services(settings)) as fresh:
        loaded = fresh.ledger.load(incident)
        refused = fresh.ledger.close_incident(incident, "dispersed", True, early)
        with pytest.raises(InvalidCommand, match="before the incident's latest step"):
            refused.result()
        differing = fresh.ledger.differing_snapshots(incident)

    assert state(loaded) == state(replayed(ledger, incident, 10_000))
    said = [
        r for r in caplog.records if f"snapshot of {incident} at version {version}" in r.message
    ]
    assert {(r.levelname, "not used" in r.message) for r in said} == {("INFO", True)}
    assert differing == []


def test_a_version_1_snapshot_with_a_response_is_passed_over_for_the_events(
    settings: Settings, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the events say when its response was recorded: the load replays them, so a
    correction dated before that response is refused as it is without the snapshot. That is
    what an upgrade leaves, not tampering: said once at INFO, not listed for auditors."""
    caplog.set_level("INFO", logger="app.ledger")
    every_kind_of_event(services.ledger, "S-7")
    incident = Incident.create_id("KPD", "S-7")
    newest = snapshot_versions(services.ledger, incident)[-1]
    rewrite_stored_snapshot(settings, newest, as_version_1)
    early = Context(RESPONDER, T0 + timedelta(seconds=30))  # the response came at T0 + 1 min

    with closing(build_services(settings)) as fresh:
        loaded = fresh.ledger.load(incident)
        refused = fresh.ledger.correct(incident, Correctable.RESPONSE_FACTS, 1, "x", "typo", early)
        with pytest.raises(InvalidCommand, match=r"before response\.facts occurred"):
            refused.result()
        differing = fresh.ledger.differing_snapshots(incident)

    assert state(loaded) == state(replayed(services.ledger, incident, 10_000))
    said = [r for r in caplog.records if f"snapshot of {incident} at version {newest}" in r.message]
    assert said  # once per load: the test's, and the correction's
    assert {(r.levelname, "not used" in r.message) for r in said} == {("INFO", True)}
    assert differing == []


def test_a_version_1_snapshot_with_an_approval_is_passed_over_for_the_events(
    settings: Settings, services: Services
) -> None:
    """Only the events say when the request was approved: a response dated before that is
    refused as it is without the snapshot (Kenosha IV.A)."""
    ledger, officer = services.ledger, Actor("KPD", "Ofc. Ann Lee", "officer", "520")
    incident = open_incident(ledger, "S-8", officer)
    ledger.approve(incident, 1, Context(REQUESTER, T0 + timedelta(minutes=1))).result()
    later = Context(officer, T0 + timedelta(minutes=2))
    for n in range(8):  # to version 10, where the snapshot is taken
        ledger.correct(incident, Correctable.NATURE, None, f"Riot {n}", "recount", later).result()
    [version] = snapshot_versions(ledger, incident)
    rewrite_stored_snapshot(settings, version, as_version_1)
    early = Context(RESPONDER, T0 + timedelta(seconds=30))

    with closing(build_services(settings)) as fresh:
        loaded = fresh.ledger.load(incident)
        with pytest.raises(PolicyViolation, match="approved"):
            fresh.ledger.respond(incident, 1, partial_response(), early).result()

    assert loaded.requests[1].approved_at == T0 + timedelta(minutes=1)
    assert state(loaded) == state(replayed(ledger, incident, 10_000))


def test_a_version_1_snapshot_with_an_obligation_is_passed_over_for_the_events(
    settings: Settings, services: Services
) -> None:
    """Only the events say when an obligation was owed: a notice dated before the request that
    owes it is refused as it is without the snapshot."""
    ledger, later = services.ledger, Context(REQUESTER, T0 + timedelta(hours=1))
    incident = open_incident(ledger, "S-9")
    ledger.request_assistance(incident, ask("PPPD"), later).result()  # owes notice 2
    for n in range(7):  # to version 10, where the snapshot is taken
        ledger.correct(incident, Correctable.NATURE, None, f"Riot {n}", "recount", later).result()
    [version] = snapshot_versions(ledger, incident)
    rewrite_stored_snapshot(settings, version, as_version_1)
    early = Context(REQUESTER, T0 + timedelta(minutes=30))

    with closing(build_services(settings)) as fresh:
        loaded = fresh.ledger.load(incident)
        refused = fresh.ledger.fulfil(incident, 2, (), "told", early)
        with pytest.raises(InvalidCommand, match="before obligation 2 was owed"):
            refused.result()

    assert loaded.obligations[2].owed_at == later.occurred_at
    assert state(loaded) == state(replayed(ledger, incident, 10_000))


def as_version_2(stored: bytes) -> bytes:
    """The stored snapshot as the code before ``Incident.class_version`` 3 wrote it."""
    snapshot = json.loads(stored)
    state = snapshot["state"]
    state["class_version"] = 2
    del state["last_step_at"]
    for request in state["requests"]:
        del request["_data_"]["cancelled_at"], request["_data_"]["withdrawn_at"]
    return json.dumps(snapshot, separators=(",", ":")).encode()


def as_version_1(stored: bytes) -> bytes:
    """The stored snapshot as the code before ``Incident.class_version`` 2 wrote it."""
    snapshot = json.loads(as_version_2(stored))
    state = snapshot["state"]
    del state["class_version"], state["closed_at"]
    for request in state["requests"]:
        del request["_data_"]["responded_at"], request["_data_"]["approved_at"]
    for owed in state["obligations"]:
        del owed["_data_"]["owed_at"]
    return json.dumps(snapshot, separators=(",", ":")).encode()


def change_stored_snapshot(settings: Settings, version: int, old: bytes, new: bytes) -> None:
    """What an attacker with the owner's access could do; snapshot tables have no triggers."""

    def change(stored: bytes) -> bytes:
        assert old in stored
        return stored.replace(old, new)

    rewrite_stored_snapshot(settings, version, change)


def rewrite_stored_snapshot(
    settings: Settings, version: int, rewrite: Callable[[bytes], bytes]
) -> None:
    conn: Any
    if settings.database_url:
        conn, table, mark = (
            psycopg.connect(settings.database_url),
            "mutualaidledger_snapshots",
            "%s",
        )
    else:
        conn = sqlite3.connect(settings.data_dir / "events.sqlite")
        table, mark = "stored_snapshots", "?"
    with closing(conn):
        where = f"WHERE originator_version = {mark}"
        [(state,)] = conn.execute(f"SELECT state FROM {table} {where}", (version,)).fetchall()
        changed = rewrite(bytes(state))
        conn.execute(f"UPDATE {table} SET state = {mark} {where}", (changed, version))
        conn.commit()
