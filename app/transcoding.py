"""How the domain's events and value objects are written into and read from the log, and
the incident's state into its snapshots.

The stored form is a plain JSON object per value, named by class: renaming a field of a value
type is a schema change and needs an upcaster on the events that carry it. A snapshot is not
history: one that no longer decodes can be deleted, and loading replays the events instead.
"""

import dataclasses
import typing
from collections import Counter
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding

from domain.obligations import ObligationState
from domain.requests import AssistanceRequest
from domain.values import EVENT_VALUE_TYPES, Deployment


class DataclassAsDict(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__
        self._coercions = _coercions(cls)

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**{k: self._coercions.get(k, _same)(v) for k, v in data.items()})


class TypedEventMapper(Mapper[UUID]):
    """Restores an event's own fields to their declared types, as DataclassAsDict does for
    the values inside it, so an event read back equals the event saved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coercions: dict[type[Any], dict[str, typing.Callable[[Any], Any]]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        cls = type(event)
        if cls not in self._coercions:
            self._coercions[cls] = _coercions(cls)
        fields = vars(event)
        for name, coerce in self._coercions[cls].items():
            if name in fields:
                fields[name] = coerce(fields[name])
        return event


class SetAsSortedList(Transcoding):
    type = set
    name = "set"

    def encode(self, obj: set[Any]) -> list[Any]:
        return sorted(obj)

    def decode(self, data: list[Any]) -> set[Any]:
        return set(data)


# The aggregate's own mutable parts, which only snapshots store.
SNAPSHOT_STATE_TYPES = (AssistanceRequest, Deployment, ObligationState)


def register_value_types(transcoder: JSONTranscoder) -> None:
    for cls in (*EVENT_VALUE_TYPES, *SNAPSHOT_STATE_TYPES):
        transcoder.register(DataclassAsDict(cls))
    transcoder.register(SetAsSortedList())


def _same(value: Any) -> Any:
    return value


def _coercions(cls: type[Any]) -> dict[str, typing.Callable[[Any], Any]]:
    """JSON turns tuples into lists, enums into strings and counters into plain objects;
    turn them back."""
    coercions: dict[str, typing.Callable[[Any], Any]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        if isinstance(hint, type) and issubclass(hint, Enum):
            coercions[name] = hint
        elif typing.get_origin(hint) in (tuple, Counter):
            coercions[name] = typing.get_origin(hint)
    return coercions
